// Package retentiontest is the contract of retention.Store: every store
// that prunes runs RunStoreTests against a store of its own.
package retentiontest

import (
	"fmt"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest/storetest"
	"github.com/assistbot/assistbot/core/retention"
)

// day is the unit of the suite's history.
const day = 24 * time.Hour

// RunStoreTests is the contract of retention.Store. open returns a new,
// empty store for each subtest, closed when the test ends; it must
// implement retention.Store.
func RunStoreTests(t *testing.T, open func(t *testing.T) core.Store) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, *fixture)
	}{
		{"PruneDeletesOnlyWhatIsPast", testPruneDeletesOnlyWhatIsPast},
		{"PruneInBatches", testPruneInBatches},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := open(t)
			p, ok := st.(retention.Store)
			if !ok {
				t.Fatalf("%T does not implement retention.Store", st)
			}
			c.run(t, &fixture{t: t, st: st, p: p})
		})
	}
}

// fixture is one subtest's store and the means to fill it.
type fixture struct {
	t  *testing.T
	st core.Store
	p  retention.Store
	n  int
}

func (f *fixture) id(prefix string) string {
	f.n++
	return fmt.Sprintf("%s-%04d", prefix, f.n)
}

// close closes the stored conversation c.
func (f *fixture) close(c *core.Conversation) {
	f.t.Helper()
	stored, err := f.st.FindConversation(f.t.Context(), c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	stored.State = core.ConversationClosed
	if err := f.st.UpdateConversation(f.t.Context(), stored); err != nil {
		f.t.Fatalf("UpdateConversation: %v", err)
	}
	*c = *stored
}

// conversation stores a conversation of customer (none when zero) in
// state, last updated at updated.
func (f *fixture) conversation(customer core.Endpoint, state core.ConversationState, updated time.Time) *core.Conversation {
	f.t.Helper()
	c := &core.Conversation{ID: f.id("conv"), Customer: customer, CustomerName: "Ada",
		Desk: core.Endpoint{Channel: core.ChannelSlack, Address: "C0DESK"}, Locale: "en",
		State: core.ConversationOpen, CreatedAt: updated.Add(-time.Hour), UpdatedAt: updated}
	if err := f.st.CreateConversation(f.t.Context(), c); err != nil {
		f.t.Fatalf("CreateConversation: %v", err)
	}
	if state == core.ConversationClosed {
		f.close(c)
	}
	return c
}

// session stores a session of c created at created, now in state, with
// an issue event, one event of where it went, and a sent delivery.
func (f *fixture) session(c *core.Conversation, state core.State, created time.Time) *core.Session {
	f.t.Helper()
	id := f.id("sess")
	s := storetest.NewSession(id, c.ID, fmt.Sprintf("30%04d", f.n), core.StateIssued, created)
	issue := storetest.NewEvent(s, core.ActionIssue, "", core.StateIssued, created)
	if err := f.st.CreateSession(f.t.Context(), &core.Change{Session: s, Events: []core.Event{issue}}); err != nil {
		f.t.Fatalf("CreateSession: %v", err)
	}
	d := &core.Delivery{SessionID: s.ID, ConversationID: c.ID, To: core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100001"},
		Notice: core.Notice{Kind: core.NoticeLink, SessionID: s.ID}, Status: core.DeliverySent,
		NextAttemptAt: created, CreatedAt: created, UpdatedAt: created}
	from := s.State
	s.State = state
	ev := storetest.NewEvent(s, core.ActionStart, from, state, created.Add(time.Minute))
	if err := f.st.UpdateSession(f.t.Context(), &core.Change{Session: s, Events: []core.Event{ev}, Deliveries: []*core.Delivery{d}}); err != nil {
		f.t.Fatalf("UpdateSession: %v", err)
	}
	return s
}

// message adds a message to c's transcript, with a delivery to its desk.
func (f *fixture) message(c *core.Conversation, at time.Time) *core.Message {
	f.t.Helper()
	m := &core.Message{ConversationID: c.ID, Direction: core.FromCustomer, Author: "Ada", Text: "hello", At: at}
	d := &core.Delivery{ConversationID: c.ID, To: c.Desk, Notice: core.Notice{Kind: core.NoticeText, ConversationID: c.ID, Text: "hello"},
		Status: core.DeliverySent, NextAttemptAt: at, CreatedAt: at, UpdatedAt: at}
	if err := f.st.AppendMessage(f.t.Context(), &core.MessageChange{Message: m, Deliveries: []*core.Delivery{d}}); err != nil {
		f.t.Fatalf("AppendMessage: %v", err)
	}
	return m
}

// prune prunes before before in batches of limit and returns the total.
func (f *fixture) prune(before time.Time, limit int) retention.Pruned {
	f.t.Helper()
	var total retention.Pruned
	for range 100 {
		n, err := f.p.Prune(f.t.Context(), before, limit)
		if err != nil {
			f.t.Fatalf("Prune: %v", err)
		}
		if n.Zero() {
			return total
		}
		total.Add(n)
	}
	f.t.Fatal("Prune never ran out of rows")
	return total
}

// gone reports whether the session with id is no longer stored, with
// nothing left of its events or deliveries.
func (f *fixture) gone(s *core.Session) bool {
	f.t.Helper()
	ctx := f.t.Context()
	_, err := f.st.FindSession(ctx, s.ID)
	if err == nil {
		return false
	}
	if core.ErrorCode(err) != core.CodeNotFound {
		f.t.Fatalf("FindSession(%s): %v", s.ID, err)
	}
	evs, err := f.st.FindEvents(ctx, s.ID)
	if err != nil {
		f.t.Fatalf("FindEvents(%s): %v", s.ID, err)
	}
	if len(evs) != 0 {
		f.t.Errorf("session %s is gone but %d of its events are left", s.ID, len(evs))
	}
	ds, err := f.st.FindDeliveries(ctx, core.DeliveryFilter{SessionID: s.ID})
	if err != nil {
		f.t.Fatalf("FindDeliveries(%s): %v", s.ID, err)
	}
	if len(ds) != 0 {
		f.t.Errorf("session %s is gone but %d of its deliveries are left", s.ID, len(ds))
	}
	return true
}

// kept fails the test unless the session is stored with both its events.
func (f *fixture) kept(what string, s *core.Session) {
	f.t.Helper()
	if _, err := f.st.FindSession(f.t.Context(), s.ID); err != nil {
		f.t.Errorf("%s: FindSession: %v", what, err)
		return
	}
	if evs, err := f.st.FindEvents(f.t.Context(), s.ID); err != nil || len(evs) != 2 {
		f.t.Errorf("%s: %d events (%v), want its 2", what, len(evs), err)
	}
}

// messages returns how many messages c's transcript holds.
func (f *fixture) messages(c *core.Conversation) int {
	f.t.Helper()
	ms, err := f.st.FindMessages(f.t.Context(), core.MessageFilter{ConversationID: c.ID})
	if err != nil {
		f.t.Fatalf("FindMessages: %v", err)
	}
	return len(ms)
}

func testPruneDeletesOnlyWhatIsPast(t *testing.T, f *fixture) {
	ctx := t.Context()
	old := storetest.At(time.Hour)
	before := storetest.At(90 * day)
	recent := storetest.At(91 * day)
	customer := core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100001"}

	// A closed conversation of long ago: it goes, with its sessions and
	// transcript, but the customer's STOP stays.
	closed := f.conversation(customer, core.ConversationOpen, old)
	f.message(closed, old)
	f.message(closed, old.Add(time.Minute))
	ended := f.session(closed, core.StateEnded, old)
	expired := f.session(closed, core.StateExpired, old)
	f.close(closed)
	if err := f.st.SetOptOut(ctx, customer, true, old); err != nil {
		t.Fatal(err)
	}
	// An open conversation of long ago keeps its transcript and its live
	// session, though its finished one goes.
	open := f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100002"}, core.ConversationOpen, old)
	f.message(open, old)
	live := f.session(open, core.StateActive, old)
	finished := f.session(open, core.StateClosed, old)
	// A closed conversation of long ago with a recent session stays.
	lingering := f.conversation(core.Endpoint{}, core.ConversationClosed, old)
	newer := f.session(lingering, core.StateEnded, recent)
	// A recently closed conversation stays, sessions and all.
	fresh := f.conversation(core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100003"}, core.ConversationOpen, recent)
	f.message(fresh, recent)
	freshSession := f.session(fresh, core.StateEnded, recent)
	f.close(fresh)

	// A session of long ago that changed recently (an expired one given
	// a new PIN, and expired again) stays, and so does a finished one
	// still waiting for a delivery.
	changed := f.session(open, core.StateExpired, old)
	changed.UpdatedAt = recent
	if err := f.st.UpdateSession(ctx, &core.Change{Session: changed}); err != nil {
		t.Fatal(err)
	}
	changed.Version++
	waiting := f.session(open, core.StateEnded, old)
	queued := &core.Delivery{SessionID: waiting.ID, ConversationID: open.ID, To: open.Desk,
		Notice: core.Notice{Kind: core.NoticeSession, SessionID: waiting.ID}, Status: core.DeliveryQueued,
		NextAttemptAt: recent, CreatedAt: old, UpdatedAt: old}
	if err := f.st.UpdateSession(ctx, &core.Change{Session: waiting, Deliveries: []*core.Delivery{queued}}); err != nil {
		t.Fatal(err)
	}

	got := f.prune(before, 100)
	want := retention.Pruned{Sessions: 3, Events: 6, Deliveries: 3 + 2, Conversations: 1, Messages: 2}
	if got != want {
		t.Errorf("pruned %+v, want %+v", got, want)
	}
	for _, s := range []*core.Session{ended, expired, finished} {
		if !f.gone(s) {
			t.Errorf("finished session %s (%s) of long ago is still stored", s.ID, s.State)
		}
	}
	f.kept("a live session of long ago", live)
	f.kept("a session of long ago that changed recently", changed)
	if _, err := f.st.FindSession(ctx, waiting.ID); err != nil {
		t.Errorf("a finished session waiting for a delivery: %v, want it kept", err)
	}
	f.kept("a recent session", newer)
	f.kept("a recent session", freshSession)
	if _, err := f.st.FindConversation(ctx, closed.ID); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("the closed conversation of long ago: %v, want not found", err)
	}
	if n := f.messages(closed); n != 0 {
		t.Errorf("the closed conversation of long ago left %d messages", n)
	}
	for _, c := range []*core.Conversation{open, lingering, fresh} {
		if _, err := f.st.FindConversation(ctx, c.ID); err != nil {
			t.Errorf("conversation %s (%s, updated %s): %v", c.ID, c.State, c.UpdatedAt, err)
		}
	}
	if n := f.messages(open); n != 1 {
		t.Errorf("the open conversation has %d messages, want its 1", n)
	}
	if n := f.messages(fresh); n != 1 {
		t.Errorf("the recent conversation has %d messages, want its 1", n)
	}
	if out, err := f.st.OptedOut(ctx, customer); err != nil || !out {
		t.Errorf("the customer's opt-out: %v, %v; want it kept", out, err)
	}
	// What is left can still be worked on: a new session in the open
	// conversation, and a second prune finds nothing more.
	f.session(open, core.StateEnded, recent)
	if again := f.prune(before, 100); !again.Zero() {
		t.Errorf("a second prune deleted %+v", again)
	}
}

func testPruneInBatches(t *testing.T, f *fixture) {
	c := f.conversation(core.Endpoint{}, core.ConversationOpen, storetest.At(0))
	var all []*core.Session
	for i := range 7 {
		all = append(all, f.session(c, core.StateEnded, storetest.At(time.Duration(i)*time.Minute)))
	}
	keep := f.session(c, core.StateEnded, storetest.At(200*day))
	n, err := f.p.Prune(t.Context(), storetest.At(100*day), 3)
	if err != nil {
		t.Fatal(err)
	}
	if n.Sessions != 3 || n.Events != 6 || n.Deliveries != 3 {
		t.Errorf("a batch of 3 pruned %+v, want 3 sessions with their 6 events and 3 deliveries", n)
	}
	rest := f.prune(storetest.At(100*day), 3)
	if rest.Sessions != 4 {
		t.Errorf("the next batches pruned %d sessions, want the 4 left", rest.Sessions)
	}
	for _, s := range all {
		if !f.gone(s) {
			t.Errorf("session %s is still stored", s.ID)
		}
	}
	f.kept("the session after the cut", keep)
}

package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

func sessionIDs(list []*core.Session) []string {
	ids := []string{}
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

func testFindSessions(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	ca, cb := f.conversation(core.Endpoint{}), f.conversation(core.Endpoint{})
	for _, c := range []*core.Conversation{ca, cb} {
		if err := f.st.CreateConversation(ctx, c); err != nil {
			t.Fatalf("CreateConversation: %v", err)
		}
	}
	// f3-b and f3-a are created at the same time, f3-b first: ties go by
	// id, descending, not by insertion.
	rows := []struct {
		id      string
		conv    string
		state   core.State
		created time.Duration
		expires time.Duration
	}{
		{"f1", ca.ID, core.StateIssued, 1 * time.Minute, 10 * time.Minute},
		{"f2", ca.ID, core.StateSent, 2 * time.Minute, 5 * time.Minute},
		{"f3-b", cb.ID, core.StateWaiting, 3 * time.Minute, 1 * time.Minute},
		{"f3-a", cb.ID, core.StateIssued, 3 * time.Minute, 4 * time.Minute},
		{"f5", ca.ID, core.StateExpired, 5 * time.Minute, 2 * time.Minute},
		{"f6", cb.ID, core.StateSent, 6 * time.Minute, 6 * time.Minute},
	}
	byID := map[string]*core.Session{}
	for i, r := range rows {
		s := NewSession(r.id, r.conv, fmt.Sprintf("60000%d", i), r.state, At(r.created))
		s.PINExpiresAt = At(r.expires)
		if err := f.st.CreateSession(ctx, &core.Change{Session: s}); err != nil {
			t.Fatalf("CreateSession(%s): %v", r.id, err)
		}
		byID[s.ID] = s
	}
	live := []core.State{core.StateIssued, core.StateSent}
	for _, c := range []struct {
		name   string
		filter core.SessionFilter
		want   []string
	}{
		{"all", core.SessionFilter{}, []string{"f6", "f5", "f3-b", "f3-a", "f2", "f1"}},
		{"issued", core.SessionFilter{States: []core.State{core.StateIssued}}, []string{"f3-a", "f1"}},
		{"live", core.SessionFilter{States: live}, []string{"f6", "f3-a", "f2", "f1"}},
		{"ended", core.SessionFilter{States: []core.State{core.StateEnded}}, []string{}},
		{"conversation", core.SessionFilter{ConversationID: ca.ID}, []string{"f5", "f2", "f1"}},
		{"conversation and states", core.SessionFilter{ConversationID: cb.ID,
			States: []core.State{core.StateIssued, core.StateWaiting}}, []string{"f3-b", "f3-a"}},
		{"unknown conversation", core.SessionFilter{ConversationID: "none"}, []string{}},
		// Only live PINs expire, and strictly before the bound.
		{"expires before", core.SessionFilter{ExpiresBefore: At(5 * time.Minute)}, []string{"f3-a"}},
		{"expires before, just after", core.SessionFilter{ExpiresBefore: At(5*time.Minute + time.Microsecond)},
			[]string{"f3-a", "f2"}},
		{"expires before, as the sweeper asks", core.SessionFilter{States: live, ExpiresBefore: At(time.Hour)},
			[]string{"f6", "f3-a", "f2", "f1"}},
		{"expires before and state", core.SessionFilter{States: []core.State{core.StateSent}, ExpiresBefore: At(time.Hour)},
			[]string{"f6", "f2"}},
		{"expires before and conversation", core.SessionFilter{ConversationID: ca.ID, ExpiresBefore: At(time.Hour)},
			[]string{"f2", "f1"}},
		{"limit", core.SessionFilter{Limit: 2}, []string{"f6", "f5"}},
	} {
		got, err := f.st.FindSessions(ctx, c.filter)
		if err != nil {
			t.Errorf("FindSessions(%s): %v", c.name, err)
			continue
		}
		wantSame(t, "FindSessions("+c.name+")", c.want, sessionIDs(got))
		for _, s := range got {
			wantSame(t, "FindSessions("+c.name+") "+s.ID, byID[s.ID], s)
		}
	}
}

func testFindSessionsLimit(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	c := f.conversation(core.Endpoint{})
	if err := f.st.CreateConversation(ctx, c); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	const n = 105
	var want []string // newest first
	for i := range n {
		s := NewSession(f.id("lim"), c.ID, fmt.Sprintf("7%05d", i), core.StateWaiting, At(time.Duration(i)*time.Second))
		if err := f.st.CreateSession(ctx, &core.Change{Session: s}); err != nil {
			t.Fatalf("CreateSession(%d): %v", i, err)
		}
		want = append([]string{s.ID}, want...)
	}
	for _, c := range []struct {
		limit, want int
	}{{0, 100}, {-1, 100}, {5, 5}, {101, 101}, {n + 10, n}} {
		got, err := f.st.FindSessions(ctx, core.SessionFilter{Limit: c.limit})
		if err != nil {
			t.Fatalf("FindSessions(limit %d): %v", c.limit, err)
		}
		wantSame(t, fmt.Sprintf("FindSessions(limit %d)", c.limit), want[:c.want], sessionIDs(got))
	}
}

func testEvents(t *testing.T, f *storeFixture) {
	a := f.issue("100001", core.StateIssued)
	b := f.issue("100002", core.StateIssued)
	a.State = core.StateSent
	chA := &core.Change{Session: a, Events: []core.Event{
		NewEvent(a, core.ActionSend, core.StateIssued, core.StateSent, At(time.Hour)),
		NewEvent(a, core.ActionSend, core.StateSent, core.StateSent, At(time.Hour+time.Microsecond)),
	}}
	f.update(chA)
	b.State = core.StateClosed
	chB := &core.Change{Session: b, Events: []core.Event{NewEvent(b, core.ActionClose, core.StateIssued, core.StateClosed, At(time.Hour))}}
	f.update(chB)
	a.State = core.StateWaiting
	chA2 := &core.Change{Session: a, Events: []core.Event{NewEvent(a, core.ActionJoin, core.StateSent, core.StateWaiting, At(2*time.Hour))}}
	f.update(chA2)

	evA, evB := f.findEvents(a.ID), f.findEvents(b.ID)
	if len(evA) != 4 || len(evB) != 2 {
		t.Fatalf("got %d and %d events, want 4 and 2", len(evA), len(evB))
	}
	issueA := NewEvent(a, core.ActionIssue, "", core.StateIssued, At(time.Minute))
	issueA.ID = evA[0].ID
	wantSame(t, "events of a", append([]core.Event{issueA}, append(chA.Events, chA2.Events...)...), evA)
	wantSame(t, "later events of b", chB.Events, evB[1:])
	// Ids grow in the order of writing, across sessions.
	order := []int64{evA[0].ID, evB[0].ID, evA[1].ID, evA[2].ID, evB[1].ID, evA[3].ID}
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] {
			t.Errorf("event ids in write order %v do not increase", order)
			break
		}
	}
	for _, e := range evA {
		wantUTC(t, "event", e.At)
	}
	if evs, err := f.st.FindEvents(t.Context(), "no-such-session"); err != nil || len(evs) != 0 {
		t.Errorf("FindEvents(unknown) = %v, %v; want none", evs, err)
	}
}

// testEventsAppendOnly checks that nothing a caller can do through the
// Store rewrites a logged event.
func testEventsAppendOnly(t *testing.T, f *storeFixture) {
	a := f.issue("100003", core.StateIssued)
	orig := f.findEvents(a.ID)
	got := f.findEvents(a.ID)
	got[0].Detail, got[0].To = "tampered", core.StateClosed
	wantSame(t, "events after changing a copy", orig, f.findEvents(a.ID))

	// Handing back a logged event, id and all, appends a new entry.
	ch := &core.Change{Session: a, Events: []core.Event{got[0]}}
	f.update(ch)
	after := f.findEvents(a.ID)
	if len(after) != 2 {
		t.Fatalf("got %d events, want 2", len(after))
	}
	wantSame(t, "first event", orig[0], after[0])
	if after[1].ID <= after[0].ID || after[1].ID != ch.Events[0].ID || after[1].Detail != "tampered" {
		t.Errorf("resubmitted event logged as %+v, want a new entry with a new id", after[1])
	}
}

func testStats(t *testing.T, f *storeFixture) {
	want := map[core.State]int{core.StateIssued: 2, core.StateSent: 1, core.StateWaiting: 1, core.StateClosed: 1}
	i := 0
	var last *core.Session
	for st, n := range want {
		for range n {
			i++
			last = f.issue(fmt.Sprintf("80000%d", i), st)
		}
	}
	sent := newDelivery(last, At(time.Minute))
	sent.Status = core.DeliverySent
	f.update(&core.Change{Session: last, Deliveries: []*core.Delivery{
		newDelivery(last, At(time.Minute)), newDelivery(last, At(time.Hour)), newDelivery(last, At(time.Minute)), sent,
	}})
	got, err := f.st.Stats(t.Context())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	for _, st := range core.States {
		if got.Sessions[st] != want[st] {
			t.Errorf("Stats: %d sessions %s, want %d", got.Sessions[st], st, want[st])
		}
	}
	if got.QueuedDeliveries != 3 {
		t.Errorf("Stats: %d queued deliveries, want 3", got.QueuedDeliveries)
	}
}

func testPingAndClose(t *testing.T, f *storeFixture) {
	if err := f.st.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if err := f.st.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := f.st.Ping(t.Context()); err == nil {
		t.Errorf("Ping after Close succeeded")
	}
}

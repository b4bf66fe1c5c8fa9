package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// listFixture is a store holding sessions of several agents, customer
// channels and creation times, ties included, for the filters that list
// sessions a page at a time (the API's).
type listFixture struct {
	byID map[string]*core.Session
	// all is every session, newest first.
	all []string
	// convs are the conversations, by customer channel ("" for the one
	// without a customer).
	convs map[string]*core.Conversation
}

// Their ids sort in the order of the rows below, so that ties in the
// creation time, broken by id descending, are not broken by insertion.
var listRows = []struct {
	id      string
	channel string // the conversation's customer channel
	agent   string
	state   core.State
	created time.Duration // from Epoch; -1 for none (the zero time)
}{
	{"l01", "sms", "alice", core.StateEnded, 1 * time.Minute},
	{"l02", "web", "bob", core.StateClosed, 2 * time.Minute},
	{"l03", "sms", "alice", core.StateWaiting, 3 * time.Minute},
	{"l04", "sms", "bob", core.StateIssued, 3 * time.Minute},
	{"l05", "", "alice", core.StateSent, 3 * time.Minute},
	{"l06", "slack", "carol", core.StateExpired, 4 * time.Minute},
	{"l07", "web", "alice", core.StateActive, 5 * time.Minute},
	{"l08", "sms", "Alice", core.StateIssued, 5*time.Minute + time.Microsecond},
	{"l09", "sms", "alice", core.StateEnded, -1},
}

func newListFixture(t *testing.T, f *storeFixture) *listFixture {
	ctx := t.Context()
	lf := &listFixture{byID: map[string]*core.Session{}, convs: map[string]*core.Conversation{}}
	for i, ch := range []string{"sms", "web", "slack", ""} {
		var ep core.Endpoint
		if ch != "" {
			ep = core.Endpoint{Channel: ch, Address: fmt.Sprintf("list-%d", i)}
		}
		c := f.conversation(ep)
		if err := f.st.CreateConversation(ctx, c); err != nil {
			t.Fatalf("CreateConversation: %v", err)
		}
		lf.convs[ch] = c
	}
	for i, r := range listRows {
		base := At(r.created)
		if r.created < 0 {
			base = At(time.Hour) // for the other times
		}
		s := NewSession(r.id, lf.convs[r.channel].ID, fmt.Sprintf("61000%d", i), r.state, base)
		s.Agent = r.agent
		if r.created < 0 {
			s.CreatedAt = time.Time{}
		}
		if err := f.st.CreateSession(ctx, &core.Change{Session: s}); err != nil {
			t.Fatalf("CreateSession(%s): %v", r.id, err)
		}
		lf.byID[s.ID] = s
	}
	lf.all = []string{"l08", "l07", "l06", "l05", "l04", "l03", "l02", "l01", "l09"}
	return lf
}

// find runs FindSessions and checks that what it returns is the stored
// sessions, whole.
func (lf *listFixture) find(t *testing.T, f *storeFixture, name string, filter core.SessionFilter) []string {
	t.Helper()
	got, err := f.st.FindSessions(t.Context(), filter)
	if err != nil {
		t.Errorf("FindSessions(%s): %v", name, err)
		return nil
	}
	for _, s := range got {
		wantSame(t, "FindSessions("+name+") "+s.ID, lf.byID[s.ID], s)
	}
	return sessionIDs(got)
}

func testFindSessionsFilters(t *testing.T, f *storeFixture) {
	lf := newListFixture(t, f)
	at := At
	// after returns the cursor of the session with id.
	after := func(filter core.SessionFilter, id string) core.SessionFilter {
		filter.AfterCreatedAt, filter.AfterID = lf.byID[id].CreatedAt, id
		return filter
	}
	for _, c := range []struct {
		name   string
		filter core.SessionFilter
		want   []string
	}{
		{"all", core.SessionFilter{}, lf.all},
		// An agent's name is matched exactly: not "Alice".
		{"agent", core.SessionFilter{Agent: "alice"}, []string{"l07", "l05", "l03", "l01", "l09"}},
		{"unknown agent", core.SessionFilter{Agent: "mallory"}, []string{}},
		// The customer's channel; l05's conversation has no customer.
		{"channel", core.SessionFilter{Channel: "sms"}, []string{"l08", "l04", "l03", "l01", "l09"}},
		{"channel web", core.SessionFilter{Channel: "web"}, []string{"l07", "l02"}},
		{"channel nobody uses", core.SessionFilter{Channel: "discord"}, []string{}},
		// Since is inclusive, Until exclusive, to the microsecond.
		{"since", core.SessionFilter{Since: at(5 * time.Minute)}, []string{"l08", "l07"}},
		{"since, just after", core.SessionFilter{Since: at(5*time.Minute + time.Microsecond)}, []string{"l08"}},
		{"until", core.SessionFilter{Until: at(3 * time.Minute)}, []string{"l02", "l01", "l09"}},
		{"until, just after", core.SessionFilter{Until: at(3*time.Minute + time.Microsecond)},
			[]string{"l05", "l04", "l03", "l02", "l01", "l09"}},
		{"since and until", core.SessionFilter{Since: at(2 * time.Minute), Until: at(5 * time.Minute)},
			[]string{"l06", "l05", "l04", "l03", "l02"}},
		{"since after until", core.SessionFilter{Since: at(5 * time.Minute), Until: at(2 * time.Minute)}, []string{}},
		// After a session, ties in time go on by id, descending.
		{"after", after(core.SessionFilter{}, "l07"), []string{"l06", "l05", "l04", "l03", "l02", "l01", "l09"}},
		{"after, in a tie", after(core.SessionFilter{}, "l04"), []string{"l03", "l02", "l01", "l09"}},
		{"after the last of a tie", after(core.SessionFilter{}, "l03"), []string{"l02", "l01", "l09"}},
		{"after the oldest", after(core.SessionFilter{}, "l01"), []string{"l09"}},
		{"after the one without a time", after(core.SessionFilter{}, "l09"), []string{}},
		// The session a cursor names may be gone: its place stays.
		{"after a session that is not there", core.SessionFilter{AfterCreatedAt: at(3 * time.Minute), AfterID: "l04-gone"},
			[]string{"l04", "l03", "l02", "l01", "l09"}},
		{"after, and until", after(core.SessionFilter{Until: at(3 * time.Minute)}, "l07"), []string{"l02", "l01", "l09"}},
		{"after, with limit", after(core.SessionFilter{Limit: 2}, "l05"), []string{"l04", "l03"}},
		{"agent and channel", core.SessionFilter{Agent: "alice", Channel: "sms"}, []string{"l03", "l01", "l09"}},
		{"agent, channel and states", core.SessionFilter{Agent: "alice", Channel: "sms",
			States: []core.State{core.StateWaiting, core.StateIssued}}, []string{"l03"}},
		{"agent, after and since", after(core.SessionFilter{Agent: "alice", Since: at(time.Minute)}, "l05"), []string{"l03", "l01"}},
		{"channel and conversation", core.SessionFilter{Channel: "web", ConversationID: lf.convs["web"].ID}, []string{"l07", "l02"}},
		{"channel and another's conversation", core.SessionFilter{Channel: "sms", ConversationID: lf.convs["web"].ID}, []string{}},
		{"states and since", core.SessionFilter{States: []core.State{core.StateIssued, core.StateEnded}, Since: at(time.Minute)},
			[]string{"l08", "l04", "l01"}},
		// As of a time, a live PIN past its lifetime (20 minutes) is
		// expired and no longer issued or sent, as Session.Current says:
		// l04 and l05 expire at 23 minutes, l08 just after 25.
		{"as of, expired", core.SessionFilter{States: []core.State{core.StateExpired}, AsOf: at(24 * time.Minute)},
			[]string{"l06", "l05", "l04"}},
		{"as of, at the expiry", core.SessionFilter{States: []core.State{core.StateExpired}, AsOf: at(23 * time.Minute)},
			[]string{"l06", "l05", "l04"}},
		{"as of, just before it", core.SessionFilter{States: []core.State{core.StateExpired}, AsOf: at(23*time.Minute - time.Microsecond)},
			[]string{"l06"}},
		{"as of, issued", core.SessionFilter{States: []core.State{core.StateIssued, core.StateSent}, AsOf: at(24 * time.Minute)},
			[]string{"l08"}},
		// A page holds as many as match, however many live ones are newer.
		{"as of, finished, with limit", core.SessionFilter{States: []core.State{core.StateEnded, core.StateClosed, core.StateExpired},
			AsOf: at(24 * time.Minute), Limit: 3}, []string{"l06", "l05", "l04"}},
	} {
		wantSame(t, "FindSessions("+c.name+")", c.want, lf.find(t, f, c.name, c.filter))
	}
}

// testFindSessionsPages lists sessions a page at a time, each page after
// the last session of the one before, as the API's cursor does: the pages
// together are the whole list, in order, each session once.
func testFindSessionsPages(t *testing.T, f *storeFixture) {
	lf := newListFixture(t, f)
	for _, c := range []struct {
		name   string
		filter core.SessionFilter
		want   []string
	}{
		{"all", core.SessionFilter{}, lf.all},
		{"agent", core.SessionFilter{Agent: "alice"}, []string{"l07", "l05", "l03", "l01", "l09"}},
		{"channel", core.SessionFilter{Channel: "sms"}, []string{"l08", "l04", "l03", "l01", "l09"}},
		{"until", core.SessionFilter{Until: at3m()}, []string{"l02", "l01", "l09"}},
		// Several states are read a page of each, merged (see
		// core.StateParts); the cursor holds across them and their ties.
		{"finished as of 24 minutes", core.SessionFilter{States: core.FinishedStates, AsOf: At(24 * time.Minute)},
			[]string{"l06", "l05", "l04", "l02", "l01", "l09"}},
		{"live as of 24 minutes", core.SessionFilter{States: []core.State{core.StateIssued, core.StateSent,
			core.StateWaiting, core.StateActive}, AsOf: At(24 * time.Minute)}, []string{"l08", "l07", "l03"}},
		{"channel and two states", core.SessionFilter{Channel: "sms", States: []core.State{core.StateEnded, core.StateIssued}},
			[]string{"l08", "l04", "l01", "l09"}},
	} {
		for _, size := range []int{1, 2, 3} {
			name := fmt.Sprintf("%s, pages of %d", c.name, size)
			var got []string
			filter := c.filter
			filter.Limit = size
			for page := 0; page <= len(lf.all); page++ {
				ids := lf.find(t, f, name, filter)
				got = append(got, ids...)
				if len(ids) < size {
					break
				}
				last := lf.byID[ids[len(ids)-1]]
				filter.AfterCreatedAt, filter.AfterID = last.CreatedAt, last.ID
			}
			wantSame(t, "FindSessions("+name+")", c.want, got)
		}
	}
}

func at3m() time.Time { return At(3 * time.Minute) }

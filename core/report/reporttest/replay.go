package reporttest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/coretest/storetest"
	"github.com/assistbot/assistbot/core/report"
)

// RunReplayTests writes random histories through the store's
// write paths (CreateSession, UpdateSession with events of every kind in
// any order, hand-offs that change the agent, starts that change the
// technician, provider changes, conversations whose customer changes
// channel, sessions moved to another conversation, sessions never issued)
// and checks that each report the store answers is the one computed in Go
// from what the store returns of each session, its conversation and its
// event log (FindSession, FindConversation, FindEvents). A store that
// keeps a summary of each session for its reports must keep it right
// whichever way a session is written.
//
// The waits are compared to the microsecond, give or take one: a store
// may compute them in floating point (PostgreSQL's seconds as float8).
// legacy, when not nil, is another way the store computes a report,
// from its event log, whose rows must be exactly the same.
func RunReplayTests(t *testing.T, open func(t *testing.T) core.Store,
	legacy func(t *testing.T, st core.Store, q report.Query) []report.Row) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			st := open(t)
			rs, ok := st.(report.Store)
			if !ok {
				t.Fatalf("%T is not a report.Store", st)
			}
			f := &fixture{t: t, st: st, n: new(int)}
			ids := replayHistory(t, f, rand.New(rand.NewPCG(seed, 7)))
			for _, q := range replayQueries() {
				want := replayReport(t, st, ids, q)
				got, err := rs.Report(t.Context(), q)
				if err != nil {
					t.Fatalf("Report(%q): %v", q.Group, err)
				}
				if diff := gocmp.Diff(want, got, aboutMicro); diff != "" {
					t.Errorf("Report(%q, %d periods from %v) (-from the logs +store):\n%s",
						q.Group, len(q.Periods)-1, q.Periods[0], diff)
				}
				if legacy == nil {
					continue
				}
				if diff := gocmp.Diff(legacy(t, st, q), got); diff != "" {
					t.Errorf("Report(%q, %d periods from %v) (-from the event log in SQL +store):\n%s",
						q.Group, len(q.Periods)-1, q.Periods[0], diff)
				}
			}
		})
	}
}

// aboutMicro compares durations to the microsecond, give or take one.
var aboutMicro = gocmp.Comparer(func(a, b time.Duration) bool {
	d := a - b
	return -time.Microsecond <= d && d <= time.Microsecond
})

// replayStart is the first day of the replayed histories.
var replayStart = time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)

// replayQueries are the reports checked: by day and by a few hours (so
// that the bounds fall inside the histories), every grouping.
func replayQueries() []report.Query {
	var days, hours []time.Time
	for d := range 5 {
		days = append(days, replayStart.AddDate(0, 0, d-1))
	}
	for h := 0; h <= 60; h += 5 {
		hours = append(hours, replayStart.Add(time.Duration(h)*time.Hour))
	}
	var out []report.Query
	for _, g := range []report.Group{report.GroupNone, report.GroupAgent, report.GroupTechnician,
		report.GroupChannel, report.GroupProvider} {
		out = append(out, report.Query{Periods: days, Group: g}, report.Query{Periods: hours, Group: g})
	}
	return out
}

// replayActions are the actions a replayed history is made of: those
// reports count and some they do not.
var replayActions = []core.Action{core.ActionSend, core.ActionJoin, core.ActionStart, core.ActionEnd,
	core.ActionClose, core.ActionExpire, core.ActionRegenerate, core.ActionWatch, core.ActionShareStart}

// replayHistory writes random sessions and changes to f's store and
// returns the sessions' ids.
func replayHistory(t *testing.T, f *fixture, r *rand.Rand) []string {
	ctx := t.Context()
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	when := func() time.Time {
		// Anywhere in three days and a bit, to the microsecond.
		return replayStart.Add(time.Duration(r.Int64N(int64(75*time.Hour/time.Microsecond)))*time.Microsecond - 3*time.Hour)
	}
	var convs []*core.Conversation
	newConv := func() *core.Conversation {
		var ep core.Endpoint
		if ch := pick("", "sms", "web", "slack", "discord"); ch != "" {
			ep = core.Endpoint{Channel: ch, Address: f.id("replay")}
		}
		c := f.conversation(ep)
		convs = append(convs, c)
		return c
	}
	type live struct {
		s *core.Session
	}
	var sessions []*live
	for i := range 60 {
		ch := &core.Change{}
		var c *core.Conversation
		if len(convs) == 0 || r.IntN(3) > 0 {
			c = newConv()
			ch.Conversation = c
		} else {
			c = convs[r.IntN(len(convs))]
		}
		issued := when()
		s := storetest.NewSession(f.id("replay"), c.ID, fmt.Sprintf("73%04d", i), core.StateIssued, issued)
		s.Agent, s.Technician, s.Provider = pick("alice", "bob", "carol"), pick("", "tom"), pick("builtin", "meshcentral")
		ch.Session = s
		if r.IntN(12) > 0 { // a few sessions are never issued
			ch.Events = append(ch.Events, storetest.NewEvent(s, core.ActionIssue, "", core.StateIssued, issued))
		}
		for range r.IntN(3) {
			ch.Events = append(ch.Events, storetest.NewEvent(s, replayActions[r.IntN(len(replayActions))], "", "", when()))
		}
		if err := f.st.CreateSession(ctx, ch); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		sessions = append(sessions, &live{s})
	}
	for range 200 {
		l := sessions[r.IntN(len(sessions))]
		switch r.IntN(10) {
		case 0: // the customer's channel changes
			c, err := f.st.FindConversation(ctx, l.s.ConversationID)
			if err != nil {
				t.Fatalf("FindConversation: %v", err)
			}
			c.Customer = core.Endpoint{}
			if ch := pick("", "sms", "web"); ch != "" {
				c.Customer = core.Endpoint{Channel: ch, Address: f.id("replay")}
			}
			if err := f.st.UpdateConversation(ctx, c); err != nil {
				t.Fatalf("UpdateConversation: %v", err)
			}
			continue
		}
		s, err := f.st.FindSession(ctx, l.s.ID)
		if err != nil {
			t.Fatalf("FindSession: %v", err)
		}
		ch := &core.Change{Session: s}
		switch r.IntN(6) {
		case 0: // a hand-off
			s.Agent = pick("alice", "bob", "carol", "")
			ch.Events = append(ch.Events, storetest.NewEvent(s, core.ActionHandoff, s.State, s.State, when()))
		case 1: // a start, by a technician
			s.Technician = pick("tom", "ann")
			ch.Events = append(ch.Events, storetest.NewEvent(s, core.ActionStart, s.State, core.StateActive, when()))
		case 2: // an escalation to another provider, or a move to another conversation
			if r.IntN(2) == 0 {
				s.Provider = pick("builtin", "meshcentral")
			} else {
				s.ConversationID = convs[r.IntN(len(convs))].ID
			}
		}
		for range r.IntN(4) {
			ch.Events = append(ch.Events, storetest.NewEvent(s, replayActions[r.IntN(len(replayActions))], "", "", when()))
		}
		if err := f.st.UpdateSession(ctx, ch); err != nil {
			t.Fatalf("UpdateSession: %v", err)
		}
	}
	ids := make([]string, len(sessions))
	for i, l := range sessions {
		ids[i] = l.s.ID
	}
	return ids
}

// replayReport computes the report q of the sessions ids in Go, from
// what st returns of them, as report.Row defines its figures.
func replayReport(t *testing.T, st core.Store, ids []string, q report.Query) []report.Row {
	ctx := t.Context()
	type key struct {
		period int
		group  string
	}
	rows := map[key]*report.Row{}
	waits := map[key][2][]time.Duration{}
	for _, id := range ids {
		s, err := st.FindSession(ctx, id)
		if err != nil {
			t.Fatalf("FindSession: %v", err)
		}
		log, err := st.FindEvents(ctx, id)
		if err != nil {
			t.Fatalf("FindEvents: %v", err)
		}
		var issued, joined, started *time.Time
		var sent, expire, regenerate int
		var ended, closed bool
		first := func(p **time.Time, at time.Time) {
			if *p == nil || at.Before(**p) {
				*p = &at
			}
		}
		for i, e := range log {
			switch e.Action {
			case core.ActionIssue:
				first(&issued, e.At)
			case core.ActionJoin:
				first(&joined, e.At)
			case core.ActionStart:
				first(&started, e.At)
			case core.ActionSend:
				sent++
			case core.ActionEnd:
				ended = true
			case core.ActionClose:
				closed = true
			case core.ActionExpire:
				expire = i + 1
			case core.ActionRegenerate:
				regenerate = i + 1
			}
		}
		if issued == nil || issued.Before(q.Periods[0]) || !issued.Before(q.Periods[len(q.Periods)-1]) {
			continue
		}
		p := sort.Search(len(q.Periods), func(i int) bool { return q.Periods[i].After(*issued) }) - 1
		var g string
		switch q.Group {
		case report.GroupAgent:
			g = s.Agent
		case report.GroupTechnician:
			g = s.Technician
		case report.GroupProvider:
			g = s.Provider
		case report.GroupChannel:
			c, err := st.FindConversation(ctx, s.ConversationID)
			if err != nil {
				t.Fatalf("FindConversation: %v", err)
			}
			g = c.Customer.Channel
		}
		k := key{p, g}
		row := rows[k]
		if row == nil {
			row = &report.Row{Period: p, Group: g}
			rows[k] = row
		}
		row.Issued++
		row.LinksSent += sent
		w := waits[k]
		if joined != nil {
			row.Joined++
			w[0] = append(w[0], joined.Sub(*issued))
		}
		if started != nil {
			row.Started++
		}
		if joined != nil && started != nil {
			w[1] = append(w[1], started.Sub(*joined))
		}
		waits[k] = w
		if ended {
			row.Ended++
		}
		if closed {
			row.Closed++
		}
		if expire > regenerate {
			row.Expired++
		}
	}
	var out []report.Row
	for k, row := range rows {
		row.IssueToJoin, row.JoinToStart = coretest.Percentiles(waits[k][0]), coretest.Percentiles(waits[k][1])
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b report.Row) int {
		return cmp.Or(cmp.Compare(a.Period, b.Period), cmp.Compare(a.Group, b.Group))
	})
	return out
}

// SeedReplayHistory writes to st the random history of seed that
// RunReplayTests replays, for a store's own checks (of a backfill,
// say), and returns the reports to check it with.
func SeedReplayHistory(t *testing.T, st core.Store, seed uint64) []report.Query {
	replayHistory(t, &fixture{t: t, st: st, n: new(int)}, rand.New(rand.NewPCG(seed, 7)))
	return replayQueries()
}

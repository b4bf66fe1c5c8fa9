// Package reporttest is the contract every store that computes reports
// passes (report.Store): a fixed history whose figures are worked out by
// hand, and random histories replayed against the event log.
package reporttest

import (
	"fmt"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest/storetest"
	"github.com/assistbot/assistbot/core/report"
	"github.com/google/go-cmp/cmp"
)

// RunStoreTests is the contract of report.Store: open returns a
// new, empty store, which must be a report.Store, for each subtest.
// Every store is run against one history, written below with what each
// report of it must answer, computed by hand.
func RunStoreTests(t *testing.T, open func(t *testing.T) core.Store) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, report.Store)
	}{
		{"ByDay", testReportByDay},
		{"ByAgent", testReportByAgent},
		{"ByTechnician", testReportByTechnician},
		{"ByChannelWeekly", testReportByChannelWeekly},
		{"ByProvider", testReportByProvider},
		{"ShiftedPeriods", testReportShiftedPeriods},
		{"Empty", testReportEmpty},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := open(t)
			rs, ok := st.(report.Store)
			if !ok {
				t.Fatalf("%T is not a report.Store", st)
			}
			seedReportHistory(t, &fixture{t: t, st: st, n: new(int)})
			c.run(t, rs)
		})
	}
}

// reportDay returns 2025-03-10 (a Monday) plus day days, at h:m:s UTC.
func reportDay(day, h, m, s int) time.Time {
	return time.Date(2025, 3, 10+day, h, m, s, 0, time.UTC)
}

// reportEvent is one entry of a session's log in the report's history.
type reportEvent struct {
	action core.Action
	at     time.Time
}

// reportHistory is the sessions the report contract counts. Their logs
// are written whole, in order: the store's event ids follow it.
//
//	id   day  channel  agent  technician  provider     what happened (waits)
//	r01  0    sms      alice  tom         builtin      send, join +60s, start +30s, end, watch
//	r02  0    sms      alice  tom         builtin      send, send, join +180s, start +60s, end, share_start
//	r03  0    web      bob    -           builtin      join +20s, close (from waiting)
//	r04  0    web      bob    -           meshcentral  send, expire                     -> expired
//	r05  0    (none)   alice  ann         builtin      expire, regenerate, send, join +1920s
//	                                                   (from the issue), start +120s, end -> not expired
//	r06  0    sms      bob    -           builtin      issued 23:59:59.999999, closed the next day
//	r07  1    sms      alice  ann         builtin      issued 00:00:00, join +45s, start +90s, end
//	r08  1    web      carol  -           meshcentral  expire, regenerate, expire        -> expired
//	r09  -1   sms      alice  tom         builtin      issued 2025-03-09 23:59:59, joined on day 0: before every range
//	r10  7    sms      alice  -           builtin      issued 2025-03-17 00:00:00: at every range's end, excluded
var reportHistory = []struct {
	id, channel, agent, technician, provider string
	state                                    core.State
	log                                      []reportEvent
}{
	{"r01", "sms", "alice", "tom", "builtin", core.StateEnded, []reportEvent{
		{core.ActionIssue, reportDay(0, 9, 0, 0)}, {core.ActionSend, reportDay(0, 9, 0, 10)},
		{core.ActionJoin, reportDay(0, 9, 1, 0)}, {core.ActionStart, reportDay(0, 9, 1, 30)},
		{core.ActionWatch, reportDay(0, 9, 5, 0)}, {core.ActionEnd, reportDay(0, 9, 20, 0)}}},
	{"r02", "sms", "alice", "tom", "builtin", core.StateEnded, []reportEvent{
		{core.ActionIssue, reportDay(0, 10, 0, 0)}, {core.ActionSend, reportDay(0, 10, 0, 5)},
		{core.ActionSend, reportDay(0, 10, 0, 20)}, {core.ActionJoin, reportDay(0, 10, 3, 0)},
		{core.ActionShareStart, reportDay(0, 10, 3, 30)}, {core.ActionStart, reportDay(0, 10, 4, 0)},
		{core.ActionEnd, reportDay(0, 10, 30, 0)}}},
	{"r03", "web", "bob", "", "builtin", core.StateClosed, []reportEvent{
		{core.ActionIssue, reportDay(0, 11, 0, 0)}, {core.ActionJoin, reportDay(0, 11, 0, 20)},
		{core.ActionClose, reportDay(0, 11, 5, 0)}}},
	{"r04", "web", "bob", "", "meshcentral", core.StateExpired, []reportEvent{
		{core.ActionIssue, reportDay(0, 12, 0, 0)}, {core.ActionSend, reportDay(0, 12, 0, 1)},
		{core.ActionExpire, reportDay(0, 12, 20, 0)}}},
	{"r05", "", "alice", "ann", "builtin", core.StateEnded, []reportEvent{
		{core.ActionIssue, reportDay(0, 13, 0, 0)}, {core.ActionExpire, reportDay(0, 13, 20, 0)},
		{core.ActionRegenerate, reportDay(0, 13, 30, 0)}, {core.ActionSend, reportDay(0, 13, 30, 10)},
		{core.ActionJoin, reportDay(0, 13, 32, 0)}, {core.ActionStart, reportDay(0, 13, 34, 0)},
		{core.ActionEnd, reportDay(0, 13, 50, 0)}}},
	{"r06", "sms", "bob", "", "builtin", core.StateClosed, []reportEvent{
		{core.ActionIssue, reportDay(1, 0, 0, 0).Add(-time.Microsecond)}, {core.ActionClose, reportDay(1, 0, 10, 0)}}},
	{"r07", "sms", "alice", "ann", "builtin", core.StateEnded, []reportEvent{
		{core.ActionIssue, reportDay(1, 0, 0, 0)}, {core.ActionJoin, reportDay(1, 0, 0, 45)},
		{core.ActionStart, reportDay(1, 0, 2, 15)}, {core.ActionEnd, reportDay(1, 0, 30, 0)}}},
	{"r08", "web", "carol", "", "meshcentral", core.StateExpired, []reportEvent{
		{core.ActionIssue, reportDay(1, 8, 0, 0)}, {core.ActionExpire, reportDay(1, 8, 20, 0)},
		{core.ActionRegenerate, reportDay(1, 8, 25, 0)}, {core.ActionExpire, reportDay(1, 8, 45, 0)}}},
	{"r09", "sms", "alice", "tom", "builtin", core.StateEnded, []reportEvent{
		{core.ActionIssue, reportDay(-1, 23, 59, 59)}, {core.ActionJoin, reportDay(0, 0, 0, 30)},
		{core.ActionStart, reportDay(0, 0, 1, 0)}, {core.ActionEnd, reportDay(0, 0, 30, 0)}}},
	{"r10", "sms", "alice", "", "builtin", core.StateIssued, []reportEvent{
		{core.ActionIssue, reportDay(7, 0, 0, 0)}}},
}

// seedReportHistory stores reportHistory, each session with a
// conversation of its own.
func seedReportHistory(t *testing.T, f *fixture) {
	for i, h := range reportHistory {
		var ep core.Endpoint
		if h.channel != "" {
			ep = core.Endpoint{Channel: h.channel, Address: fmt.Sprintf("report-%d", i)}
		}
		c := f.conversation(ep)
		issued := h.log[0].at
		s := storetest.NewSession(h.id, c.ID, fmt.Sprintf("7100%02d", i), h.state, issued)
		s.Agent, s.Technician, s.Provider = h.agent, h.technician, h.provider
		ch := &core.Change{Conversation: c, Session: s}
		for _, e := range h.log {
			ch.Events = append(ch.Events, core.Event{SessionID: s.ID, At: e.at, Actor: "agent:" + h.agent, Action: e.action, Detail: "report"})
		}
		if err := f.st.CreateSession(t.Context(), ch); err != nil {
			t.Fatalf("CreateSession(%s): %v", h.id, err)
		}
	}
}

// secs returns n seconds.
func secs(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }

// waits returns report.Waits of n durations with their median and p90 in
// seconds.
func waits(n int, median, p90 float64) report.Waits {
	return report.Waits{N: n, Median: secs(median), P90: secs(p90)}
}

// dayPeriods are the bounds of days 0, 1 and 2: nothing is issued on
// day 2, so it has no row.
var dayPeriods = []time.Time{reportDay(0, 0, 0, 0), reportDay(1, 0, 0, 0), reportDay(2, 0, 0, 0), reportDay(3, 0, 0, 0)}

func checkReport(t *testing.T, rs report.Store, q report.Query, want []report.Row) {
	t.Helper()
	got, err := rs.Report(t.Context(), q)
	if err != nil {
		t.Fatalf("Report(%v): %v", q.Group, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Report(%q) (-want +got):\n%s", q.Group, diff)
	}
}

// testReportByDay: all of a day's sessions in one row.
//
// Day 0 holds r01 to r06 (r06 a microsecond before midnight; r09, issued
// the day before, is out though it joined on day 0):
//
//	issued 6; links sent r01 1 + r02 2 + r04 1 + r05 1 = 5;
//	joined r01 r02 r03 r05 = 4; started r01 r02 r05 = 3; ended the same 3;
//	closed r03 r06 = 2; expired r04 = 1 (r05's expiry was followed by a
//	new code).
//	issue to join, sorted: 20 60 180 1920 (n 4): median at rank
//	0.5*3 = 1.5, 60 + 0.5*(180-60) = 120; p90 at rank 0.9*3 = 2.7,
//	180 + 0.7*(1920-180) = 1398.
//	join to start: 30 60 120 (n 3): median 60; p90 at rank 1.8,
//	60 + 0.8*(120-60) = 108.
//
// Day 1 holds r07 (issued at midnight exactly) and r08: issued 2,
// joined, started and ended 1, expired r08 = 1; waits 45 and 90.
func testReportByDay(t *testing.T, rs report.Store) {
	checkReport(t, rs, report.Query{Periods: dayPeriods}, []report.Row{
		{Period: 0, Issued: 6, LinksSent: 5, Joined: 4, Started: 3, Ended: 3, Closed: 2, Expired: 1,
			IssueToJoin: waits(4, 120, 1398), JoinToStart: waits(3, 60, 108)},
		{Period: 1, Issued: 2, Joined: 1, Started: 1, Ended: 1, Expired: 1,
			IssueToJoin: waits(1, 45, 45), JoinToStart: waits(1, 90, 90)},
	})
}

// testReportByAgent:
//
//	day 0 alice (r01 r02 r05): issued 3, links 1+2+1 = 4, joined, started
//	  and ended 3; issue to join 60 180 1920: median 180, p90 at rank 1.8
//	  180 + 0.8*1740 = 1572; join to start 30 60 120: 60 and 108.
//	day 0 bob (r03 r04 r06): issued 3, links 1 (r04), joined 1 (r03),
//	  closed 2 (r03 r06), expired 1 (r04); issue to join 20; no start.
//	day 1 alice (r07): 1 issued, joined, started, ended; 45 and 90.
//	day 1 carol (r08): 1 issued, expired.
func testReportByAgent(t *testing.T, rs report.Store) {
	checkReport(t, rs, report.Query{Periods: dayPeriods, Group: report.GroupAgent}, []report.Row{
		{Period: 0, Group: "alice", Issued: 3, LinksSent: 4, Joined: 3, Started: 3, Ended: 3,
			IssueToJoin: waits(3, 180, 1572), JoinToStart: waits(3, 60, 108)},
		{Period: 0, Group: "bob", Issued: 3, LinksSent: 1, Joined: 1, Closed: 2, Expired: 1,
			IssueToJoin: waits(1, 20, 20)},
		{Period: 1, Group: "alice", Issued: 1, Joined: 1, Started: 1, Ended: 1,
			IssueToJoin: waits(1, 45, 45), JoinToStart: waits(1, 90, 90)},
		{Period: 1, Group: "carol", Issued: 1, Expired: 1},
	})
}

// testReportByTechnician: sessions never started have no technician ("").
//
//	day 0 "" (r03 r04 r06): issued 3, links 1, joined 1, closed 2,
//	  expired 1; issue to join 20.
//	day 0 ann (r05): 1 issued, link, join, start, end; 1920 and 120.
//	day 0 tom (r01 r02): issued 2, links 3, joined, started, ended 2;
//	  issue to join 60 180: median at rank 0.5, 120; p90 at rank 0.9,
//	  60 + 0.9*120 = 168; join to start 30 60: 45 and 30 + 0.9*30 = 57.
//	day 1 "" (r08): issued 1, expired 1.
//	day 1 ann (r07): 1 issued, joined, started, ended; 45 and 90.
func testReportByTechnician(t *testing.T, rs report.Store) {
	checkReport(t, rs, report.Query{Periods: dayPeriods, Group: report.GroupTechnician}, []report.Row{
		{Period: 0, Group: "", Issued: 3, LinksSent: 1, Joined: 1, Closed: 2, Expired: 1,
			IssueToJoin: waits(1, 20, 20)},
		{Period: 0, Group: "ann", Issued: 1, LinksSent: 1, Joined: 1, Started: 1, Ended: 1,
			IssueToJoin: waits(1, 1920, 1920), JoinToStart: waits(1, 120, 120)},
		{Period: 0, Group: "tom", Issued: 2, LinksSent: 3, Joined: 2, Started: 2, Ended: 2,
			IssueToJoin: waits(2, 120, 168), JoinToStart: waits(2, 45, 57)},
		{Period: 1, Group: "", Issued: 1, Expired: 1},
		{Period: 1, Group: "ann", Issued: 1, Joined: 1, Started: 1, Ended: 1,
			IssueToJoin: waits(1, 45, 45), JoinToStart: waits(1, 90, 90)},
	})
}

// testReportByChannelWeekly: one week, Monday 2025-03-10 to Monday
// 2025-03-17 (r10, issued at its end, is out).
//
//	"" (r05): 1 issued, link, join, start, end; 1920 and 120.
//	sms (r01 r02 r06 r07): issued 4, links 1+2 = 3, joined, started and
//	  ended 3 (r01 r02 r07), closed 1 (r06); issue to join 45 60 180:
//	  median 60, p90 at rank 1.8 60 + 0.8*120 = 156; join to start
//	  30 60 90: 60 and 60 + 0.8*30 = 84.
//	web (r03 r04 r08): issued 3, links 1, joined 1, closed 1, expired 2
//	  (r04 r08); issue to join 20.
func testReportByChannelWeekly(t *testing.T, rs report.Store) {
	week := []time.Time{reportDay(0, 0, 0, 0), reportDay(7, 0, 0, 0)}
	checkReport(t, rs, report.Query{Periods: week, Group: report.GroupChannel}, []report.Row{
		{Period: 0, Group: "", Issued: 1, LinksSent: 1, Joined: 1, Started: 1, Ended: 1,
			IssueToJoin: waits(1, 1920, 1920), JoinToStart: waits(1, 120, 120)},
		{Period: 0, Group: "sms", Issued: 4, LinksSent: 3, Joined: 3, Started: 3, Ended: 3, Closed: 1,
			IssueToJoin: waits(3, 60, 156), JoinToStart: waits(3, 60, 84)},
		{Period: 0, Group: "web", Issued: 3, LinksSent: 1, Joined: 1, Closed: 1, Expired: 2,
			IssueToJoin: waits(1, 20, 20)},
	})
}

// testReportByProvider: day 1 alone: r07 builtin, r08 meshcentral.
func testReportByProvider(t *testing.T, rs report.Store) {
	checkReport(t, rs, report.Query{Periods: dayPeriods[1:3], Group: report.GroupProvider}, []report.Row{
		{Period: 0, Group: "builtin", Issued: 1, Joined: 1, Started: 1, Ended: 1,
			IssueToJoin: waits(1, 45, 45), JoinToStart: waits(1, 90, 90)},
		{Period: 0, Group: "meshcentral", Issued: 1, Expired: 1},
	})
}

// testReportShiftedPeriods: a day in New York (UTC-5 that week): from
// 05:00 UTC on day 0 to 05:00 on day 1, holding r01 to r07.
//
//	issued 7, links 5, joined 5, started 4, ended 4, closed 2, expired 1;
//	issue to join 20 45 60 180 1920: median 60, p90 at rank 3.6,
//	180 + 0.6*1740 = 1224; join to start 30 60 90 120: median at rank
//	1.5, 75; p90 at rank 2.7, 90 + 0.7*30 = 111.
func testReportShiftedPeriods(t *testing.T, rs report.Store) {
	ny := []time.Time{reportDay(0, 5, 0, 0), reportDay(1, 5, 0, 0)}
	checkReport(t, rs, report.Query{Periods: ny}, []report.Row{
		{Period: 0, Issued: 7, LinksSent: 5, Joined: 5, Started: 4, Ended: 4, Closed: 2, Expired: 1,
			IssueToJoin: waits(5, 60, 1224), JoinToStart: waits(4, 75, 111)},
	})
}

// testReportEmpty: a day with nothing issued has no rows.
func testReportEmpty(t *testing.T, rs report.Store) {
	for _, g := range []report.Group{report.GroupNone, report.GroupAgent, report.GroupChannel} {
		got, err := rs.Report(t.Context(), report.Query{Periods: dayPeriods[2:], Group: g})
		if err != nil || len(got) != 0 {
			t.Errorf("Report(day 2, %q) = %v, %v; want no rows", g, got, err)
		}
	}
}

// fixture is one test's store and the means to fill it.
type fixture struct {
	t  *testing.T
	st core.Store
	n  *int // the last id suffix handed out
}

// id returns a new id with prefix; ids sort in the order handed out.
func (f *fixture) id(prefix string) string {
	*f.n++
	return fmt.Sprintf("%s-%04d", prefix, *f.n)
}

// conversation returns an open conversation for customer with every field
// set.
func (f *fixture) conversation(customer core.Endpoint) *core.Conversation {
	return &core.Conversation{
		ID:           f.id("conv"),
		Customer:     customer,
		CustomerName: "Ada Lovelace",
		Desk:         core.Endpoint{Channel: core.ChannelSlack, Address: "C0123"},
		DeskThread:   "1710428966.000100",
		Locale:       "en-GB",
		State:        core.ConversationOpen,
		CreatedAt:    storetest.At(time.Second),
		UpdatedAt:    storetest.At(2 * time.Second),
	}
}

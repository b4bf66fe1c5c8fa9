// Package report turns a request for a report (a range of dates, a
// period, a grouping, a time zone) into the periods a Store
// counts sessions in, and its rows into the report that the API and the
// console show: every period of the range listed, the share of sessions
// that reached active, and CSV.
//
// A session counts in the period that holds its issue event, in the
// report's time zone; everything that happened to it later (a join the
// next day) counts there too, so that the shares of a period add up.
package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones, even on a system without them

	"github.com/assistbot/assistbot/core"
)

// MaxDays is the longest range a report covers, in days.
const MaxDays = 366

// DefaultDays is the range a request without from covers, ending at to.
const DefaultDays = 30

// Period is how long a report's periods are.
type Period string

// The periods: a day runs from midnight to midnight; a week from
// Monday to Monday (ISO 8601), in the report's time zone.
const (
	Day  Period = "day"
	Week Period = "week"
)

// Groups lists the groupings a request may ask for by name.
var Groups = []Group{GroupAgent, GroupTechnician, GroupChannel, GroupProvider}

// dateLayout is how dates are written: 2025-03-14.
const dateLayout = "2006-01-02"

// Params are what a report covers: the days From to To, both included,
// in Location, cut into periods and grouped.
type Params struct {
	From, To time.Time // the first instant of the day in Location (dayStart)
	Period   Period
	Group    Group
	Location *time.Location
}

// Days returns how many days the range covers, both ends included.
func (p Params) Days() int { return days(p.From, p.To) }

// dayStart is the first instant of the calendar day y-m-d in loc (d may
// run past the month's end, as for time.Date): its midnight, or, where
// the clocks skip midnight that day (America/Santiago, America/Havana or
// Africa/Cairo at the start of daylight saving time), the moment they
// jump, which time.Date would place in the day before.
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	u := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	t := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, loc)
	if t.Day() != u.Day() {
		_, t = t.ZoneBounds()
	}
	return t
}

// days counts the calendar days from a to b, both included, whatever
// the daylight saving changes between them.
func days(a, b time.Time) int {
	ua := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	ub := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(ub.Sub(ua)/(24*time.Hour)) + 1
}

// Parse reads a report's parameters from a query: from and to
// (YYYY-MM-DD, by default the DefaultDays days ending today), period
// (day or week, by default day), group (agent, technician, channel or
// provider; none puts each period's sessions in one row) and tz (an IANA
// time zone, by default UTC). Each error is CodeInvalid and names its
// parameter.
func Parse(q url.Values, now time.Time) (Params, error) {
	p := Params{Period: Day, Location: time.UTC}
	if tz := strings.TrimSpace(q.Get("tz")); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return p, core.Errorf(core.CodeInvalid, "tz: unknown time zone %q; use an IANA name such as Europe/Paris, or UTC", tz)
		}
		p.Location = loc
	}
	switch v := Period(strings.TrimSpace(q.Get("period"))); v {
	case "":
	case Day, Week:
		p.Period = v
	default:
		return p, core.Errorf(core.CodeInvalid, "period: %q is not a period; use day or week", v)
	}
	if g := strings.TrimSpace(q.Get("group")); g != "" {
		p.Group = Group(g)
		if !ValidGroup(p.Group) {
			return p, core.Errorf(core.CodeInvalid, "group: %q is not a grouping; use agent, technician, channel or provider", g)
		}
	}
	today := now.In(p.Location)
	p.To = dayStart(today.Year(), today.Month(), today.Day(), p.Location)
	var err error
	if v := strings.TrimSpace(q.Get("to")); v != "" {
		if p.To, err = parseDate(v, p.Location); err != nil {
			return p, core.Errorf(core.CodeInvalid, "to: %q is not a date; write it YYYY-MM-DD", v)
		}
	}
	p.From = dayStart(p.To.Year(), p.To.Month(), p.To.Day()-(DefaultDays-1), p.Location)
	if v := strings.TrimSpace(q.Get("from")); v != "" {
		if p.From, err = parseDate(v, p.Location); err != nil {
			return p, core.Errorf(core.CodeInvalid, "from: %q is not a date; write it YYYY-MM-DD", v)
		}
	}
	return p, p.Check()
}

// Check refuses a range that ends before it starts or covers more than
// MaxDays days.
func (p Params) Check() error {
	if p.To.Before(p.From) {
		return core.Errorf(core.CodeInvalid, "to: %s is before from (%s)", p.To.Format(dateLayout), p.From.Format(dateLayout))
	}
	if n := p.Days(); n > MaxDays {
		return core.Errorf(core.CodeInvalid, "from, to: the range covers %d days; a report covers at most %d", n, MaxDays)
	}
	return nil
}

func parseDate(s string, loc *time.Location) (time.Time, error) {
	t, err := time.Parse(dateLayout, s) // the calendar day: in loc, it may have no midnight
	if err != nil {
		return t, err
	}
	return dayStart(t.Year(), t.Month(), t.Day(), loc), nil
}

// ValidGroup reports whether g is a grouping Parse takes, or none.
func ValidGroup(g Group) bool {
	if g == GroupNone {
		return true
	}
	for _, v := range Groups {
		if g == v {
			return true
		}
	}
	return false
}

// Bounds returns the starts of the periods that cover the range, and
// the end of the last: each day from From to To, or each ISO week (from
// Monday) that holds one of them.
func (p Params) Bounds() []time.Time {
	first, n, step := p.From, p.Days(), 1
	if p.Period == Week {
		back := (int(p.From.Weekday()) + 6) % 7 // days since Monday
		first = dayStart(p.From.Year(), p.From.Month(), p.From.Day()-back, p.Location)
		n, step = (days(first, p.To)+6)/7, 7
	}
	out := make([]time.Time, 0, n+1)
	for i := 0; i <= n; i++ {
		out = append(out, dayStart(first.Year(), first.Month(), first.Day()+i*step, p.Location))
	}
	return out
}

// Report is a report: its parameters, its periods, and its rows.
type Report struct {
	Params
	// Periods are the periods, each with its start and end.
	Periods []Span
	// Rows are by period, then group. Without a grouping every period has
	// its row, zeros when no session was issued in it; with one, a
	// period has a row for each group with a session issued in it.
	Rows []Line
}

// Span is a period: from Start, up to End excluded.
type Span struct{ Start, End time.Time }

// Line is a row of a report, with its period.
type Line struct {
	Row
	Span
}

// ActiveShare is the share of the sessions issued that reached active
// (started), 0 when none was issued.
func (r Line) ActiveShare() float64 {
	if r.Issued == 0 {
		return 0
	}
	return float64(r.Started) / float64(r.Issued)
}

// Run computes the report p asks for from store.
func Run(ctx context.Context, store Store, p Params) (*Report, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	if !ValidGroup(p.Group) {
		return nil, core.Errorf(core.CodeInvalid, "group: %q is not a grouping", p.Group)
	}
	bounds := p.Bounds()
	rows, err := store.Report(ctx, Query{Periods: bounds, Group: p.Group})
	if err != nil {
		return nil, err
	}
	rep := &Report{Params: p, Periods: make([]Span, len(bounds)-1)}
	for i := range rep.Periods {
		rep.Periods[i] = Span{bounds[i].In(p.Location), bounds[i+1].In(p.Location)}
	}
	next := 0
	for _, r := range rows {
		if r.Period < 0 || r.Period >= len(rep.Periods) {
			return nil, fmt.Errorf("report: the store answered period %d of %d", r.Period, len(rep.Periods))
		}
		if p.Group == GroupNone {
			for ; next < r.Period; next++ {
				rep.Rows = append(rep.Rows, Line{Row: Row{Period: next}, Span: rep.Periods[next]})
			}
			next = r.Period + 1
		}
		rep.Rows = append(rep.Rows, Line{Row: r, Span: rep.Periods[r.Period]})
	}
	if p.Group == GroupNone {
		for ; next < len(rep.Periods); next++ {
			rep.Rows = append(rep.Rows, Line{Row: Row{Period: next}, Span: rep.Periods[next]})
		}
	}
	return rep, nil
}

// Totals adds up each group's counts over the whole range, in the order
// the groups first appear. Waits, which do not add up, are left out.
func (r *Report) Totals() []Row {
	var out []Row
	at := map[string]int{}
	for _, row := range r.Rows {
		i, ok := at[row.Group]
		if !ok {
			i = len(out)
			at[row.Group] = i
			out = append(out, Row{Group: row.Group})
		}
		t := &out[i]
		t.Issued += row.Issued
		t.LinksSent += row.LinksSent
		t.Joined += row.Joined
		t.Started += row.Started
		t.Ended += row.Ended
		t.Closed += row.Closed
		t.Expired += row.Expired
	}
	return out
}

// Date writes t as a report writes dates: 2025-03-14.
func Date(t time.Time) string { return t.Format(dateLayout) }

// Seconds returns d in seconds, to the millisecond.
func Seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// CSVHeader is the first line of a report's CSV.
var CSVHeader = []string{"period_start", "period_end", "group", "issued", "links_sent", "joined", "started",
	"ended", "closed", "expired", "active_share", "issue_to_join_count", "issue_to_join_median_seconds",
	"issue_to_join_p90_seconds", "join_to_start_count", "join_to_start_median_seconds", "join_to_start_p90_seconds"}

// WriteCSV writes the report's rows as CSV (RFC 4180), a header first.
// Periods are dates (the end excluded); waits without a sample are
// empty.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, row := range r.Rows {
		rec := []string{Date(row.Start), Date(row.End), safeCell(row.Group)}
		for _, n := range []int{row.Issued, row.LinksSent, row.Joined, row.Started, row.Ended, row.Closed, row.Expired} {
			rec = append(rec, strconv.Itoa(n))
		}
		rec = append(rec, strconv.FormatFloat(math.Round(row.ActiveShare()*10000)/10000, 'f', -1, 64))
		for _, wt := range []Waits{row.IssueToJoin, row.JoinToStart} {
			rec = append(rec, strconv.Itoa(wt.N))
			if wt.N == 0 {
				rec = append(rec, "", "")
				continue
			}
			rec = append(rec, strconv.FormatFloat(Seconds(wt.Median), 'f', -1, 64), strconv.FormatFloat(Seconds(wt.P90), 'f', -1, 64))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// FileName is the name the report's CSV is downloaded as:
// assistbot-report-2025-03-01-2025-03-31-day-agent.csv.
func (r *Report) FileName() string {
	name := "assistbot-report-" + Date(r.From) + "-" + Date(r.To) + "-" + string(r.Period)
	if r.Group != GroupNone {
		name += "-" + string(r.Group)
	}
	return name + ".csv"
}

// safeCell keeps a name that a spreadsheet would take for a formula
// ("=HYPERLINK(...)") from being one, by quoting it with an apostrophe.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

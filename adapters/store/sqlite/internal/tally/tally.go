// Package tally sums the sessions of a SQLite report, read one by one,
// into the report's rows: their counts, and the median and 90th
// percentile of their waits. SQLite has no percentile function, and
// ranking every wait with window functions costs a sort of all of them
// per query, five times what reading them does on a year of a busy desk.
package tally

import (
	"cmp"
	"database/sql"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core/report"
)

// Session is what a report counts of one session, in the period and the
// group it falls in. Each count is 1 when the session got that far, and 0
// otherwise.
type Session struct {
	Period int    // the index of its period's start in report.Query.Periods
	Group  string // its group, "" when the report is not grouped

	Sent, Joined, Started, Ended, Closed, Expired int

	// ToJoin and ToStart are its waits, in microseconds, from its issue
	// to its join and from its join to its start; NULL when it did not
	// get that far.
	ToJoin, ToStart sql.NullInt64
}

// Tally is a report's rows as its sessions are added. The zero Tally is
// empty and ready to use.
type Tally struct {
	groups map[key]*group
}

// key is one period and group of a report.
type key struct {
	period int
	group  string
}

// group is one period and group of a report as its sessions are added:
// the counts, and the waits in microseconds.
type group struct {
	row             report.Row
	toJoin, toStart []int64
}

// Add counts s in its period and group.
func (t *Tally) Add(s *Session) {
	if t.groups == nil {
		t.groups = map[key]*group{}
	}
	k := key{s.Period, s.Group}
	g := t.groups[k]
	if g == nil {
		g = &group{row: report.Row{Period: s.Period, Group: s.Group}}
		t.groups[k] = g
	}
	r := &g.row
	r.Issued++
	r.LinksSent += s.Sent
	r.Joined += s.Joined
	r.Started += s.Started
	r.Ended += s.Ended
	r.Closed += s.Closed
	r.Expired += s.Expired
	if s.ToJoin.Valid {
		g.toJoin = append(g.toJoin, s.ToJoin.Int64)
	}
	if s.ToStart.Valid {
		g.toStart = append(g.toStart, s.ToStart.Int64)
	}
}

// Rows returns a row for each period and group with a session, by period
// and then group (bytewise), as report.Store does.
func (t *Tally) Rows() []report.Row {
	out := make([]report.Row, 0, len(t.groups))
	for _, g := range t.groups {
		g.row.IssueToJoin, g.row.JoinToStart = waitsOf(g.toJoin), waitsOf(g.toStart)
		out = append(out, g.row)
	}
	slices.SortFunc(out, func(a, b report.Row) int {
		return cmp.Or(cmp.Compare(a.Period, b.Period), strings.Compare(a.Group, b.Group))
	})
	return out
}

// waitsOf returns the median and p90 of waits (microseconds), each
// interpolated between the two nearest as percentile_cont does, in the
// same floating-point steps as PostgreSQL's, then rounded to the
// microsecond. It sorts waits.
func waitsOf(waits []int64) report.Waits {
	w := report.Waits{N: len(waits)}
	if w.N == 0 {
		return w
	}
	slices.Sort(waits)
	at := func(p float64) time.Duration {
		pos := p * float64(w.N-1)
		lo := int(pos)
		v0, v1 := waits[lo], waits[lo]
		if lo+1 < w.N {
			v1 = waits[lo+1]
		}
		v := float64(v0) + (pos-float64(lo))*float64(v1-v0)
		return time.Duration(math.Round(v)) * time.Microsecond
	}
	w.Median, w.P90 = at(0.5), at(0.9)
	return w
}

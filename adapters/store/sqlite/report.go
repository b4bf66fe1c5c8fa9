package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/report"
)

var _ report.Store = (*Store)(nil)

// reportGroups are the SQL of each grouping, over the session's
// summary r.
var reportGroups = map[report.Group]string{
	report.GroupNone:       "''",
	report.GroupAgent:      "r.agent",
	report.GroupTechnician: "r.technician",
	report.GroupChannel:    "r.channel",
	report.GroupProvider:   "r.provider",
}

// reportSQL reads the summary of each session issued in one of the
// periods (report_sessions, which the database keeps from the event log);
// its %s are the periods' VALUES and the grouping. It finds the sessions
// of each period through report_sessions_issued (the planner is told so,
// CROSS JOIN and INDEXED BY: with the periods' bounds in a table it
// cannot tell that a range of the index holds a period's sessions), and
// returns what each counts and its waits in microseconds.
//
// The sums and the percentiles are computed in Go (tally): SQLite has no
// percentile function, and ranking every wait with window functions
// costs a sort of all of them per query, five times what reading them
// does on a year of a busy desk.
const reportSQL = `
WITH periods(idx, lo, hi) AS (VALUES %s)
SELECT p.idx, %s, r.sent, r.join_at IS NOT NULL, r.start_at IS NOT NULL, r.ended, r.closed,
    r.expired > r.regenerated, r.join_at - r.issued_at, r.start_at - r.join_at
FROM periods p
CROSS JOIN report_sessions r INDEXED BY report_sessions_issued ON r.issued_at >= p.lo AND r.issued_at < p.hi
`

// reportQuery returns the SQL and arguments of q.
func reportQuery(q report.Query) (string, []any, error) {
	grp, ok := reportGroups[q.Group]
	if !ok {
		return "", nil, core.Errorf(core.CodeInvalid, "unknown report grouping %q", q.Group)
	}
	if len(q.Periods) < 2 {
		return "", nil, core.Errorf(core.CodeInvalid, "a report needs at least one period")
	}
	values := make([]string, 0, len(q.Periods)-1)
	args := make([]any, 0, 3*len(q.Periods))
	for i := range len(q.Periods) - 1 {
		values = append(values, "(?, ?, ?)")
		args = append(args, i, micros(q.Periods[i]), micros(q.Periods[i+1]))
	}
	return fmt.Sprintf(reportSQL, strings.Join(values, ", "), grp), args, nil
}

// Report implements report.Store.
func (s *Store) Report(ctx context.Context, q report.Query) ([]report.Row, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: report: %w", errClosed())
	}
	query, args, err := reportQuery(q)
	if err != nil {
		return nil, err
	}
	out, err := s.scanReport(ctx, query, args)
	if err != nil {
		return nil, fmt.Errorf("sqlite: report: %w", err)
	}
	return out, nil
}

// scanReport runs a report's query and tallies its sessions into rows,
// by period and then group.
func (s *Store) scanReport(ctx context.Context, query string, args []any) ([]report.Row, error) {
	rows, err := s.r.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type key struct {
		period int
		group  string
	}
	tallies := map[key]*tally{}
	for rows.Next() {
		var k key
		var sent, joined, started, ended, closed, expired int
		var toJoin, toStart sql.NullInt64
		if err := rows.Scan(&k.period, &k.group, &sent, &joined, &started, &ended, &closed, &expired, &toJoin, &toStart); err != nil {
			return nil, err
		}
		t := tallies[k]
		if t == nil {
			t = &tally{row: report.Row{Period: k.period, Group: k.group}}
			tallies[k] = t
		}
		r := &t.row
		r.Issued++
		r.LinksSent += sent
		r.Joined += joined
		r.Started += started
		r.Ended += ended
		r.Closed += closed
		r.Expired += expired
		if toJoin.Valid {
			t.toJoin = append(t.toJoin, toJoin.Int64)
		}
		if toStart.Valid {
			t.toStart = append(t.toStart, toStart.Int64)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]report.Row, 0, len(tallies))
	for _, t := range tallies {
		t.row.IssueToJoin, t.row.JoinToStart = waitsOf(t.toJoin), waitsOf(t.toStart)
		out = append(out, t.row)
	}
	slices.SortFunc(out, func(a, b report.Row) int {
		return cmp.Or(cmp.Compare(a.Period, b.Period), strings.Compare(a.Group, b.Group))
	})
	return out, nil
}

// tally is one period and group of a report as its sessions are read:
// the counts, and the waits in microseconds.
type tally struct {
	row             report.Row
	toJoin, toStart []int64
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

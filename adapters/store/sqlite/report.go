package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/tally"
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
// periods (report_sessions, which the writer keeps: report_rows.go); its
// %s are the periods' VALUES and the grouping. It finds the sessions
// of each period through report_sessions_issued (the planner is told so,
// CROSS JOIN and INDEXED BY: with the periods' bounds in a table it
// cannot tell that a range of the index holds a period's sessions), and
// returns what each counts and its waits in microseconds.
//
// The sums and the percentiles are computed in Go (package tally): SQLite
// has no percentile function.
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
	var t tally.Tally
	for rows.Next() {
		var ss tally.Session
		if err := rows.Scan(&ss.Period, &ss.Group, &ss.Sent, &ss.Joined, &ss.Started, &ss.Ended, &ss.Closed, &ss.Expired,
			&ss.ToJoin, &ss.ToStart); err != nil {
			return nil, err
		}
		t.Add(&ss)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return t.Rows(), nil
}

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

// reportSQL computes a report from the sessions' summaries
// (report_sessions, which the database keeps from the event log); its %s
// are the periods' VALUES and the grouping.
//
// periods are the query's periods. per finds the sessions issued in each
// through report_sessions_issued (the planner is told so, CROSS JOIN
// and INDEXED BY, for with the periods' bounds in a table it cannot tell
// that a range of the index holds a period's sessions): what each counts,
// and its waits in microseconds. counts adds them up by period and group.
//
// SQLite has no percentile function, so waits computes percentile_cont
// itself: each wait's rank (from 0) among the n of its period, group and
// kind (0 issue to join, 1 join to start), and for p the values at ranks
// floor(p*(n-1)) and the one after, between which it interpolates by
// the fraction p*(n-1) - floor(p*(n-1)); Go rounds the result to the
// microsecond.
const reportSQL = `
WITH periods(idx, lo, hi) AS (VALUES %s),
per AS (
    SELECT p.idx AS idx, %s AS grp, r.sent AS sent,
        r.join_at IS NOT NULL AS joined, r.start_at IS NOT NULL AS started,
        r.ended AS ended, r.closed AS closed, r.expired > r.regenerated AS expired,
        r.join_at - r.issued_at AS to_join, r.start_at - r.join_at AS to_start
    FROM periods p
    CROSS JOIN report_sessions r INDEXED BY report_sessions_issued ON r.issued_at >= p.lo AND r.issued_at < p.hi
),
counts AS (
    SELECT idx, grp, COUNT(*) AS issued, SUM(sent) AS sent, SUM(joined) AS joined, SUM(started) AS started,
        SUM(ended) AS ended, SUM(closed) AS closed, SUM(expired) AS expired
    FROM per GROUP BY idx, grp
),
ranked AS (
    SELECT idx, grp, k, v,
        ROW_NUMBER() OVER (PARTITION BY idx, grp, k ORDER BY v) - 1 AS rn,
        COUNT(*) OVER (PARTITION BY idx, grp, k) AS n
    FROM (
        SELECT idx, grp, 0 AS k, to_join AS v FROM per WHERE to_join IS NOT NULL
        UNION ALL
        SELECT idx, grp, 1 AS k, to_start AS v FROM per WHERE to_start IS NOT NULL
    )
),
waits AS (
    SELECT idx, grp, k, MAX(n) AS n,
        MAX(CASE WHEN rn = CAST(0.5 * (n - 1) AS INTEGER) THEN v END) AS m0,
        MAX(CASE WHEN rn = CAST(0.5 * (n - 1) AS INTEGER) + 1 THEN v END) AS m1,
        MAX(0.5 * (n - 1) - CAST(0.5 * (n - 1) AS INTEGER)) AS mf,
        MAX(CASE WHEN rn = CAST(0.9 * (n - 1) AS INTEGER) THEN v END) AS p0,
        MAX(CASE WHEN rn = CAST(0.9 * (n - 1) AS INTEGER) + 1 THEN v END) AS p1,
        MAX(0.9 * (n - 1) - CAST(0.9 * (n - 1) AS INTEGER)) AS pf
    FROM ranked
    WHERE rn BETWEEN CAST(0.5 * (n - 1) AS INTEGER) AND CAST(0.9 * (n - 1) AS INTEGER) + 1
    GROUP BY idx, grp, k
)
SELECT c.idx, c.grp, c.issued, c.sent, c.joined, c.started, c.ended, c.closed, c.expired,
    COALESCE(j.n, 0), j.m0 + j.mf * (COALESCE(j.m1, j.m0) - j.m0), j.p0 + j.pf * (COALESCE(j.p1, j.p0) - j.p0),
    COALESCE(t.n, 0), t.m0 + t.mf * (COALESCE(t.m1, t.m0) - t.m0), t.p0 + t.pf * (COALESCE(t.p1, t.p0) - t.p0)
FROM counts c
LEFT JOIN waits j ON j.idx = c.idx AND j.grp = c.grp AND j.k = 0
LEFT JOIN waits t ON t.idx = c.idx AND t.grp = c.grp AND t.k = 1
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

// scanReport runs a report's query and returns its rows, by period and
// then group.
func (s *Store) scanReport(ctx context.Context, query string, args []any) ([]report.Row, error) {
	rows, err := s.r.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []report.Row
	for rows.Next() {
		var r report.Row
		var jm, jp, tm, tp sql.NullFloat64
		if err := rows.Scan(&r.Period, &r.Group, &r.Issued, &r.LinksSent, &r.Joined, &r.Started, &r.Ended,
			&r.Closed, &r.Expired, &r.IssueToJoin.N, &jm, &jp, &r.JoinToStart.N, &tm, &tp); err != nil {
			return nil, err
		}
		r.IssueToJoin.Median, r.IssueToJoin.P90 = microDuration(jm), microDuration(jp)
		r.JoinToStart.Median, r.JoinToStart.P90 = microDuration(tm), microDuration(tp)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b report.Row) int {
		return cmp.Or(cmp.Compare(a.Period, b.Period), strings.Compare(a.Group, b.Group))
	})
	return out, nil
}

// microDuration rounds microseconds to a time.Duration; NULL is 0.
func microDuration(v sql.NullFloat64) time.Duration {
	if !v.Valid {
		return 0
	}
	return time.Duration(math.Round(v.Float64)) * time.Microsecond
}

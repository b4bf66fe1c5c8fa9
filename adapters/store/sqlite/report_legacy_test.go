package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/report"
)

// legacyReportSQL is how reports were computed before report_sessions:
// from the event log, each session's read through events_report. The
// replay test checks that report_sessions gives exactly its rows.
const legacyReportSQL = `
WITH periods(idx, lo, hi) AS (VALUES %s),
issued AS (
    SELECT p.idx AS idx, %s AS grp, i.session_seq AS seq, i.at AS at
    FROM periods p
    CROSS JOIN events i ON i.action = 'issue' AND i.at >= p.lo AND i.at < p.hi
%s
),
per AS (
    SELECT i.idx AS idx, i.grp AS grp,
        SUM(e.action = 'send') AS sent,
        MAX(e.action = 'join') AS joined,
        MAX(e.action = 'start') AS started,
        MAX(e.action = 'end') AS ended,
        MAX(e.action = 'close') AS closed,
        COALESCE(MAX(CASE WHEN e.action = 'expire' THEN e.id END), 0)
            > COALESCE(MAX(CASE WHEN e.action = 'regenerate' THEN e.id END), 0) AS expired,
        MIN(CASE WHEN e.action = 'join' THEN e.at END) - i.at AS to_join,
        MIN(CASE WHEN e.action = 'start' THEN e.at END) - MIN(CASE WHEN e.action = 'join' THEN e.at END) AS to_start
    FROM issued i
    JOIN events e INDEXED BY events_report ON e.session_seq = i.seq
    GROUP BY i.seq
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

var legacyReportGroups = map[report.Group]string{
	report.GroupNone:       "''",
	report.GroupAgent:      "s.agent",
	report.GroupTechnician: "s.technician",
	report.GroupChannel:    "c.customer_channel",
	report.GroupProvider:   "s.provider",
}

// legacyReport computes q with legacyReportSQL, rows in Report's order.
func legacyReport(t *testing.T, st core.Store, q report.Query) []report.Row {
	t.Helper()
	values := make([]string, 0, len(q.Periods)-1)
	args := make([]any, 0, 3*len(q.Periods))
	for i := range len(q.Periods) - 1 {
		values = append(values, "(?, ?, ?)")
		args = append(args, i, micros(q.Periods[i]), micros(q.Periods[i+1]))
	}
	var joins string
	switch q.Group {
	case report.GroupNone:
	case report.GroupChannel:
		joins = "\n    JOIN sessions s ON s.seq = i.session_seq\n    JOIN conversations c ON c.seq = s.conversation_seq"
	default:
		joins = "\n    JOIN sessions s ON s.seq = i.session_seq"
	}
	query := fmt.Sprintf(legacyReportSQL, strings.Join(values, ", "), legacyReportGroups[q.Group], joins)
	out, err := st.(*Store).scanLegacyReport(t.Context(), query, args)
	if err != nil {
		t.Fatalf("legacy report: %v", err)
	}
	return out
}

// scanLegacyReport runs the event-log query and returns its rows, by
// period and then group.
func (s *Store) scanLegacyReport(ctx context.Context, query string, args []any) ([]report.Row, error) {
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

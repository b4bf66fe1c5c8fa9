package postgres

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

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
	report.GroupProvider:   "r.provider",
	report.GroupChannel:    "r.channel",
}

// reportSQL computes a report from the sessions' summaries
// (report_sessions, which the database keeps from the event log); its %s
// is the grouping. $1 is the periods' bounds, in order.
//
// per finds the sessions issued in the whole range in one range of
// report_sessions_issued, and width_bucket finds each one's period by a
// binary search of the bounds: what each counts, and its waits in
// microseconds. The last step adds them up by period and group, with
// percentile_cont for the waits' median and 90th percentile.
const reportSQL = `
WITH per AS (
    SELECT width_bucket(r.issued_at, $1::timestamptz[]) - 1 AS idx, %s AS grp, r.sent,
        r.join_at IS NOT NULL AS joined, r.start_at IS NOT NULL AS started, r.ended, r.closed,
        r.expired > r.regenerated AS expired,
        extract(epoch FROM r.join_at - r.issued_at)::float8 * 1e6 AS to_join,
        extract(epoch FROM r.start_at - r.join_at)::float8 * 1e6 AS to_start
    FROM report_sessions r
    WHERE r.issued_at >= ($1::timestamptz[])[1] AND r.issued_at < ($1::timestamptz[])[cardinality($1::timestamptz[])]
)
SELECT idx, grp, count(*)::int, sum(sent)::int,
    (count(*) FILTER (WHERE joined))::int, (count(*) FILTER (WHERE started))::int,
    (count(*) FILTER (WHERE ended))::int, (count(*) FILTER (WHERE closed))::int,
    (count(*) FILTER (WHERE expired))::int,
    count(to_join)::int,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY to_join),
    percentile_cont(0.9) WITHIN GROUP (ORDER BY to_join),
    count(to_start)::int,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY to_start),
    percentile_cont(0.9) WITHIN GROUP (ORDER BY to_start)
FROM per
GROUP BY idx, grp
`

// Report implements report.Store.
func (s *Store) Report(ctx context.Context, q report.Query) ([]report.Row, error) {
	grp, ok := reportGroups[q.Group]
	if !ok {
		return nil, core.Errorf(core.CodeInvalid, "unknown report grouping %q", q.Group)
	}
	if len(q.Periods) < 2 {
		return nil, core.Errorf(core.CodeInvalid, "a report needs at least one period")
	}
	query := fmt.Sprintf(reportSQL, grp)
	out, err := s.scanReport(ctx, query, q.Periods)
	if err != nil {
		return nil, fmt.Errorf("postgres: report: %w", err)
	}
	return out, nil
}

// scanReport runs a report's query with the periods' bounds and returns
// its rows, by period and then group.
func (s *Store) scanReport(ctx context.Context, query string, periods []time.Time) ([]report.Row, error) {
	var out []report.Row
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, query, periods)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r report.Row
			var jm, jp, tm, tp *float64
			if err := rows.Scan(&r.Period, &r.Group, &r.Issued, &r.LinksSent, &r.Joined, &r.Started, &r.Ended,
				&r.Closed, &r.Expired, &r.IssueToJoin.N, &jm, &jp, &r.JoinToStart.N, &tm, &tp); err != nil {
				return err
			}
			r.IssueToJoin.Median, r.IssueToJoin.P90 = microDuration(jm), microDuration(jp)
			r.JoinToStart.Median, r.JoinToStart.P90 = microDuration(tm), microDuration(tp)
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b report.Row) int {
		return cmp.Or(cmp.Compare(a.Period, b.Period), strings.Compare(a.Group, b.Group))
	})
	return out, nil
}

// microDuration rounds microseconds to a time.Duration; NULL is 0.
func microDuration(v *float64) time.Duration {
	if v == nil {
		return 0
	}
	return time.Duration(math.Round(*v)) * time.Microsecond
}

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

// reportGroups are the SQL of each grouping, over the session s and its
// conversation c, and the joins it needs.
var reportGroups = map[report.Group][2]string{
	report.GroupNone:       {"''", ""},
	report.GroupAgent:      {"s.agent", "JOIN sessions s ON s.id = i.session_id"},
	report.GroupTechnician: {"s.technician", "JOIN sessions s ON s.id = i.session_id"},
	report.GroupProvider:   {"s.provider", "JOIN sessions s ON s.id = i.session_id"},
	report.GroupChannel: {"c.customer_channel",
		"JOIN sessions s ON s.id = i.session_id JOIN conversations c ON c.id = s.conversation_id"},
}

// reportSQL computes a report from the event log; its %s are the
// grouping and the joins it needs. $1 is the periods' bounds, in order.
//
// issued finds the issue events of the whole range in one range of
// events_issued, and width_bucket finds each one's period by a binary
// search of the bounds. per reads each session's log (events_session)
// for what it counts and its waits, in microseconds: one small
// aggregate a session, rather than sorting every event of the range by
// session. The last step adds them up by period and group, with
// percentile_cont for the waits' median and 90th percentile.
const reportSQL = `
WITH issued AS (
    SELECT width_bucket(i.at, $1::timestamptz[]) - 1 AS idx, %s AS grp, i.session_id, i.at
    FROM events i
    %s
    WHERE i.action = 'issue' AND i.at >= ($1::timestamptz[])[1] AND i.at < ($1::timestamptz[])[cardinality($1::timestamptz[])]
),
per AS (
    SELECT i.idx, i.grp, a.sent, a.joined, a.started, a.ended, a.closed, a.expired,
        extract(epoch FROM a.join_at - i.at)::float8 * 1e6 AS to_join,
        extract(epoch FROM a.start_at - a.join_at)::float8 * 1e6 AS to_start
    FROM issued i
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE e.action = 'send') AS sent,
            bool_or(e.action = 'join') AS joined,
            bool_or(e.action = 'start') AS started,
            bool_or(e.action = 'end') AS ended,
            bool_or(e.action = 'close') AS closed,
            coalesce(max(e.id) FILTER (WHERE e.action = 'expire'), 0)
                > coalesce(max(e.id) FILTER (WHERE e.action = 'regenerate'), 0) AS expired,
            min(e.at) FILTER (WHERE e.action = 'join') AS join_at,
            min(e.at) FILTER (WHERE e.action = 'start') AS start_at
        FROM events e
        WHERE e.session_id = i.session_id
    ) a
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
	g, ok := reportGroups[q.Group]
	if !ok {
		return nil, core.Errorf(core.CodeInvalid, "unknown report grouping %q", q.Group)
	}
	if len(q.Periods) < 2 {
		return nil, core.Errorf(core.CodeInvalid, "a report needs at least one period")
	}
	query := fmt.Sprintf(reportSQL, g[0], g[1])
	var out []report.Row
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, query, q.Periods)
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
		return nil, fmt.Errorf("postgres: report: %w", err)
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

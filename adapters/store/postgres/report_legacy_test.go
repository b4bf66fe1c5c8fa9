package postgres

import (
	"fmt"
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/report"
)

// legacyReportSQL is how reports were computed before report_sessions:
// from the event log, each session's read through events_session. The
// replay test checks that report_sessions gives exactly its rows.
const legacyReportSQL = `
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

var legacyReportGroups = map[report.Group][2]string{
	report.GroupNone:       {"''", ""},
	report.GroupAgent:      {"s.agent", "JOIN sessions s ON s.id = i.session_id"},
	report.GroupTechnician: {"s.technician", "JOIN sessions s ON s.id = i.session_id"},
	report.GroupProvider:   {"s.provider", "JOIN sessions s ON s.id = i.session_id"},
	report.GroupChannel: {"c.customer_channel",
		"JOIN sessions s ON s.id = i.session_id JOIN conversations c ON c.id = s.conversation_id"},
}

// legacyReport computes q with legacyReportSQL, rows in Report's order.
func legacyReport(t *testing.T, st core.Store, q report.Query) []report.Row {
	t.Helper()
	g := legacyReportGroups[q.Group]
	out, err := st.(*Store).scanReport(t.Context(), fmt.Sprintf(legacyReportSQL, g[0], g[1]), q.Periods)
	if err != nil {
		t.Fatalf("legacy report: %v", err)
	}
	return out
}

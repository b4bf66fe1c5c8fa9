package postgres

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core/coretest/storetest"
	"github.com/assistbot/assistbot/core/report"
)

// reportSessionsEnv sets how many sessions BenchmarkReport seeds, as in
// the SQLite store's benchmark: 20,000 by default.
//
//	ASSISTBOT_BENCH_REPORT_SESSIONS=1000000 go test -bench BenchmarkReport -run '^$' ./adapters/store/...
const reportSessionsEnv = "ASSISTBOT_BENCH_REPORT_SESSIONS"

func reportSessions(b *testing.B) int {
	if v := os.Getenv(reportSessionsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 {
			b.Fatalf("%s=%q: want a number of sessions, 10 or more", reportSessionsEnv, v)
		}
		return n
	}
	return 20000
}

// reportYear is the year the seeded sessions are spread over.
var reportYear = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// seedReportSQL fills an empty schema with $1 sessions spread evenly
// over 2025, as the SQLite benchmark does (the same channels, agents,
// providers and histories; 4.6 events a session), with generate_series:
// $2 is the year's start and $3 the gap between two sessions in microseconds.
var seedReportSQL = []string{
	// The rows are consistent by construction: their foreign keys need
	// no check, row by row (the test server's user is a superuser). The
	// sessions and events are written as the store writes them, for the
	// triggers that keep report_sessions (which replica mode would skip).
	`SET LOCAL session_replication_role = replica`,
	`CREATE TEMP TABLE seed_steps (step int, action text, kinds text, offset_us bigint)`,
	`INSERT INTO seed_steps VALUES
	    (0, 'issue', '0123456789', 0),
	    (1, 'expire', '8', 1200000000),
	    (2, 'regenerate', '8', 1260000000),
	    (3, 'send', '01234567', 5000000),
	    (4, 'join', '012345678', -1),
	    (5, 'start', '0123458', -2),
	    (6, 'end', '0123458', -3),
	    (7, 'close', '69', 3600000000),
	    (8, 'expire', '7', 1200000000)`,
	`INSERT INTO conversations (id, customer_channel, customer_address, customer_name, desk_channel,
	    desk_address, desk_thread, locale, state, created_at, updated_at, version)
	SELECT 'conv-' || i, (ARRAY['sms', 'web', 'slack', 'discord'])[i % 4 + 1], 'customer-' || i, 'Customer',
	    'console', '', '', 'en', 'closed', $2::timestamptz + (i * $3::bigint) * interval '1 microsecond', $2::timestamptz + (i * $3::bigint) * interval '1 microsecond', 1
	FROM generate_series(0, $1::int - 1) AS i`,
	`SET LOCAL session_replication_role = origin`,
	`INSERT INTO sessions (id, conversation_id, provider, provider_ref, pin, pin_expires_at, desktop_url,
	    mobile_url, manual_url, state, device, mode, agent, technician, locale, customer_key, created_at,
	    updated_at, version)
	SELECT 'sess-' || i, 'conv-' || i, CASE WHEN i % 10 = 3 THEN 'meshcentral' ELSE 'builtin' END, '',
	    lpad(i::text, 10, '0'), $2::timestamptz + (i * $3::bigint) * interval '1 microsecond' + interval '20 minutes',
	    'https://example.test/d', 'https://example.test/m', 'https://example.test',
	    CASE WHEN i % 10 IN (6, 9) THEN 'closed' WHEN i % 10 = 7 THEN 'expired' ELSE 'ended' END,
	    'desktop', 'view', 'agent' || (i % 50), CASE WHEN i % 10 IN (6, 7, 9) THEN '' ELSE 'tech' || (i % 20) END,
	    'en', '', $2::timestamptz + (i * $3::bigint) * interval '1 microsecond', $2::timestamptz + (i * $3::bigint) * interval '1 microsecond', 1
	FROM generate_series(0, $1::int - 1) AS i`,
	`INSERT INTO events (session_id, at, actor, action, from_state, to_state, detail)
	SELECT 'sess-' || i,
	    $2::timestamptz + (i * $3::bigint) * interval '1 microsecond' + interval '1 microsecond' * CASE st.offset_us
	        WHEN -1 THEN (30 + i % 300) * 1000000 + CASE WHEN i % 10 = 8 THEN 1300000000 ELSE 0 END
	        WHEN -2 THEN (40 + i % 300 + i % 120) * 1000000 + CASE WHEN i % 10 = 8 THEN 1300000000 ELSE 0 END
	        WHEN -3 THEN 1800000000::bigint + CASE WHEN i % 10 = 8 THEN 1300000000 ELSE 0 END
	        ELSE st.offset_us END,
	    'agent:agent' || (i % 50), st.action, '', '', ''
	FROM generate_series(0, $1::bigint - 1) AS i
	JOIN seed_steps st ON strpos(st.kinds, (i % 10)::text) > 0
	ORDER BY i, st.step`,
	`DROP TABLE seed_steps`,
}

// seedReport fills the schema of dsn, a store's, empty, with n sessions.
func seedReport(b *testing.B, dsn string, n int) time.Duration {
	c := rawConn(b, dsn)
	ctx := context.Background()
	start := time.Now()
	gap := int64(365*24*time.Hour/time.Microsecond) / int64(n)
	tx, err := c.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, stmt := range seedReportSQL {
		var args []any
		if strings.HasPrefix(stmt, "INSERT") && !strings.HasPrefix(stmt, "INSERT INTO seed_steps V") {
			args = []any{n, reportYear, gap}
		}
		if _, err := tx.Exec(ctx, stmt, args...); err != nil {
			b.Fatalf("seed %d sessions: %v\n%s", n, err, stmt)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	// What autovacuum does soon after such a load: statistics, and the
	// visibility map that index-only scans need.
	if _, err := c.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// reportCases are the reports BenchmarkReport computes, as on SQLite.
var reportCases = []struct {
	name   string
	from   time.Time
	days   int
	period time.Duration
	group  report.Group
}{
	{"December_by_day", time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), 31, 24 * time.Hour, report.GroupNone},
	{"December_by_day_and_channel", time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), 31, 24 * time.Hour, report.GroupChannel},
	{"year_by_week_and_agent", time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC), 371, 7 * 24 * time.Hour, report.GroupAgent},
	{"year_by_day", reportYear, 365, 24 * time.Hour, report.GroupNone},
}

func reportPeriods(from time.Time, days int, period time.Duration) []time.Time {
	var out []time.Time
	for t := from; !t.After(from.AddDate(0, 0, days)); t = t.Add(period) {
		out = append(out, t)
	}
	return out
}

// BenchmarkReport computes reports of a year of sessions (a million with
// ASSISTBOT_BENCH_REPORT_SESSIONS=1000000).
func BenchmarkReport(b *testing.B) {
	s := seededStore(b)
	for _, c := range reportCases {
		b.Run(c.name, func(b *testing.B) {
			q := report.Query{Periods: reportPeriods(c.from, c.days, c.period), Group: c.group}
			var rows []report.Row
			var err error
			for b.Loop() {
				if rows, err = s.Report(b.Context(), q); err != nil {
					b.Fatal(err)
				}
			}
			issued := 0
			for _, r := range rows {
				issued += r.Issued
			}
			b.ReportMetric(float64(issued), "sessions")
			if issued == 0 {
				b.Fatalf("%s counted no session", c.name)
			}
		})
	}
}

// BenchmarkListings reads what the console's queue page, the API's list
// and a /remote read (storetest.BenchListings), with a year of sessions
// stored (a million with ASSISTBOT_BENCH_REPORT_SESSIONS=1000000); then
// the lists of states again, with 20,000 live sessions stored on top
// (storetest.BenchStatesPastLive).
func BenchmarkListings(b *testing.B) {
	s := seededStore(b)
	storetest.BenchListings(b, s, reportYear.Add(180*24*time.Hour))
	storetest.BenchStatesPastLive(b, s, 20_000)
}

// seededStore opens a store in a schema of its own and seeds it with a
// year of sessions (reportSessions of them).
func seededStore(b *testing.B) *Store {
	b.Helper()
	pgtest.Connect(b)
	n := reportSessions(b)
	dsn := pgtest.Schema(b)
	s := openDSN(b, dsn)
	took := seedReport(b, dsn, n)
	b.Logf("seeded %d sessions in %v", n, took.Round(time.Millisecond))
	return s
}

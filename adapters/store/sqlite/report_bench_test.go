package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core/coretest/storetest"
	"github.com/assistbot/assistbot/core/report"
	"github.com/assistbot/assistbot/core/retention"
)

// reportSessionsEnv sets how many sessions BenchmarkReport seeds: a
// million is what it is for, but takes a minute to seed, so by default it
// seeds 20,000.
//
//	ASSISTBOT_BENCH_REPORT_SESSIONS=1000000 go test -bench BenchmarkReport -run '^$' ./adapters/store/...
const reportSessionsEnv = "ASSISTBOT_BENCH_REPORT_SESSIONS"

// reportSessions returns how many sessions to seed.
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

// seedReportSQL fills an empty database with ?1 sessions spread evenly
// over 2025, in SQL alone (a recursive CTE, one transaction): session i
// has conversation i, its customer on one of four channels, agent i%50,
// provider meshcentral one time in ten, and by i%10 it went
//
//	0-5  issue, send, join (30-329 s later), start (10-129 s), end
//	6    issue, send, join, close
//	7    issue, send, expire
//	8    issue, expire, regenerate, send, join, start, end
//	9    issue, close
//
// so 4.6 events a session, each session's written together. ?2 is the
// year's start and ?3 the gap between two sessions, in microseconds.
const seedReportSQL = `
CREATE TEMP TABLE seed_steps (step INTEGER, action TEXT, kinds TEXT, offset_us INTEGER);
INSERT INTO seed_steps VALUES
    (0, 'issue', '0123456789', 0),
    (1, 'expire', '8', 1200000000),
    (2, 'regenerate', '8', 1260000000),
    (3, 'send', '01234567', 5000000),
    (4, 'join', '012345678', -1),
    (5, 'start', '0123458', -2),
    (6, 'end', '0123458', -3),
    (7, 'close', '69', 3600000000),
    (8, 'expire', '7', 1200000000);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
INSERT INTO conversations (seq, id, customer_channel, customer_address, customer_name, desk_channel,
    desk_address, locale, state, created_at, updated_at, version)
SELECT i + 1, 'conv-' || i, CASE i % 4 WHEN 0 THEN 'sms' WHEN 1 THEN 'web' WHEN 2 THEN 'slack' ELSE 'discord' END,
    'customer-' || i, 'Customer', 'console', '', 'en', 'closed', ?2 + i * ?3, ?2 + i * ?3, 1
FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
INSERT INTO sessions (seq, id, conversation_seq, provider, provider_ref, pin, pin_expires_at, desktop_url,
    mobile_url, manual_url, state, device, mode, agent, technician, locale, customer_key, created_at,
    updated_at, joined_at, started_at, ended_at, version)
SELECT i + 1, 'sess-' || i, i + 1, CASE WHEN i % 10 = 3 THEN 'meshcentral' ELSE 'builtin' END, '', printf('%010d', i),
    ?2 + i * ?3 + 1200000000, 'https://example.test/d', 'https://example.test/m', 'https://example.test',
    CASE WHEN i % 10 IN (6, 9) THEN 'closed' WHEN i % 10 = 7 THEN 'expired' ELSE 'ended' END,
    'desktop', 'view', 'agent' || (i % 50), CASE WHEN i % 10 IN (6, 7, 9) THEN '' ELSE 'tech' || (i % 20) END,
    'en', '', ?2 + i * ?3, ?2 + i * ?3, 0, 0, 0, 1
FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
INSERT INTO events (session_seq, at, actor, action, from_state, to_state, detail)
SELECT i + 1,
    ?2 + i * ?3 + CASE st.offset_us
        WHEN -1 THEN (30 + i % 300) * 1000000 + CASE WHEN i % 10 = 8 THEN 1300000000 ELSE 0 END
        WHEN -2 THEN (40 + i % 300 + i % 120) * 1000000 + CASE WHEN i % 10 = 8 THEN 1300000000 ELSE 0 END
        WHEN -3 THEN 1800000000 + CASE WHEN i % 10 = 8 THEN 1300000000 ELSE 0 END
        ELSE st.offset_us END,
    'agent:agent' || (i % 50), st.action, '', '', ''
FROM n JOIN seed_steps st ON instr(st.kinds, i % 10) > 0
ORDER BY i, st.step;
DROP TABLE seed_steps;
`

// seedReport fills the database at path, which must be a store's, empty,
// with n sessions (seedReportSQL), and returns how long it took.
func seedReport(b testing.TB, path string, n int) time.Duration {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	gap := int64(365*24*time.Hour/time.Microsecond) / int64(n)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "PRAGMA busy_timeout = 10000"); err != nil {
		b.Fatal(err)
	}
	// The writer keeps report_sessions (report_rows.go); rows written in
	// SQL alone get theirs from the migration's backfill.
	for _, stmt := range append(strings.Split(seedReportSQL, ";\n"), reportBackfillSQL(b)) {
		var args []any
		if strings.Contains(stmt, "?") {
			args = []any{n, reportYear.UnixMicro(), gap}
		}
		if strings.TrimSpace(stmt) == "" || strings.TrimSpace(stmt) == "ANALYZE;" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
			b.Fatalf("seed %d sessions: %v\n%s", n, err, stmt)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// reportCases are the reports BenchmarkReport computes, on both stores.
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

// reportPeriods returns the bounds of a case's periods.
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
	s := seededStore(b, "report.db")
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

// BenchmarkPrune deletes, batch after batch of retention.DefaultBatch,
// the sessions of the first half of a year of them (a million with
// ASSISTBOT_BENCH_REPORT_SESSIONS=1000000): what store.retention does
// every hour. A batch is one write, so its time is the longest a command
// waits behind the retention.
func BenchmarkPrune(b *testing.B) {
	s := seededStore(b, "prune.db")
	before := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	var pruned retention.Pruned
	batches := 0
	for b.Loop() {
		p, err := s.Prune(b.Context(), before, retention.DefaultBatch)
		if err != nil {
			b.Fatal(err)
		}
		if p.Zero() {
			b.Fatalf("nothing left to prune after %d batches: seed more sessions or run fewer batches (-benchtime %dx)", batches, batches)
		}
		pruned.Add(p)
		batches++
	}
	b.ReportMetric(float64(pruned.Sessions)/float64(batches), "sessions/batch")
	b.ReportMetric(float64(pruned.Events)/float64(batches), "events/batch")
}

// BenchmarkListings reads what the console's queue page, the API's list
// and a /remote read (storetest.BenchListings), with a year of sessions
// stored (a million with ASSISTBOT_BENCH_REPORT_SESSIONS=1000000); then
// the lists of states again, with 20,000 live sessions stored on top
// (storetest.BenchStatesPastLive).
func BenchmarkListings(b *testing.B) {
	s := seededStore(b, "listings.db")
	storetest.BenchListings(b, s, reportYear.Add(180*24*time.Hour))
	storetest.BenchStatesPastLive(b, s, 20_000)
}

// seededStore opens a store in a file called name and seeds it with a
// year of sessions (reportSessions of them); the benchmark closes it.
func seededStore(b *testing.B, name string) *Store {
	b.Helper()
	n := reportSessions(b)
	path := filepath.Join(b.TempDir(), name)
	s, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	took := seedReport(b, path, n)
	b.Logf("seeded %d sessions in %v", n, took.Round(time.Millisecond))
	return s
}

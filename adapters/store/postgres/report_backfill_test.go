package postgres

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/assistbot/assistbot/core/report/reporttest"
)

// TestReportBackfill checks the backfill of report_sessions in its
// migration: rebuilt by it from the event log of random histories, the
// summaries give exactly the reports of the event log.
func TestReportBackfill(t *testing.T) {
	b, err := migrationFiles.ReadFile("migrations/0009_report_sessions.sql")
	if err != nil {
		t.Fatal(err)
	}
	backfill, _, _ := strings.Cut(string(b)[strings.Index(string(b), "INSERT INTO report_sessions"):], ";\n")
	st := openTest(t)
	queries := reporttest.SeedReplayHistory(t, st, 11)
	for _, stmt := range []string{"DELETE FROM report_sessions", backfill} {
		if _, err := st.pool.Exec(t.Context(), stmt); err != nil {
			t.Fatalf("%v\n%s", err, stmt)
		}
	}
	for _, q := range queries {
		got, err := st.Report(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(legacyReport(t, st, q), got); diff != "" {
			t.Errorf("Report(%q) after the backfill (-event log +store):\n%s", q.Group, diff)
		}
	}
}

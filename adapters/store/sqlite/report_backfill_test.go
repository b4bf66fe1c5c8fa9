package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/assistbot/assistbot/core/report/reporttest"
)

// TestReportBackfill checks the backfill of report_sessions in its
// migration: rebuilt by it from the event log of random histories, the
// summaries give exactly the reports of the event log.
func TestReportBackfill(t *testing.T) {
	backfill := reportBackfillSQL(t)
	path := filepath.Join(t.TempDir(), "assistbot.db")
	st, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	queries := reporttest.SeedReplayHistory(t, st, 11)
	for _, stmt := range []string{"DELETE FROM report_sessions", backfill} {
		if _, err := rawDB(t, path).ExecContext(t.Context(), stmt); err != nil {
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

// reportBackfillSQL returns the statement of migration 0010 that fills
// report_sessions from the sessions and their event log.
func reportBackfillSQL(tb testing.TB) string {
	b, err := migrationFiles.ReadFile("migrations/0010_report_sessions.sql")
	if err != nil {
		tb.Fatal(err)
	}
	backfill, _, _ := strings.Cut(string(b)[strings.Index(string(b), "INSERT INTO report_sessions"):], ";\n")
	return backfill
}

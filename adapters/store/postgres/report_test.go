package postgres

import (
	"testing"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/report/reporttest"
)

func TestReportContract(t *testing.T) {
	pgtest.Connect(t) // skips once, not in every subtest, without a server
	reporttest.RunStoreTests(t, func(t *testing.T) core.Store { return openTest(t) })
}

// TestReportReplay checks report_sessions, which the triggers keep, against
// the event log, over random histories.
func TestReportReplay(t *testing.T) {
	pgtest.Connect(t)
	reporttest.RunReplayTests(t, func(t *testing.T) core.Store { return openTest(t) }, legacyReport)
}

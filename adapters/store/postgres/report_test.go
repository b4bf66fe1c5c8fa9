package postgres

import (
	"testing"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest/storetest"
)

func TestReportContract(t *testing.T) {
	pgtest.Connect(t) // skips once, not in every subtest, without a server
	storetest.RunReportTests(t, func(t *testing.T) core.Store { return openTest(t) })
}

// TestReportReplay checks report_sessions, which the triggers keep, against
// the event log, over random histories.
func TestReportReplay(t *testing.T) {
	pgtest.Connect(t)
	storetest.RunReportReplayTests(t, func(t *testing.T) core.Store { return openTest(t) }, legacyReport)
}

package sqlite

import (
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/report/reporttest"
)

func TestReportContract(t *testing.T) {
	reporttest.RunStoreTests(t, func(t *testing.T) core.Store { return openTemp(t) })
}

// TestReportReplay checks report_sessions, which the triggers keep, against
// the event log, over random histories.
func TestReportReplay(t *testing.T) {
	reporttest.RunReplayTests(t, func(t *testing.T) core.Store { return openTemp(t) }, legacyReport)
}

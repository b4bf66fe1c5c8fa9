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

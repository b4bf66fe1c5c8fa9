package postgres

import (
	"testing"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/retention/retentiontest"
)

func TestRetentionContract(t *testing.T) {
	pgtest.Connect(t) // skips once, not in every subtest, without a server
	retentiontest.RunStoreTests(t, func(t *testing.T) core.Store { return openTest(t) })
}

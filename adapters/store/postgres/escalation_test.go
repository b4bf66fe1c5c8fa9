package postgres

import (
	"testing"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest/storetest"
)

// TestEscalationOnce: three replicas on one database record each
// escalation of a waiting customer once.
func TestEscalationOnce(t *testing.T) {
	dsn := pgtest.Schema(t)
	storetest.RunEscalationOnce(t, []core.Store{openDSN(t, dsn), openDSN(t, dsn), openDSN(t, dsn)})
}

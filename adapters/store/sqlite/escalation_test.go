package sqlite

import (
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest/storetest"
)

// TestEscalationOnce: one process, its sweeps racing with each other on
// one file, records each escalation of a waiting customer once.
func TestEscalationOnce(t *testing.T) {
	st := openTemp(t)
	storetest.RunEscalationOnce(t, []core.Store{st, st})
}

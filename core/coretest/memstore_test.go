package coretest_test

import (
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/coretest/storetest"
)

func TestMemStore(t *testing.T) {
	storetest.RunStoreTests(t, func(t *testing.T) core.Store {
		s := coretest.NewMemStore()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestMemStoreNotBroadcaster: a MemStore is one process's, so the engine
// must not start listening to other replicas through it.
func TestMemStoreNotBroadcaster(t *testing.T) {
	if _, ok := any(coretest.NewMemStore()).(core.Broadcaster); ok {
		t.Error("MemStore implements core.Broadcaster")
	}
}

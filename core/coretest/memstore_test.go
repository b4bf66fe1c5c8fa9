package coretest_test

import (
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

func TestMemStore(t *testing.T) {
	coretest.RunStoreTests(t, func(t *testing.T) core.Store {
		s := coretest.NewMemStore()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

package coretest_test

import (
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/report/reporttest"
)

func TestMemStoreReport(t *testing.T) {
	reporttest.RunStoreTests(t, func(t *testing.T) core.Store {
		s := coretest.NewMemStore()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

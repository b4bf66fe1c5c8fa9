package coretest_test

import (
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/coretest/storetest"
)

func TestMemStoreReport(t *testing.T) {
	storetest.RunReportTests(t, func(t *testing.T) core.Store {
		s := coretest.NewMemStore()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

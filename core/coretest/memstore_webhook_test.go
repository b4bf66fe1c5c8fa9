package coretest_test

import (
	"testing"

	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/webhook/webhooktest"
)

// TestMemWebhookStore holds the in-memory webhook store to the contract
// the real stores pass.
func TestMemWebhookStore(t *testing.T) {
	webhooktest.RunStoreTests(t, func(t *testing.T) webhooktest.Store {
		s := coretest.NewMemWebhookStore(nil)
		t.Cleanup(func() { s.Close() })
		return s
	})
}

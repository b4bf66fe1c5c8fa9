package coretest_test

import (
	"testing"

	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/coretest/storetest"
)

// TestMemWebhookStore holds the in-memory webhook store to the contract
// the real stores pass.
func TestMemWebhookStore(t *testing.T) {
	storetest.RunWebhookStoreTests(t, func(t *testing.T) storetest.WebhookStore {
		s := coretest.NewMemWebhookStore(nil)
		t.Cleanup(func() { s.Close() })
		return s
	})
}

package sqlite

import (
	"testing"

	"github.com/assistbot/assistbot/core/webhook/webhooktest"
)

func TestWebhookStoreContract(t *testing.T) {
	webhooktest.RunStoreTests(t, func(t *testing.T) webhooktest.Store { return openTemp(t) })
}

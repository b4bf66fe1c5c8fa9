package postgres

import (
	"testing"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core/webhook/webhooktest"
)

func TestWebhookStoreContract(t *testing.T) {
	pgtest.Connect(t)
	webhooktest.RunStoreTests(t, func(t *testing.T) webhooktest.Store { return openTest(t) })
}

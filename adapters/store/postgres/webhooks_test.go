package postgres

import (
	"testing"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core/coretest/storetest"
)

func TestWebhookStoreContract(t *testing.T) {
	pgtest.Connect(t)
	storetest.RunWebhookStoreTests(t, func(t *testing.T) storetest.WebhookStore { return openTest(t) })
}

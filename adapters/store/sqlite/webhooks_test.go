package sqlite

import (
	"testing"

	"github.com/assistbot/assistbot/core/coretest/storetest"
)

func TestWebhookStoreContract(t *testing.T) {
	storetest.RunWebhookStoreTests(t, func(t *testing.T) storetest.WebhookStore { return openTemp(t) })
}

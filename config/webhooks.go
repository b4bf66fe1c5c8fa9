package config

import (
	"fmt"

	"github.com/assistbot/assistbot/core/webhook"
)

// webhooks checks the configured webhook endpoints. Names are not
// resolved here: a host that resolves to a private address is refused
// when assistbot sends to it.
func (k *checker) webhooks(c *Config) {
	first := map[string]int{}
	for i, w := range c.Webhooks {
		key := fmt.Sprintf("webhooks[%d]", i)
		switch j, dup := first[w.ID]; {
		case w.ID == "":
			k.add(key+".id", "is required")
		case webhook.CheckConfigID(w.ID) != nil:
			k.add(key+".id", "%q %v", w.ID, webhook.CheckConfigID(w.ID))
		case dup:
			k.add(key+".id", "%q is already used by webhooks[%d]; ids must be unique", w.ID, j)
		default:
			first[w.ID] = i
		}
		if k.required(key+".url", w.URL, "") {
			if _, err := webhook.CheckURL(w.URL, c.WebhooksAllowPrivate); err != nil {
				k.add(key+".url", "%v", err)
			}
		}
		if k.required(key+".secret", w.Secret, "(try `openssl rand -hex 32`)") {
			if webhook.CheckSecret(w.Secret) != nil {
				k.add(key+".secret", "is too short: use at least %d characters (try `openssl rand -hex 32`)", webhook.MinSecret)
			}
		}
		if err := webhook.CheckEvents(w.Events); err != nil {
			k.add(key+".events", "%v", err)
		}
	}
}

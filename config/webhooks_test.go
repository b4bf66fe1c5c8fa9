package config

import (
	"errors"
	"strings"
	"testing"
)

// TestWebhookProblems: every bad webhook key is named, and the secret
// never shows.
func TestWebhookProblems(t *testing.T) {
	src := `
webhooks:
  - id: crm
    url: https://crm.example.com/hook
    secret: 0123456789abcdef0123
  - id: crm
    url: ftp://crm.example.com/hook
    secret: short-secret
  - id: Bad_ID
    url: http://10.1.2.3/hook
    secret: 0123456789abcdef0123
    events: ["session.nope"]
  - id: local
    url: http://localhost:8080/hook
`
	c, err := Load(strings.NewReader(src), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Validate() = %v", err)
	}
	got := map[string]string{}
	for _, p := range ps {
		got[p.Key] = p.Message
	}
	for key, want := range map[string]string{
		"webhooks[1].id":     "already used by webhooks[0]",
		"webhooks[1].url":    "http:// or https://",
		"webhooks[1].secret": "at least 16 characters",
		"webhooks[2].id":     "lowercase",
		"webhooks[2].url":    "private address (10.1.2.3)",
		"webhooks[2].events": "session.nope",
		"webhooks[3].url":    "loopback",
		"webhooks[3].secret": "is required",
	} {
		if !strings.Contains(got[key], want) {
			t.Errorf("%s: %q, want it to say %q", key, got[key], want)
		}
	}
	if _, ok := got["webhooks[0].url"]; ok {
		t.Errorf("a good webhook was refused: %v", got)
	}
	if strings.Contains(err.Error(), "short-secret") {
		t.Errorf("a secret shows: %v", err)
	}
	c.WebhooksAllowPrivate = true
	ps = nil
	errors.As(c.Validate(), &ps)
	for _, p := range ps {
		if strings.HasSuffix(p.Key, ".url") && strings.Contains(p.Message, "private") {
			t.Errorf("with webhooks_allow_private: %s %s", p.Key, p.Message)
		}
	}
}

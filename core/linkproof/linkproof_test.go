package linkproof_test

import (
	"testing"

	"github.com/assistbot/assistbot/core/linkproof"
)

// A proof is short enough for an SMS, depends on the key, the session and
// the PIN, and is the same wherever it is computed.
func TestLinkProof(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	p := linkproof.Make(key, "sess-1", "123456")
	if len(p) != linkproof.Len || p != linkproof.Make(key, "sess-1", "123456") {
		t.Fatalf("proof %q", p)
	}
	for name, other := range map[string]string{
		"another key":     linkproof.Make([]byte("fedcba9876543210fedcba9876543210"), "sess-1", "123456"),
		"another session": linkproof.Make(key, "sess-2", "123456"),
		"another PIN":     linkproof.Make(key, "sess-1", "123457"),
	} {
		if other == p {
			t.Errorf("%s gives the same proof %q", name, p)
		}
	}
}

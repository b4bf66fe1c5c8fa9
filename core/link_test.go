package core_test

import (
	"testing"

	"github.com/assistbot/assistbot/core"
)

// A proof is short enough for an SMS, depends on the key, the session and
// the PIN, and is the same wherever it is computed.
func TestLinkProof(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	p := core.LinkProof(key, "sess-1", "123456")
	if len(p) != core.LinkProofLen || p != core.LinkProof(key, "sess-1", "123456") {
		t.Fatalf("proof %q", p)
	}
	for name, other := range map[string]string{
		"another key":     core.LinkProof([]byte("fedcba9876543210fedcba9876543210"), "sess-1", "123456"),
		"another session": core.LinkProof(key, "sess-2", "123456"),
		"another PIN":     core.LinkProof(key, "sess-1", "123457"),
	} {
		if other == p {
			t.Errorf("%s gives the same proof %q", name, p)
		}
	}
}

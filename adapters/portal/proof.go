package portal

import (
	"context"
	"crypto/subtle"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/linkproof"
)

// LinkKeyName names the key of the links' proofs in the key store, and
// LinkKeySize is its size.
const (
	LinkKeyName = "link-proof"
	LinkKeySize = 32
)

// A link the support team sent carries, beside its PIN, a proof that it
// was issued: core.LinkProof of the session's id and PIN under the key every
// replica shares (the store's "link-proof" key). Whoever follows such a
// link is a customer, not a guesser: the guessing limits neither count
// nor refuse them. A typed code, or a link whose proof is wrong, is a
// guess like any other.

// proven reports whether proof is the proof of s's current PIN under the
// link key, or the one before its last rotation.
func (p *Portal) proven(ctx context.Context, s *core.Session, proof string) bool {
	if len(proof) != linkproof.Len || s == nil || p.links == nil {
		return false
	}
	ok, _ := p.links.Check(ctx, func(key []byte) bool {
		return subtle.ConstantTimeCompare([]byte(linkproof.Make(key, s.ID, s.PIN)), []byte(proof)) == 1
	})
	return ok
}

// proofOf returns the proof of s's links under the current link key, or
// "" when the portal has none.
func (p *Portal) proofOf(ctx context.Context, s *core.Session) string {
	if p.links == nil {
		return ""
	}
	key, _, err := p.links.Keys(ctx)
	if err != nil {
		return ""
	}
	return linkproof.Make(key, s.ID, s.PIN)
}

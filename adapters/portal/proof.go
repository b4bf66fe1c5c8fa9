package portal

import (
	"crypto/subtle"

	"github.com/assistbot/assistbot/core"
)

// A link the support team sent carries, beside its PIN, a proof that it
// was issued: core.LinkProof of the session's id and PIN under the key every
// replica shares (the store's "link-proof" key). Whoever follows such a
// link is a customer, not a guesser: the guessing limits neither count
// nor refuse them. A typed code, or a link whose proof is wrong, is a
// guess like any other.

// proven reports whether proof is the proof of s's current PIN under the
// link key, or the one before its last rotation.
func (p *Portal) proven(s *core.Session, proof string) bool {
	if len(proof) != core.LinkProofLen || s == nil {
		return false
	}
	ok := false
	for _, key := range p.linkKeys {
		want := core.LinkProof(key, s.ID, s.PIN)
		ok = subtle.ConstantTimeCompare([]byte(want), []byte(proof)) == 1 || ok
	}
	return ok
}

// proofOf returns the proof of s's links under the current link key, or
// "" when the portal has none.
func (p *Portal) proofOf(s *core.Session) string {
	if len(p.linkKeys) == 0 {
		return ""
	}
	return core.LinkProof(p.linkKeys[0], s.ID, s.PIN)
}

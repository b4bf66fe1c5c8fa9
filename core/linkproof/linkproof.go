// Package linkproof makes the proof a link the support team sent carries
// beside its PIN, so that the portal can tell a followed link from a typed
// or guessed code.
package linkproof

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// Len is how many base64url characters a link's proof has: 42
// bits. A wrong proof counts as a guess, so it is never worth guessing,
// and seven characters keep the mobile link within one SMS segment in
// Korean and Japanese (70 UTF-16 units) for a host as long as
// support.example.com.
const Len = 7

// Make returns what a link the support team sent carries beside its
// PIN to prove it was issued: the first Len base64url characters
// of HMAC-SHA256(key, "assistbot link proof" NUL sessionID NUL pin), with
// the key every replica shares. The portal lets whoever follows such a
// link in without counting them against the guessing limits; a typed
// code, or a link whose proof is wrong, is a guess like any other.
func Make(key []byte, sessionID, pin string) string {
	m := hmac.New(sha256.New, key)
	msg := make([]byte, 0, 64)
	msg = append(append(append(append(msg, "assistbot link proof\x00"...), sessionID...), 0), pin...)
	m.Write(msg)
	var sum [sha256.Size]byte
	var enc [8]byte
	base64.RawURLEncoding.Encode(enc[:], m.Sum(sum[:0])[:6])
	return string(enc[:Len])
}

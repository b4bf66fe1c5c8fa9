package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// Tokens derives the CSRF tokens of browsers that have no sign-in: the
// console's sign-in form and the customer's web chat. Each token is an
// HMAC of a value the browser holds in an HttpOnly cookie, under a key
// that lives as long as the process, so a page from another site can
// neither read nor forge it.
type Tokens struct{ key []byte }

// NewTokens returns Tokens under a fresh random key.
func NewTokens() Tokens {
	key := make([]byte, 32)
	rand.Read(key)
	return Tokens{key: key}
}

// Make returns the token of value for purpose ("login", "chat").
func (t Tokens) Make(purpose, value string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Valid reports whether token is the token of value for purpose.
func (t Tokens) Valid(purpose, value, token string) bool {
	if value == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(token), []byte(t.Make(purpose, value)))
}

// SameToken compares a submitted token with the expected one in constant
// time; an empty submission never matches.
func SameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

package webchat

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// A chat identity is a random id that assistbot issued, in a cookie that
// carries it with its signature: "<id>.<signature>". Only a signed id
// reads a transcript, writes or opens an event stream, so an invented
// cookie gets nothing, and the CSRF tokens of the chat's forms are
// signed the same way. The key is the store's "web-chat" key, the same
// on every replica, so that any replica checks what another signed.

// idLen is the length of a chat id: rand.Text's 26 base32 characters.
const idLen = 26

// signer signs chat ids and tokens with the current key, and checks them
// with it or the one before its last rotation.
type signer struct{ keys [][]byte }

// newSigner returns a signer for current and previous (either may be
// nil); without a current key it makes a random one, which lives as long
// as the process (tests, or a store that keeps no keys).
func newSigner(current, previous []byte) signer {
	if len(current) == 0 {
		current = make([]byte, 32)
		rand.Read(current)
	}
	s := signer{keys: [][]byte{current}}
	if len(previous) > 0 {
		s.keys = append(s.keys, previous)
	}
	return s
}

func mac(key []byte, purpose, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Make returns the token of value for purpose ("chat-id", "chat").
func (s signer) Make(purpose, value string) string { return mac(s.keys[0], purpose, value) }

// Valid reports whether token is the token of value for purpose under
// either key.
func (s signer) Valid(purpose, value, token string) bool {
	if value == "" || token == "" {
		return false
	}
	ok := false
	for _, k := range s.keys {
		ok = hmac.Equal([]byte(token), []byte(mac(k, purpose, value))) || ok
	}
	return ok
}

// signedID is the value of the chat cookie for chat id.
func (c *Chat) signedID(id string) string { return id + "." + c.tokens.Make("chat-id", id) }

// chatID returns the chat id of r's cookie if assistbot signed it.
func (c *Chat) chatID(r *http.Request) (string, bool) {
	ck, err := r.Cookie(chatCookie)
	if err != nil {
		return "", false
	}
	id, sig, ok := strings.Cut(ck.Value, ".")
	if !ok || !wellFormedID(id) || !c.tokens.Valid("chat-id", id, sig) {
		return "", false
	}
	return id, true
}

// legacyID returns the chat id of a cookie from before ids were signed,
// when the conversation cookie names a conversation of that very chat:
// proof enough that assistbot issued it, so the chat page adopts it (and
// signs it) rather than lose the customer's conversation. A made-up id
// has no conversation and gets nothing.
func (c *Chat) legacyID(r *http.Request) (string, bool) {
	ck, err := r.Cookie(chatCookie)
	if err != nil || !wellFormedID(ck.Value) {
		return "", false
	}
	conv, err := c.chatConversation(r, ck.Value)
	if err != nil || conv == nil {
		return "", false
	}
	return ck.Value, true
}

// wellFormedID reports whether id looks like an id rand.Text made.
func wellFormedID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for _, b := range []byte(id) {
		if !(b >= 'A' && b <= 'Z' || b >= '2' && b <= '7') {
			return false
		}
	}
	return true
}

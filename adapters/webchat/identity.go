package webchat

import (
	"context"
	"net/http"
	"strings"

	"github.com/assistbot/assistbot/adapters/web"
)

// A chat identity is a random id that assistbot issued, in a cookie that
// carries it with its signature: "<id>.<signature>". Only a signed id
// reads a transcript, writes or opens an event stream, so an invented
// cookie gets nothing, and the CSRF tokens of the chat's forms are
// signed the same way. The key is the store's "web-chat" key, the same
// on every replica, so that any replica checks what another signed.

// idLen is the length of a chat id: rand.Text's 26 base32 characters.
const idLen = 26

// KeyName names the chat's key in the key store; keySize is its size.
const (
	KeyName = "web-chat"
	keySize = 32
)

// signer signs chat ids and tokens with the current key, and checks them
// with it or the one before its last rotation. The keyring is read when
// the chat starts, so its later reads never fail: a store that cannot be
// read leaves the keys already read in use.
type signer struct{ k *web.Keyring }

// Make returns the token of value for purpose ("chat-id", "chat").
func (s signer) Make(ctx context.Context, purpose, value string) string {
	tok, _ := s.k.Sign(ctx, purpose, value)
	return tok
}

// Valid reports whether token is the token of value for purpose under
// either key.
func (s signer) Valid(ctx context.Context, purpose, value, token string) bool {
	ok, _ := s.k.Valid(ctx, purpose, value, token)
	return ok
}

// signedID is the value of the chat cookie for chat id.
func (c *Chat) signedID(ctx context.Context, id string) string {
	return id + "." + c.tokens.Make(ctx, "chat-id", id)
}

// chatID returns the chat id of r's cookie if assistbot signed it.
func (c *Chat) chatID(r *http.Request) (string, bool) {
	ck, err := r.Cookie(chatCookie)
	if err != nil {
		return "", false
	}
	id, sig, ok := strings.Cut(ck.Value, ".")
	if !ok || !wellFormedID(id) || !c.tokens.Valid(r.Context(), "chat-id", id, sig) {
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

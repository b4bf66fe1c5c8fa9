package webchat

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
)

const (
	// chatCookie holds the customer's chat id, which is also the address
	// of their web endpoint: whoever holds it can read the chat, so it is
	// random, HttpOnly and sent only to /chat.
	chatCookie = "assistbot_chat"
	// chatConvCookie remembers the customer's conversation, so that the
	// page finds it after a restart; it is believed only when the
	// conversation's customer is the chat id of chatCookie.
	chatConvCookie = "assistbot_chat_conversation"
	// chatMaxAge keeps a chat across browser restarts for a month.
	chatMaxAge = 30 * 24 * time.Hour
	// maxCustomerName caps the name a customer gives.
	maxCustomerName = 80
	// maxForm caps a chat form: a message of 4000 characters
	// (core.MaxMessageRunes), each up to four bytes and each byte sent as
	// %XX, is 48,000 bytes; plus the name, the id and the token.
	maxForm = 64 << 10
	// maxClientID caps the id a script gives a message so that a retried
	// request is recorded once.
	maxClientID = 64
)

// handlePage shows the customer's chat, giving a new visitor a chat
// id, signed. Nothing is stored until they write.
func (c *Chat) handlePage(w http.ResponseWriter, r *http.Request) {
	id, ok := c.chatID(r)
	if !ok {
		id, ok = c.legacyID(r)
	}
	if !ok {
		id = rand.Text()
	}
	c.setChatCookie(w, chatCookie, c.signedID(r.Context(), id))
	v, err := c.chatView(r, id)
	if err != nil {
		c.chatError(w, r, err)
		return
	}
	v.Title = v.T("console.chat.title")
	c.render(w, r, http.StatusOK, "chat_page", v)
}

// handleTranscript renders the chat's messages and status alone, for
// the page's script. It also hands the script a current CSRF token: one
// from before a key rotation no longer verifies.
func (c *Chat) handleTranscript(w http.ResponseWriter, r *http.Request) {
	id, ok := c.chatID(r)
	if !ok {
		c.fail(w, r, http.StatusForbidden, "console.chat.no_cookie")
		return
	}
	v, err := c.chatView(r, id)
	if err != nil {
		c.chatError(w, r, err)
		return
	}
	w.Header().Set(web.CSRFHeader, v.CSRF)
	c.render(w, r, http.StatusOK, "chat_transcript", v)
}

// handleMessage records what the customer wrote, opening a
// conversation in the console on their first message. A message the
// limits or the checks refuse is not lost: the page's script keeps it in
// the box, and without script the page comes back with it there.
func (c *Chat) handleMessage(w http.ResponseWriter, r *http.Request) {
	id, ok := c.chatID(r)
	if !ok {
		c.fail(w, r, http.StatusForbidden, "console.chat.no_cookie")
		return
	}
	if c.cop.Check(r) != nil {
		c.fail(w, r, http.StatusForbidden, "console.chat.expired")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "console.error.form")
		return
	}
	tok := r.Header.Get(web.CSRFHeader)
	if tok == "" {
		tok = r.PostForm.Get("csrf")
	}
	if !c.tokens.Valid(r.Context(), "chat", id, tok) {
		c.fail(w, r, http.StatusForbidden, "console.chat.expired")
		return
	}
	text := strings.TrimSpace(r.PostForm.Get("text"))
	switch {
	case text == "" || !utf8.ValidString(text):
		c.refuse(w, r, id, http.StatusBadRequest, "console.chat.text_missing")
		return
	case utf8.RuneCountInString(text) > core.MaxMessageRunes:
		c.refuse(w, r, id, http.StatusBadRequest, "console.chat.too_long")
		return
	}
	// Only messages that would be recorded count against the limits: the
	// chat's own, and its address's, which several customers may share.
	client, _ := web.Client(r, c.proxies)
	no := c.limit.Take(id)
	if no.Wait == 0 {
		if no = c.clientLimit.Take(client); no.Wait > 0 {
			c.limit.Refund(id)
		}
	}
	if no.Wait > 0 {
		w.Header().Set("Retry-After", web.RetryAfter(no.Wait))
		c.refuse(w, r, id, http.StatusTooManyRequests, "console.chat.slow")
		return
	}
	in := core.Inbound{
		Customer: core.Endpoint{Channel: core.ChannelWeb, Address: id},
		Name:     customerName(r.PostForm.Get("name")),
		Text:     text,
		Locale:   c.catalog.Match(r.Header.Get("Accept-Language")),
		Desk:     core.Endpoint{Channel: core.ChannelConsole},
	}
	if cid := clientID(r.PostForm.Get("id")); cid != "" {
		in.Source = "web:" + id + ":" + cid
	}
	if in.Name == "" {
		// The page asks for a name only before the first message: a
		// customer writing again after their conversation was closed
		// opens the next one under the name they gave.
		if prev, err := c.chatConversation(r, id); err == nil && prev != nil {
			in.Name = prev.CustomerName
		}
	}
	conv, _, err := c.engine.CustomerMessage(r.Context(), in)
	switch {
	case errors.Is(err, core.ErrDuplicate):
		// The script's retry of a message recorded already: it was
		// counted the first time. The answer to the first may have been
		// lost with the cookie that names the conversation it opened.
		c.limit.Refund(id)
		c.clientLimit.Refund(client)
		if conv != nil {
			c.setChatCookie(w, chatConvCookie, conv.ID)
		}
	case err != nil:
		c.limit.Refund(id)
		c.clientLimit.Refund(client)
		status, key := c.failure(w, r, err)
		c.refuse(w, r, id, status, key)
		return
	default:
		c.setChatCookie(w, chatConvCookie, conv.ID)
	}
	if web.Fetched(r) {
		web.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
		return
	}
	http.Redirect(w, r, "/chat", http.StatusSeeOther)
}

// refuse answers a message the chat does not take, with status and the
// sentence of key. The script gets JSON and keeps the text in its box; a
// plain form gets the chat page again, with the sentence and with what
// the customer wrote still in the box, so nothing they typed is lost.
func (c *Chat) refuse(w http.ResponseWriter, r *http.Request, id string, status int, key string) {
	if web.WantsJSON(r) {
		c.fail(w, r, status, key)
		return
	}
	v, err := c.chatView(r, id)
	if err != nil {
		// The page cannot be read either: the plain answer, then.
		c.fail(w, r, status, key)
		return
	}
	v.Title, v.Error = v.T("console.chat.title"), v.T(key)
	if text := r.PostForm.Get("text"); utf8.ValidString(text) {
		v.Draft = text
	}
	if name := r.PostForm.Get("name"); utf8.ValidString(name) {
		v.Name = customerName(name)
	}
	c.render(w, r, status, "chat_page", v)
}

// chatError answers a failure of the engine in the chat: the customer is
// asked to try again; the detail goes to the log.
func (c *Chat) chatError(w http.ResponseWriter, r *http.Request, err error) {
	status, key := c.failure(w, r, err)
	c.fail(w, r, status, key)
}

// failure classifies a failure of the engine: it logs the server's own,
// sets Retry-After for a limit behind the chat (no failure of the
// server's: the customer waits, as for the chat's own limits), and
// returns the status and the catalog key of the sentence to show.
func (c *Chat) failure(w http.ResponseWriter, r *http.Request, err error) (int, string) {
	status, key := http.StatusInternalServerError, "error.internal"
	switch core.ErrorCode(err) {
	case core.CodeRateLimited:
		wait, ok := core.RetryAfter(err)
		if !ok {
			wait = time.Minute
		}
		w.Header().Set("Retry-After", web.RetryAfter(wait))
		status, key = http.StatusTooManyRequests, "console.chat.slow"
	case core.CodeUnavailable, core.CodeConflict:
		status, key = http.StatusServiceUnavailable, "error.unavailable"
	case core.CodeInvalid:
		status, key = http.StatusBadRequest, "console.error.form"
	}
	if status >= 500 {
		c.log.Error("chat request failed", "route", r.Pattern, "err", err)
	}
	return status, key
}

func (c *Chat) setChatCookie(w http.ResponseWriter, name, value string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/chat", MaxAge: int(chatMaxAge / time.Second),
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
}

// customerName cleans the name a customer typed.
func customerName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if !utf8.ValidString(s) {
		return ""
	}
	if r := []rune(s); len(r) > maxCustomerName {
		s = string(r[:maxCustomerName])
	}
	return s
}

// clientID returns the id a script gave a message, if it is a short
// token of letters, digits and dashes.
func clientID(s string) string {
	if s == "" || len(s) > maxClientID {
		return ""
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return ""
		}
	}
	return s
}

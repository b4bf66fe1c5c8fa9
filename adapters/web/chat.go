package web

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

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
)

func (c *Console) chatRoutes() {
	h := c.s.Handle
	h("GET /chat", c.headers(http.HandlerFunc(c.handleChatPage)))
	h("GET /chat/{$}", http.RedirectHandler("/chat", http.StatusMovedPermanently))
	h("GET /chat/transcript", c.headers(http.HandlerFunc(c.handleChatTranscript)))
	h("POST /chat/messages", c.headers(http.HandlerFunc(c.handleChatMessage)))
	h("GET /chat/events", c.headers(http.HandlerFunc(c.handleChatEvents)))
	h("GET /chat/widget.js", http.HandlerFunc(c.handleWidget))
}

// handleChatPage shows the customer's chat, giving a new visitor a chat
// id. Nothing is stored until they write.
func (c *Console) handleChatPage(w http.ResponseWriter, r *http.Request) {
	id, ok := chatID(r)
	if !ok {
		id = rand.Text()
	}
	c.setChatCookie(w, chatCookie, id)
	v, err := c.chatView(r, id)
	if err != nil {
		c.chatError(w, r, err)
		return
	}
	v.Title = v.T("console.chat.title")
	c.render(w, r, http.StatusOK, "chat_page", v)
}

// handleChatTranscript renders the chat's messages and status alone, for
// the page's script. It also hands the script a current CSRF token: one
// from before a restart no longer verifies.
func (c *Console) handleChatTranscript(w http.ResponseWriter, r *http.Request) {
	id, ok := chatID(r)
	if !ok {
		c.fail(w, r, http.StatusForbidden, "console.chat.no_cookie")
		return
	}
	v, err := c.chatView(r, id)
	if err != nil {
		c.chatError(w, r, err)
		return
	}
	w.Header().Set(csrfHeader, v.CSRF)
	c.render(w, r, http.StatusOK, "chat_transcript", v)
}

// handleChatMessage records what the customer wrote, opening a
// conversation in the console on their first message.
func (c *Console) handleChatMessage(w http.ResponseWriter, r *http.Request) {
	id, ok := chatID(r)
	if !ok {
		c.fail(w, r, http.StatusForbidden, "console.chat.no_cookie")
		return
	}
	if c.cop.Check(r) != nil {
		c.fail(w, r, http.StatusForbidden, "console.chat.expired")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxConsoleForm)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "console.error.form")
		return
	}
	tok := r.Header.Get(csrfHeader)
	if tok == "" {
		tok = r.PostForm.Get("csrf")
	}
	if !c.tokens.valid("chat", id, tok) {
		c.fail(w, r, http.StatusForbidden, "console.chat.expired")
		return
	}
	key, _ := c.s.client(r)
	if d := c.chats.allow(key); d > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(d))
		c.fail(w, r, http.StatusTooManyRequests, "console.chat.slow")
		return
	}
	text := strings.TrimSpace(r.PostForm.Get("text"))
	switch {
	case text == "" || !utf8.ValidString(text):
		c.fail(w, r, http.StatusBadRequest, "console.chat.text_missing")
		return
	case utf8.RuneCountInString(text) > core.MaxMessageRunes:
		c.fail(w, r, http.StatusBadRequest, "console.chat.too_long")
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
	conv, _, err := c.engine.CustomerMessage(r.Context(), in)
	switch {
	case errors.Is(err, core.ErrDuplicate):
	case err != nil:
		c.chatError(w, r, err)
		return
	default:
		c.setChatCookie(w, chatConvCookie, conv.ID)
	}
	if fetched(r) {
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
		return
	}
	http.Redirect(w, r, "/chat", http.StatusSeeOther)
}

// chatView builds the chat page's view for chat id: its transcript, the
// status of its remote-support session and its CSRF token. Link notices
// that reach the page are reported delivered.
func (c *Console) chatView(r *http.Request, id string) (*consoleView, error) {
	v := c.view(r, nil)
	v.CSRF = c.tokens.make("chat", id)
	v.Strings = map[string]string{
		"error":        v.T("error.internal"),
		"reconnecting": v.T("console.live.reconnecting"),
		"expired":      v.T("console.chat.expired"),
	}
	conv, err := c.chatConversation(r, id)
	if err != nil || conv == nil {
		return v, err
	}
	v.Started, v.Closed = true, conv.State == core.ConversationClosed
	lines, sessions, err := c.transcript(r.Context(), v, conv)
	if err != nil {
		return nil, err
	}
	v.Lines = lines
	c.markSeen(r.Context(), lines)
	if len(sessions) > 0 {
		v.Status = chatStatus(v, sessions[0])
		if s := sessions[0]; !s.JoinedAt.IsZero() && shareable(s) {
			// The share page opens in the browser that joined, which is
			// this one when the customer followed the chat's link.
			v.ShareURL = "/s/" + s.ID
		}
	}
	return v, nil
}

// chatConversation returns the conversation the chat's cookie remembers,
// or nil when there is none or it belongs to another chat.
func (c *Console) chatConversation(r *http.Request, id string) (*core.Conversation, error) {
	ck, err := r.Cookie(chatConvCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	conv, err := c.engine.Conversation(r.Context(), ck.Value)
	if core.ErrorCode(err) == core.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if conv.Customer != (core.Endpoint{Channel: core.ChannelWeb, Address: id}) {
		return nil, nil
	}
	return conv, nil
}

// markSeen reports the links the page now shows as delivered.
func (c *Console) markSeen(ctx context.Context, lines []lineView) {
	for _, l := range lines {
		if l.delivery == nil || l.delivery.Status != core.DeliverySent {
			continue
		}
		if _, err := c.engine.ReportDelivery(ctx, core.ChannelWeb, chatExternalID(l.delivery.ID), core.DeliveryDelivered, ""); err != nil {
			c.log.Warn("report web chat delivery", "session_id", l.delivery.SessionID, "err", err)
		}
	}
}

// chatStatus is the sentence that tells the customer where their
// remote-support session stands once they joined it.
func chatStatus(v *consoleView, s *core.Session) string {
	if s.JoinedAt.IsZero() {
		return ""
	}
	switch s.State {
	case core.StateWaiting:
		return v.T("portal.status.waiting")
	case core.StateActive:
		if s.Mode == core.ModeControl {
			return v.T("portal.status.active_control")
		}
		return v.T("portal.status.active_view")
	case core.StateEnded:
		return v.T("portal.status.ended")
	case core.StateClosed:
		return v.T("portal.status.closed")
	}
	return ""
}

// chatError answers a failure of the engine in the chat: the customer is
// asked to try again; the detail goes to the log.
func (c *Console) chatError(w http.ResponseWriter, r *http.Request, err error) {
	status, key := http.StatusInternalServerError, "error.internal"
	switch core.ErrorCode(err) {
	case core.CodeUnavailable, core.CodeConflict, core.CodeRateLimited:
		status, key = http.StatusServiceUnavailable, "error.unavailable"
	case core.CodeInvalid:
		status, key = http.StatusBadRequest, "console.error.form"
	}
	if status >= 500 {
		c.log.Error("chat request failed", "route", r.Pattern, "err", err)
	}
	c.fail(w, r, status, key)
}

// chatID returns the chat id of r's cookie, if it is one assistbot made.
func chatID(r *http.Request) (string, bool) {
	ck, err := r.Cookie(chatCookie)
	if err != nil || len(ck.Value) != 26 {
		return "", false
	}
	for _, b := range []byte(ck.Value) {
		if !(b >= 'A' && b <= 'Z' || b >= '2' && b <= '7') {
			return "", false
		}
	}
	return ck.Value, true
}

func (c *Console) setChatCookie(w http.ResponseWriter, name, value string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/chat", MaxAge: int(chatMaxAge / time.Second),
		HttpOnly: true, Secure: c.s.secure, SameSite: http.SameSiteLaxMode,
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

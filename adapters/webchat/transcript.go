package webchat

import (
	"context"
	"net/http"
	"time"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// lineView is one line of the chat: a message either way, or a
// remote-support link sent to the customer.
type lineView struct {
	Kind   string // in, out, link
	Author string
	Text   string
	At     time.Time
	// A link line's URL and PIN, and whether the customer can still use
	// it.
	Link      string
	PIN       string
	Valid     bool
	SessionID string
	// delivery is a link line's outbox entry.
	delivery *core.Delivery
}

// chatView builds the chat page's view for chat id: its transcript, the
// status of its remote-support session and its CSRF token. Link notices
// that reach the page are reported delivered.
func (c *Chat) chatView(r *http.Request, id string) (*view, error) {
	v := c.view(r)
	v.CSRF = c.tokens.Make(r.Context(), "chat", id)
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
	lines, sessions, err := c.transcript(r.Context(), conv)
	if err != nil {
		return nil, err
	}
	v.Lines = lines
	c.markSeen(r.Context(), lines)
	if len(sessions) > 0 {
		s := sessions[0]
		if !s.JoinedAt.IsZero() && c.sharePage != nil {
			// The share page opens in the browser that joined, which is
			// this one when the customer followed the chat's link.
			v.ShareURL = c.sharePage(s)
		}
		if key := c.statusKey(r.Context(), s, v.ShareURL != ""); key != "" {
			v.Status = v.T(key)
		}
	}
	return v, nil
}

// chatConversation returns the conversation the chat's cookie remembers,
// or nil when there is none or it belongs to another chat.
func (c *Chat) chatConversation(r *http.Request, id string) (*core.Conversation, error) {
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
func (c *Chat) markSeen(ctx context.Context, lines []lineView) {
	for _, l := range lines {
		if l.delivery == nil || l.delivery.Status != core.DeliverySent {
			continue
		}
		if _, err := c.engine.ReportDelivery(ctx, core.ChannelWeb, chatExternalID(l.delivery.ID), core.DeliveryDelivered, ""); err != nil {
			c.log.Warn("report web chat delivery", "session_id", l.delivery.SessionID, "err", err)
		}
	}
}

// statusKey is the catalog key of the sentence that tells the customer
// where their remote-support session stands once they joined it, or ""
// before: what is true at that moment, and nothing more. shareable
// reports that the customer shares their screen on assistbot's own page
// (the builtin provider), where the session's log says whether they do.
func (c *Chat) statusKey(ctx context.Context, s *core.Session, shareable bool) string {
	if s.JoinedAt.IsZero() {
		return ""
	}
	switch s.State {
	case core.StateWaiting:
		if s.CustomerURL != "" {
			return "portal.status.waiting_program"
		}
		return "portal.status.waiting"
	case core.StateActive:
		switch {
		case shareable:
			return c.shareKey(ctx, s)
		case s.Mode == core.ModeControl:
			return "portal.status.active_control"
		case c.engine.Supports(core.ModeControl):
			return "portal.status.active_view"
		}
		return "portal.status.active_noshare"
	case core.StateEnded:
		return "portal.status.ended"
	case core.StateClosed:
		return "portal.status.closed"
	}
	return ""
}

// shareKey says whether the customer of an active session of the builtin
// provider shares now, from the last share the session's log records:
// sharing their screen or camera, not sharing, or nothing yet (the
// technician sees nothing until they share).
func (c *Chat) shareKey(ctx context.Context, s *core.Session) string {
	ready := "share.ready_screen"
	if s.Device == core.DeviceMobile {
		ready = "share.ready_camera"
	}
	events, err := c.engine.Events(ctx, s.ID)
	if err != nil {
		c.log.Warn("read the session's log for the chat", "session_id", s.ID, "err", err)
		return ready
	}
	for i := len(events) - 1; i >= 0; i-- {
		switch e := events[i]; e.Action {
		case core.ActionShareStart:
			if e.Detail == "camera" {
				return "share.sharing_camera"
			}
			return "share.sharing_screen"
		case core.ActionShareStop, core.ActionShareDecline:
			return "share.not_sharing"
		case core.ActionStart:
			return ready
		}
	}
	return ready
}

// transcript returns a conversation's lines, oldest first: its messages
// and the links sent to its customer, with its sessions newest first.
func (c *Chat) transcript(ctx context.Context, conv *core.Conversation) ([]lineView, []*core.Session, error) {
	tr, sessions, err := remote.Transcript(ctx, c.engine, conv)
	if err != nil {
		return nil, nil, err
	}
	lines := make([]lineView, 0, len(tr))
	for _, t := range tr {
		if m := t.Message; m != nil {
			lines = append(lines, lineView{Kind: t.Kind(), Author: m.Author, Text: m.Text, At: m.At})
			continue
		}
		d := t.Link.Delivery
		lines = append(lines, lineView{
			Kind:      t.Kind(),
			At:        d.CreatedAt,
			Link:      d.Notice.Link,
			PIN:       d.Notice.PIN,
			Valid:     t.Link.Session.Opens(d),
			SessionID: t.Link.Session.ID,
			delivery:  d,
		})
	}
	return lines, sessions, nil
}

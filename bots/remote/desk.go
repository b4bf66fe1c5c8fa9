package remote

import (
	"strconv"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Alert is a message for the agents' desk about a session or a
// conversation: what happened, and the buttons to act on it.
type Alert struct {
	Text    string
	Notes   []string
	Buttons []Button
}

// DeskAlert renders a session notice for the desk: "Customer is waiting
// (phone or tablet)." with the start buttons, "tom started the session
// (view only)." with End, and so on.
func (b *Bot) DeskAlert(n core.Notice) Alert {
	t := func(key string, kv ...string) string { return b.catalog.T(n.Locale, key, kv...) }
	s := &core.Session{ID: n.SessionID, Device: n.Device}
	switch n.Action {
	case core.ActionJoin:
		a := Alert{Text: t("alert.waiting", "device", t("device."+deviceKey(n.Device)))}
		a.Buttons, a.Notes = b.startButtons(s, n.Locale)
		a.Buttons = append(a.Buttons, Button{ActionEnd, t("alert.end"), n.SessionID, StyleDanger})
		return a
	case core.ActionStart:
		who := n.Actor
		if who == "" {
			who = t("card.title")
		}
		return Alert{
			Text:    t("alert.started", "technician", who, "mode", t("mode."+modeKey(n.Mode))),
			Buttons: []Button{{ActionEnd, t("alert.end"), n.SessionID, StyleDanger}},
		}
	case core.ActionEnd:
		return Alert{Text: t("alert.ended")}
	case core.ActionExpire:
		return Alert{Text: t("alert.expired")}
	case core.ActionClose:
		return Alert{Text: t("card.closed")}
	}
	return Alert{Text: t("state." + string(n.State))}
}

// ThreadHeader renders the root message of a relayed conversation's desk
// thread: who the customer is, on which channel, in which language, and
// the "Remote support" and "Close conversation" buttons.
func (b *Bot) ThreadHeader(n core.Notice, locale string) Alert {
	t := func(key string, kv ...string) string { return b.catalog.T(locale, key, kv...) }
	lang := b.catalog.Match(n.Locale)
	return Alert{
		Text: t("desk.header", "channel", t("channel."+n.CustomerChannel), "customer", n.Customer,
			"language", t("language."+lang)),
		Buttons: []Button{
			{ActionIssue, t("desk.remote_support"), n.ConversationID, StylePrimary},
			{ActionCloseConversation, t("desk.close_conversation"), n.ConversationID, StyleDefault},
		},
	}
}

// ClosedHeader renders a thread's root message once an agent closed its
// conversation: the header without buttons, and who closed it. agent is
// "" when the conversation was found closed already (from the console,
// the API or another desk), by someone this click cannot name.
func (b *Bot) ClosedHeader(c *core.Conversation, agent, locale string) Alert {
	h := b.ThreadHeader(HeaderNotice(c), locale)
	h.Buttons = nil
	if agent == "" {
		h.Notes = []string{b.catalog.T(locale, "desk.conversation_was_closed")}
	} else {
		h.Notes = []string{b.catalog.T(locale, "desk.conversation_closed", "agent", agent)}
	}
	return h
}

// HeaderNotice is what a thread header says of conversation c.
func HeaderNotice(c *core.Conversation) core.Notice {
	return core.Notice{ConversationID: c.ID, Customer: core.CustomerLabel(c),
		CustomerChannel: c.Customer.Channel, Locale: c.Locale}
}

// CustomerText renders a notice for the customer: the link with the PIN,
// or an agent's reply as written. Link texts fit one SMS segment.
func (b *Bot) CustomerText(n core.Notice) string {
	if n.Kind == core.NoticeLink {
		return b.catalog.T(n.Locale, "customer.link", "link", n.Link, "pin", n.PIN)
	}
	return n.Text
}

func deviceKey(d core.Device) string {
	if d.Valid() && d != "" {
		return string(d)
	}
	return string(core.DeviceUnknown)
}

func modeKey(m core.Mode) string {
	if m == core.ModeControl {
		return string(core.ModeControl)
	}
	return string(core.ModeView)
}

// PressedAlert renders a desk alert after one of its buttons, actionID,
// left session s as it is: the press's answer shows it at once, and the
// outbox's own notice then edits the alert the same way.
func (b *Bot) PressedAlert(s *core.Session, actionID string) Alert {
	n := core.Notice{Kind: core.NoticeSession, Locale: s.Locale, SessionID: s.ID, State: s.State,
		Device: s.Device, Mode: s.Mode, Actor: s.Technician}
	switch {
	case actionID == ActionStartControl || actionID == ActionStartView:
		n.Action = core.ActionStart
	case s.State == core.StateEnded:
		n.Action = core.ActionEnd
	case s.State == core.StateClosed:
		n.Action = core.ActionClose
	case s.State == core.StateExpired:
		n.Action = core.ActionExpire
	case s.State == core.StateWaiting:
		n.Action = core.ActionJoin
	}
	return b.DeskAlert(n)
}

// Reminder renders a reminder for the desk (core.NoticeReminder): "Pat has
// waited 3 min for a technician." or "Pat has not opened the link sent
// 5 min ago." Whom it names (the agent, at the last threshold a group) is
// the platform's to add, in its own markup.
func (b *Bot) Reminder(n core.Notice, locale string) string {
	t := func(key string, kv ...string) string { return b.catalog.T(locale, key, kv...) }
	minutes := int(n.Waited / time.Minute)
	waited := t("duration.minutes", "n", strconv.Itoa(max(minutes, 1)))
	customer := n.Customer
	if customer == "" {
		customer = "—" // a session issued for nobody in particular
	}
	if n.Action == core.ActionRemind {
		return t("alert.unopened", "customer", customer, "waited", waited)
	}
	return t("alert.escalated", "customer", customer, "waited", waited)
}

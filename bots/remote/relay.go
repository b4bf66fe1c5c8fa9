package remote

import (
	"errors"

	"github.com/assistbot/assistbot/core"
)

// Relay is what became of a message relayed between a customer and the
// desk, as read from the error of core.Engine's CustomerMessage or
// AgentMessage. This is the one place that decides what such an error
// means; each platform only says it its own way.
type Relay int

// What became of a relayed message.
const (
	// Relayed: the message is in the transcript and on its way, from
	// this attempt or an earlier one (a platform's retry of a message
	// recorded already).
	Relayed Relay = iota
	// RelayRetry: recording it failed in a way that may pass (the store,
	// a concurrent change). A platform that delivers the message again
	// should be asked to (Slack retries an event answered 5xx, Twilio a
	// webhook); one that cannot tells whoever wrote it to try again.
	RelayRetry
	// RelayRefused: it will never be taken (the conversation is closed or
	// gone, the customer opted out or their channel is off, the text is
	// empty or too long). Asking again does not help; an agent is told
	// why (RelayRefusal).
	RelayRefused
)

// RelayOutcome reads err, the error of relaying a message written by
// from (core.FromCustomer: CustomerMessage; core.FromAgent:
// AgentMessage). An unavailable engine is worth retrying for a customer's
// message, which only the store can refuse so; for an agent's reply it
// also says that the customer's channel is off, which the agent must
// hear about rather than wait for.
func RelayOutcome(from core.Direction, err error) Relay {
	if err == nil || errors.Is(err, core.ErrDuplicate) {
		return Relayed
	}
	switch core.ErrorCode(err) {
	case core.CodeInternal, core.CodeConflict, core.CodeRateLimited:
		return RelayRetry
	case core.CodeUnavailable:
		if from == core.FromCustomer {
			return RelayRetry
		}
	}
	return RelayRefused
}

// RelayRefusal tells an agent, in locale, that their reply did not reach
// the customer and why (err, the error of AgentMessage).
func (b *Bot) RelayRefusal(err error, locale string) string {
	return b.catalog.T(locale, "relay.reply_refused", "reason", b.ErrorText(err, locale))
}

// Undelivered tells the desk, in locale, that d did not reach the
// customer of conversation c and why: an agent's reply, or a session's
// link. ok is false for any other delivery (still on its way, delivered,
// bound for the desk, a notice of a session).
func (b *Bot) Undelivered(d *core.Delivery, c *core.Conversation, locale string) (note string, ok bool) {
	if d.Status != core.DeliveryFailed || c == nil || d.ConversationID != c.ID || d.To != c.Customer {
		return "", false
	}
	t := func(key string, kv ...string) string { return b.catalog.T(locale, key, kv...) }
	switch {
	case d.Notice.Kind == core.NoticeText && d.SessionID == "":
		return t("relay.reply_failed", "reason", d.Reason), true
	case d.Notice.Kind == core.NoticeLink:
		return t("relay.link_failed", "status", b.DeliveryStatus(d, locale)), true
	}
	return "", false
}

package slack

import (
	"context"
	"errors"

	slackapi "github.com/slack-go/slack"

	"github.com/assistbot/assistbot/core"
)

// channel is the Adapter as a core.Channel: the outbox hands it the links
// for customers who are Slack users (or channels), the agents' replies to
// them, and everything bound for a Slack desk.
type channel Adapter

var _ core.Channel = (*channel)(nil)

// Name returns "slack".
func (c *channel) Name() string { return core.ChannelSlack }

// Deliver posts d. A notice for a conversation's desk goes into that
// conversation's thread, which the first one starts (with a header and the
// "Remote support" button); a later notice about the same session edits
// the alert already there. Anything else goes to the customer.
func (c *channel) Deliver(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	a := (*Adapter)(c)
	var conv *core.Conversation
	if d.ConversationID != "" {
		var err error
		if conv, err = a.engine.Conversation(ctx, d.ConversationID); err != nil && core.ErrorCode(err) != core.CodeNotFound {
			return core.Receipt{}, err
		}
	}
	if d.Notice.Kind == core.NoticeSession || d.Notice.Kind == core.NoticeReminder || (conv != nil && d.To == conv.Desk && d.To != conv.Customer) {
		return a.deliverDesk(ctx, d, conv)
	}
	return a.deliverCustomer(ctx, d)
}

// noPreviews turns link previews off: an unfurler must not be the first
// to open a link, and a relayed message is shown as written.
func noPreviews(opts []slackapi.MsgOption) []slackapi.MsgOption {
	return append(opts, slackapi.MsgOptionDisableLinkUnfurl(), slackapi.MsgOptionDisableMediaUnfurl())
}

// deliverCustomer posts a link or a relayed reply to a customer: a user ID
// posts into the app's DM with that user. Link previews stay off: an
// unfurler must not be the first to open a link.
func (a *Adapter) deliverCustomer(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	n := d.Notice
	if n.Kind == core.NoticeLink && validID(d.To.Address, "UW") {
		// The customer's own Slack language beats the conversation's
		// default; Slack tells it on request.
		if p := a.people.get(ctx, d.To.Address); p.locale != "" {
			n.Locale = p.locale
		}
	}
	msg := textView(a.bot.CustomerText(n)).message()
	_, ts, err := a.api.PostMessageContext(ctx, d.To.Address, noPreviews(msg.options())...)
	if err != nil {
		return core.Receipt{}, a.classify("chat.postMessage", err)
	}
	// Slack has put it in the conversation: that is delivery.
	return core.Receipt{ExternalID: ts, Status: core.DeliveryDelivered}, nil
}

// deliverDesk posts a notice into the conversation's desk thread.
func (a *Adapter) deliverDesk(ctx context.Context, d *core.Delivery, conv *core.Conversation) (core.Receipt, error) {
	n := d.Notice
	ch := d.To.Address
	thread, started, err := a.deskThread(ctx, d, conv)
	if err != nil {
		return core.Receipt{}, err
	}
	var msg message
	broadcast := false
	if n.Kind == core.NoticeSession {
		desk := n
		desk.Locale = a.locale // agents read alerts in their language
		msg = a.render.alert(a.bot.DeskAlert(desk), ch)
		// A waiting customer is news for the whole desk, not only for
		// whoever follows the thread.
		broadcast = n.Action == core.ActionJoin && n.Replace == ""
	} else if n.Kind == core.NoticeReminder {
		msg = view{text: a.reminderText(n)}.message()
	} else if n.Kind == core.NoticeHandoff {
		msg = view{text: a.handoffText(n)}.message()
	} else {
		msg = textView(a.t("slack.desk_message", "author", n.Author, "text", n.Text)).message()
	}
	opts := noPreviews(msg.options())
	if n.Kind == core.NoticeSession && n.Replace != "" {
		in, err := a.dms.channel(ctx, ch)
		if err != nil {
			return core.Receipt{}, a.classify("conversations.open", err)
		}
		_, ts, _, err := a.api.UpdateMessageContext(ctx, in, n.Replace, opts...)
		if err == nil {
			return core.Receipt{ExternalID: ts, Thread: started, Status: core.DeliveryDelivered}, nil
		}
		var se slackapi.SlackErrorResponse
		if !errors.As(err, &se) || (se.Err != "message_not_found" && se.Err != "cant_update_message" && se.Err != "edit_window_closed") {
			return core.Receipt{}, a.classify("chat.update", err)
		}
		// The alert was deleted, or is too old to edit: post a new one.
	}
	opts = append(opts, slackapi.MsgOptionTS(thread))
	if broadcast {
		opts = append(opts, slackapi.MsgOptionBroadcast())
	}
	_, ts, err := a.api.PostMessageContext(ctx, ch, opts...)
	if err != nil {
		return core.Receipt{}, a.classify("chat.postMessage", err)
	}
	a.threads.Delete(d.ConversationID)
	return core.Receipt{ExternalID: ts, Thread: started, Status: core.DeliveryDelivered}, nil
}

// deskThread returns the desk thread of d's conversation, starting it
// with the header when there is none yet; started is the new thread's
// root, for the outbox to record.
func (a *Adapter) deskThread(ctx context.Context, d *core.Delivery, conv *core.Conversation) (thread, started string, err error) {
	if d.Notice.Thread != "" {
		return d.Notice.Thread, "", nil
	}
	// A header posted by an attempt that failed afterwards is reused, so
	// that a retry does not start a second thread.
	if ts, ok := a.threads.Load(d.ConversationID); ok {
		return ts.(string), ts.(string), nil
	}
	msg := a.render.thread(a.bot.ThreadHeader(d.Notice, a.locale), d.Notice, conv, d.To.Address)
	_, ts, err := a.api.PostMessageContext(ctx, d.To.Address, noPreviews(msg.options())...)
	if err != nil {
		return "", "", a.classify("chat.postMessage", err)
	}
	if d.ConversationID != "" {
		a.threads.Store(d.ConversationID, ts)
	}
	return ts, ts, nil
}

// reminderText is a reminder for the desk in mrkdwn: the agent's name,
// what waits, and at the last escalation a mention that notifies the
// escalation group, or the channel (@here) without one.
func (a *Adapter) reminderText(n core.Notice) string {
	text := escape(a.bot.Reminder(n, a.locale))
	if n.Actor != "" {
		text = "*" + escape(n.Actor) + "* · " + text
	}
	if n.Final {
		if a.escalationGroup != "" {
			return text + " <!subteam^" + a.escalationGroup + ">"
		}
		return text + " <!here>"
	}
	return text
}

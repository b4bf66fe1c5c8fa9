package discord

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/core"
)

// dmTTL is how long a user's DM channel id is reused; it never changes,
// the bound only keeps the cache fresh.
const dmTTL = 24 * time.Hour

// channel is the Adapter as a core.Channel: the outbox hands it the links
// and replies for customers on Discord, and everything bound for the
// Discord desk.
type channel Adapter

var (
	_ core.Channel     = (*channel)(nil)
	_ core.TextLimiter = (*channel)(nil)
)

// TextLimit implements core.TextLimiter: a DM takes maxContent
// characters, and an agent's longer reply is refused before it is
// queued rather than cut.
func (c *channel) TextLimit() int { return maxContent }

// Name returns "discord", the channel of Discord endpoints.
func (c *channel) Name() string { return core.ChannelDiscord }

// Deliver implements core.Channel: a notice for a conversation's desk
// goes into the conversation's desk thread; anything else is a DM to the
// customer. Rate limits and Discord failures are CodeUnavailable, which
// the outbox retries; a refused token or a refused message fails the
// delivery with the reason the agent reads.
func (c *channel) Deliver(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	return (*Adapter)(c).deliver(ctx, d)
}

// deliver is Deliver.
func (a *Adapter) deliver(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	if a.isHalted() {
		return core.Receipt{}, a.errHalted()
	}
	desk, err := a.toDesk(ctx, d)
	switch {
	case err != nil:
		return core.Receipt{}, err
	case desk:
		return a.deliverDesk(ctx, d)
	}
	return a.deliverCustomer(ctx, d)
}

// toDesk reports whether d is for its conversation's desk rather than
// its customer. A conversation that cannot be read just now is an error
// to retry: guessing would DM the desk channel's id.
func (a *Adapter) toDesk(ctx context.Context, d *core.Delivery) (bool, error) {
	if d.Notice.Kind == core.NoticeSession || d.Notice.Kind == core.NoticeReminder {
		return true, nil
	}
	if d.Notice.Kind == core.NoticeLink || d.ConversationID == "" {
		return false, nil
	}
	conv, err := a.engine.Conversation(ctx, d.ConversationID)
	if err != nil {
		return false, core.Wrap(core.CodeUnavailable, err, a.t("error.unavailable"))
	}
	return conv.Desk == d.To, nil
}

// deliverCustomer sends a notice to a customer as a DM: the DM channel is
// opened (or found) first, then the message posted. When Discord refuses
// to DM them (50007: DMs closed, or no server shared with the bot) the
// message is posted, with a mention, in the channel where the agent named
// them; either way the delivery fails with a reason that says which
// happened, since the DM the agent asked for was not sent.
func (a *Adapter) deliverCustomer(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	user := d.To.Address
	msg := message{Content: truncate(a.bot.CustomerText(d.Notice), maxContent)}
	dm, err := a.dmChannel(ctx, user)
	var m *discordgo.Message
	if err == nil {
		m, err = a.session.ChannelMessageSendComplex(dm, msg.send(), discordgo.WithContext(ctx))
	}
	if err == nil {
		return core.Receipt{ExternalID: dm + "/" + m.ID, Status: core.DeliverySent}, nil
	}
	if errorCode(err) != discordgo.ErrCodeCannotSendMessagesToThisUser {
		return core.Receipt{}, a.apiError("send dm", err)
	}
	who := d.Notice.Customer
	if who == "" {
		who = core.Mask(user)
	}
	origin, ok := d.Notice.Origin, d.Notice.Origin != ""
	if !ok {
		origin, ok = a.origins.Get(d.ConversationID)
	}
	if !ok {
		return core.Receipt{}, &core.Error{Code: core.CodeInvalid, Message: a.t("discord.reason.dm_refused", "customer", who), Err: a.apiError("send dm", err)}
	}
	msg.Content = truncate("<@"+user+"> "+msg.Content, maxContent)
	msg.Mention = user
	if _, perr := a.session.ChannelMessageSendComplex(origin, msg.send(), discordgo.WithContext(ctx)); perr != nil {
		return core.Receipt{}, a.apiError("mention in channel", perr)
	}
	return core.Receipt{}, &core.Error{Code: core.CodeInvalid,
		Message: a.t("discord.reason.dm_refused_posted", "customer", who, "channel", "<#"+origin+">"), Err: a.apiError("send dm", err)}
}

// dmChannel returns the id of the DM channel with user, opening it.
func (a *Adapter) dmChannel(ctx context.Context, user string) (string, error) {
	if id, ok := a.dms.Get(user); ok {
		return id, nil
	}
	ch, err := a.session.UserChannelCreate(user, discordgo.WithContext(ctx))
	if err != nil {
		return "", err
	}
	a.dms.Add(user, ch.ID)
	return ch.ID, nil
}

// deliverDesk posts a notice in its conversation's desk thread, starting
// the thread (under a header with the "Remote support" button) when the
// conversation has none yet, or edits the message of the session's
// previous notice when there is one.
func (a *Adapter) deliverDesk(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	msg := a.deskMessage(d.Notice)
	if d.Notice.Replace != "" {
		if channel, id, ok := strings.Cut(d.Notice.Replace, "/"); ok {
			_, err := a.session.ChannelMessageEditComplex(msg.edit(channel, id), discordgo.WithContext(ctx))
			if err == nil {
				return core.Receipt{ExternalID: d.Notice.Replace, Status: core.DeliverySent}, nil
			}
			// A deleted alert is posted again; anything else is a failure.
			if errorCode(err) != discordgo.ErrCodeUnknownMessage {
				return core.Receipt{}, a.apiError("edit desk message", err)
			}
		}
	}
	thread, started := d.Notice.Thread, ""
	if thread == "" {
		var err error
		if thread, err = a.startThread(ctx, d); err != nil {
			return core.Receipt{}, err
		}
		started = thread
	}
	// A customer's message longer than Discord takes goes in parts.
	parts := []message{msg}
	if d.Notice.Kind == core.NoticeText {
		parts = relayedMessages(d.Notice.Author, d.Notice.Text)
	}
	var m *discordgo.Message
	for _, part := range parts {
		var err error
		if m, err = a.session.ChannelMessageSendComplex(thread, part.send(), discordgo.WithContext(ctx)); err != nil {
			return core.Receipt{}, a.apiError("post in desk thread", err)
		}
	}
	return core.Receipt{ExternalID: thread + "/" + m.ID, Thread: started, Status: core.DeliverySent}, nil
}

// threadTTL is how long a started thread is remembered for a retry of
// the delivery that started it.
const threadTTL = time.Hour

// startThread posts a conversation's header in the desk channel and
// starts its thread from it; the thread has the header message's id. A
// retry after the thread failed to start starts it from the header
// already posted.
func (a *Adapter) startThread(ctx context.Context, d *core.Delivery) (string, error) {
	conv := d.ConversationID
	if t, ok := a.threads.Get(conv); ok && conv != "" {
		return t, nil
	}
	header := a.bot.ThreadHeader(d.Notice, a.catalog.Default())
	root, ok := a.headers.Get(conv)
	if !ok || conv == "" {
		m, err := a.session.ChannelMessageSendComplex(d.To.Address, alertMessage(header).send(), discordgo.WithContext(ctx))
		if err != nil {
			return "", a.apiError("post thread header", err)
		}
		root = m.ID
		if conv != "" {
			a.headers.Add(conv, root)
		}
	}
	// Threads auto-archive after a day without messages; a new message
	// brings an archived thread back.
	id := root
	_, err := a.session.MessageThreadStart(d.To.Address, root, truncate(header.Text, maxThreadName), 1440, discordgo.WithContext(ctx))
	var re *discordgo.RESTError
	switch {
	case errors.As(err, &re) && re.Message != nil && re.Message.Code == discordgo.ErrCodeThreadAlreadyCreatedForThisMessage:
		// Started by an attempt whose answer was lost.
	case err != nil:
		return "", a.apiError("start thread", err)
	}
	if conv != "" {
		a.headers.Remove(conv)
		a.threads.Add(conv, id)
	}
	return id, nil
}

// deskMessage renders a notice for the desk: a session alert with its
// buttons, or a customer's message.
func (a *Adapter) deskMessage(n core.Notice) message {
	switch n.Kind {
	case core.NoticeSession:
		return alertMessage(a.bot.DeskAlert(n))
	case core.NoticeText:
		return relayedMessages(n.Author, n.Text)[0]
	case core.NoticeReminder:
		return a.reminderMessage(n)
	case core.NoticeHandoff:
		return a.handoffMessage(n)
	}
	return message{Content: truncate(a.bot.CustomerText(n), maxContent)}
}

// reminderMessage is a reminder for the desk: the agent's name, what
// waits, and at the last escalation a ping for the escalation role, or
// the channel (@here) without one.
func (a *Adapter) reminderMessage(n core.Notice) message {
	text := escapeMarkdown(a.bot.Reminder(n, a.catalog.Default()))
	if n.Actor != "" {
		text = "**" + escapeMarkdown(n.Actor) + "** · " + text
	}
	m := message{}
	switch {
	case n.Final && a.escalationRole != "":
		text += " <@&" + a.escalationRole + ">"
		m.Role = a.escalationRole
	case n.Final:
		text += " @here"
		m.Here = true
	}
	m.Content = truncate(text, maxContent)
	return m
}

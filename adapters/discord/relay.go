package discord

import (
	"context"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// relayTimeout bounds the handling of one gateway message.
const relayTimeout = 30 * time.Second

// onMessageCreate relays a message that arrived over the gateway: a DM
// to the bot is a customer writing to support; a message in a
// conversation's desk thread is an agent's reply to that customer.
// Messages from bots, assistbot's own included, are not relayed.
func (a *Adapter) onMessageCreate(_ *discordgo.Session, mc *discordgo.MessageCreate) {
	if mc == nil || mc.Message == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
	defer cancel()
	a.relay(ctx, mc.Message)
}

// relay handles one message; see onMessageCreate.
func (a *Adapter) relay(ctx context.Context, m *discordgo.Message) {
	if m.Author == nil || m.Author.Bot || m.WebhookID != "" || !relayable(m.Type) {
		return
	}
	body := messageBody(m)
	if body == "" {
		if m.GuildID != "" {
			a.emptyReply(ctx, m)
		}
		return
	}
	if m.GuildID == "" {
		a.customerMessage(ctx, m, body)
		return
	}
	a.agentReply(ctx, m, body)
}

// customerMessage records a customer's DM in their conversation (opening
// one, and its desk thread, when there is none).
func (a *Adapter) customerMessage(ctx context.Context, m *discordgo.Message, body string) {
	conv, _, err := a.engine.CustomerMessage(ctx, core.Inbound{
		Customer: core.Endpoint{Channel: core.ChannelDiscord, Address: m.Author.ID},
		Name:     displayName(m.Author, nil),
		Text:     body,
		Source:   "discord:" + m.ID,
		Desk:     a.desk,
	})
	switch remote.RelayOutcome(core.FromCustomer, err) {
	case remote.RelayRetry:
		// Discord does not deliver a message again: it is lost.
		a.log.Error("relay a customer message", "err", err)
	case remote.RelayRefused:
		a.log.Warn("relay a customer message", "err", err)
	case remote.Relayed:
		if err == nil {
			// The DM channel is where replies go; remember it.
			a.dms.Add(m.Author.ID, m.ChannelID)
			a.log.Debug("customer message relayed", "conversation_id", conv.ID)
		}
	}
}

// agentReply relays a message written in a conversation's desk thread by
// an agent to the customer. Messages elsewhere, and from members who are
// not agents, are left alone. A refusal (the conversation is closed, the
// customer opted out) is answered in the thread.
func (a *Adapter) agentReply(ctx context.Context, m *discordgo.Message, body string) {
	conv, err := a.engine.ConversationByThread(ctx, a.desk, m.ChannelID)
	if err != nil {
		if core.ErrorCode(err) != core.CodeNotFound {
			a.log.Error("find the conversation of a thread", "err", err)
		}
		return
	}
	var roles []string
	if m.Member != nil {
		roles = m.Member.Roles
	}
	agent, ok := a.member(m.GuildID, m.Author, roles)
	if !ok {
		return
	}
	_, _, err = a.engine.AgentMessage(ctx, conv.ID, agent, body, "discord:"+m.ID)
	if remote.RelayOutcome(core.FromAgent, err) == remote.Relayed {
		return
	}
	// Refused, or failed, which Discord does not retry: the agent is
	// told either way, in the thread.
	a.logFailure("relay an agent reply", err)
	msg := text(a.bot.RelayRefusal(err, a.catalog.Default())).send()
	msg.Reference = &discordgo.MessageReference{MessageID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID}
	err = a.retryRateLimited(ctx, time.Time{}, func() error {
		_, err := a.session.ChannelMessageSendComplex(m.ChannelID, msg, discordgo.WithContext(ctx))
		return err
	})
	if err != nil {
		a.log.Warn("answer a refused reply", "conversation_id", conv.ID, "err", a.apiError("post", err))
	}
}

// emptyReply notices an empty message in a desk thread: without the
// Message Content intent Discord delivers guild messages without their
// text, and replies would vanish without a word.
func (a *Adapter) emptyReply(ctx context.Context, m *discordgo.Message) {
	if _, err := a.engine.ConversationByThread(ctx, a.desk, m.ChannelID); err != nil {
		return
	}
	a.contentOnce.Do(func() {
		a.log.Warn("a reply in a desk thread arrived without its text; enable the Message Content Intent on the Bot page of the Discord Developer Portal, or replies cannot be relayed")
	})
}

// relayable reports whether a message type is something a person wrote:
// a plain message or a reply, not a pin, a join or a thread event.
func relayable(t discordgo.MessageType) bool {
	return t == discordgo.MessageTypeDefault || t == discordgo.MessageTypeReply
}

// messageBody returns the text to relay: the message, then the links of
// its attachments, which the other side cannot otherwise see.
func messageBody(m *discordgo.Message) string {
	parts := []string{strings.TrimSpace(m.Content)}
	for _, at := range m.Attachments {
		if at != nil && at.URL != "" {
			parts = append(parts, at.URL)
		}
	}
	return strings.TrimSpace(strings.Join(parts, "\n"))
}

package discord

import (
	"context"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/core"
)

// originTTL is how long the channel where /remote named a customer is
// remembered: a link is delivered within its PIN's lifetime (24 hours at
// most), and a relayed reply soon after.
const originTTL = 24 * time.Hour

// rememberOrigin notes channel as where conv's customer can be mentioned
// when Discord refuses to DM them: the channel where an agent pressed the
// card's buttons, the card being there too. A session issued by /remote
// keeps its channel in the store (Session.Origin), which every replica
// reads; this memory serves sessions issued without one, such as from the
// API, once an agent uses their card.
func (a *Adapter) rememberOrigin(ctx context.Context, conv *core.Conversation, channel string) {
	if a.public(ctx, channel) && channel != conv.DeskThread {
		a.origins.Add(conv.ID, channel)
	}
}

// public reports whether channel is a place where a customer may be
// mentioned: not the desk channel nor a conversation's desk thread, which
// only agents see.
func (a *Adapter) public(ctx context.Context, channel string) bool {
	if channel == "" || channel == a.desk.Address {
		return false
	}
	_, err := a.engine.ConversationByThread(ctx, a.desk, channel)
	return core.ErrorCode(err) == core.CodeNotFound // else a desk thread, or unknown
}

// command answers /remote. With customer:@member it issues a PIN for
// that member; alone, inside a conversation's desk thread, for that
// conversation's customer. With device:, the link is sent at once. The
// answer is the agent's ephemeral card, or an ephemeral explanation.
func (a *Adapter) command(ctx context.Context, i *discordgo.Interaction) *discordgo.InteractionResponse {
	locale := string(i.Locale)
	newMsg := discordgo.InteractionResponseChannelMessageWithSource
	t := func(key string) *discordgo.InteractionResponse { return text(a.catalog.T(locale, key)).reply(newMsg) }
	agent, ok := a.agentOf(i)
	if !ok {
		return t("error.not_agent")
	}
	data := i.ApplicationCommandData()
	opts, ok := parseOptions(data)
	if data.Name != CommandName || !ok {
		return t("discord.usage")
	}
	req := core.Request{Agent: agent.Name}
	if opts.customer != "" {
		var u *discordgo.User
		var m *discordgo.Member
		if r := data.Resolved; r != nil {
			u, m = r.Users[opts.customer], r.Members[opts.customer]
		}
		if u != nil && u.Bot {
			return t("discord.error.bot_customer")
		}
		req.Customer = core.Endpoint{Channel: core.ChannelDiscord, Address: opts.customer}
		req.CustomerName = displayName(u, m)
		req.Desk = a.desk
	} else {
		conv, err := a.engine.ConversationByThread(ctx, a.desk, i.ChannelID)
		if core.ErrorCode(err) == core.CodeNotFound {
			return t("discord.usage")
		}
		if err != nil {
			return text(a.bot.ErrorText(err, locale)).reply(newMsg)
		}
		req.ConversationID = conv.ID
	}
	if a.public(ctx, i.ChannelID) {
		req.Origin = i.ChannelID
	}
	is, err := a.bot.Issue(ctx, req, core.LinkKind(opts.device))
	if err != nil {
		a.logFailure("issue", err)
		return text(a.bot.ErrorText(err, locale)).reply(newMsg)
	}
	// Later sessions of the conversation issued without a channel (from
	// its thread's button) fall back on this one, in this process; it was
	// checked above.
	if req.Origin != "" {
		a.origins.Add(is.Conversation.ID, req.Origin)
	}
	card := a.bot.IssuedCard(is, locale)
	a.trackCard(&card, i, locale)
	msg := a.cardMessage(card, locale)
	msg.Content = a.bot.ErrorText(is.SendErr, locale) // why the link named was not sent
	return msg.reply(newMsg)
}

// logFailure logs an engine failure that the agent is told about only in
// general terms: internal errors and unavailable providers.
func (a *Adapter) logFailure(op string, err error) {
	switch core.ErrorCode(err) {
	case core.CodeInternal, core.CodeUnavailable:
		a.log.Error(op, "err", err)
	}
}

package discord

import (
	"context"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// click answers a button: a card button updates the agent's card in
// place, an alert button in a desk thread updates the alert, and the
// thread header's "Remote support" opens a new card. The key after the
// ":" is never trusted alone: the session it names must be the clicking
// agent's own (a card only its agent can see) or belong to the
// conversation of the thread the button is in.
func (a *Adapter) click(ctx context.Context, i *discordgo.Interaction) *discordgo.InteractionResponse {
	locale := string(i.Locale)
	newMsg := discordgo.InteractionResponseChannelMessageWithSource
	fail := func(err error) *discordgo.InteractionResponse {
		a.logFailure("button", err)
		return text(a.bot.ErrorText(err, locale)).reply(newMsg)
	}
	refuse := func(key string) *discordgo.InteractionResponse { return text(a.catalog.T(locale, key)).reply(newMsg) }
	agent, ok := a.agentOf(i)
	if !ok {
		return refuse("error.not_agent")
	}
	actionID, key, ok := parseCustomID(i.MessageComponentData().CustomID)
	if !ok {
		return refuse("discord.error.unknown_button")
	}
	if actionID == remote.ActionIssue || actionID == remote.ActionCloseConversation {
		return a.threadButton(ctx, i, agent, actionID, key)
	}
	s, err := a.engine.Session(ctx, key)
	if err != nil {
		return fail(err)
	}
	conv, err := a.engine.Conversation(ctx, s.ConversationID)
	if err != nil {
		return fail(err)
	}
	ownCard := ephemeral(i.Message) && s.Agent == agent.Name
	if !ownCard && !inThread(i, conv) {
		return refuse("error.unauthorized")
	}
	if ownCard {
		// The card is where /remote ran: where the customer can be
		// mentioned, remembered again after a restart or on this replica.
		a.rememberOrigin(ctx, conv, i.ChannelID)
	}
	res, err := a.bot.Act(ctx, agent, actionID, s.ID)
	if err != nil {
		return fail(err)
	}
	if res.Session != nil {
		s = res.Session
	} else if s, err = a.engine.Session(ctx, key); err != nil {
		return fail(err)
	}
	update := discordgo.InteractionResponseUpdateMessage
	if ownCard {
		a.trackCard(s.ID, i, locale)
		return a.cardMessage(a.bot.Card(ctx, s, conv, locale), locale).reply(update)
	}
	return alertMessage(a.bot.DeskAlert(alertNotice(s, actionID))).reply(update)
}

// threadButton answers the buttons of a conversation's thread header:
// "Remote support" opens a new card for that conversation's customer,
// "Close conversation" ends the conversation and updates the header in
// place. Either works only on the conversation's own thread.
func (a *Adapter) threadButton(ctx context.Context, i *discordgo.Interaction, agent core.Actor, actionID, convID string) *discordgo.InteractionResponse {
	locale := string(i.Locale)
	newMsg := discordgo.InteractionResponseChannelMessageWithSource
	fail := func(op string, err error) *discordgo.InteractionResponse {
		a.logFailure(op, err)
		return text(a.bot.ErrorText(err, locale)).reply(newMsg)
	}
	conv, err := a.engine.Conversation(ctx, convID)
	if err != nil {
		return fail("button", err)
	}
	if !inThread(i, conv) {
		return text(a.catalog.T(locale, "error.unauthorized")).reply(newMsg)
	}
	if actionID == remote.ActionCloseConversation {
		if conv.State == core.ConversationClosed {
			// Closed elsewhere before this click, which makes no update:
			// the header just loses its buttons, crediting nobody.
			return alertMessage(a.bot.ClosedHeader(conv, "", locale)).reply(discordgo.InteractionResponseUpdateMessage)
		}
		if _, err := a.engine.CloseConversation(ctx, conv.ID, agent); err != nil {
			return fail("close conversation", err)
		}
		// The engine's update of the closing rewrites the header, as for a
		// close from anywhere (closeHeader).
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	}
	s, conv, err := a.engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: agent.Name})
	if err != nil {
		return fail("issue", err)
	}
	a.trackCard(s.ID, i, locale)
	return a.cardMessage(a.bot.Card(ctx, s, conv, locale), locale).reply(newMsg)
}

// inThread reports whether a button was pressed in conv's desk thread,
// or on the thread's header (whose id the thread shares).
func inThread(i *discordgo.Interaction, conv *core.Conversation) bool {
	if conv.Desk.Channel != core.ChannelDiscord || conv.DeskThread == "" {
		return false
	}
	return i.ChannelID == conv.DeskThread || (i.Message != nil && i.Message.ID == conv.DeskThread)
}

// ephemeral reports whether a message is only visible to its recipient:
// an agent's card.
func ephemeral(m *discordgo.Message) bool {
	return m != nil && m.Flags&discordgo.MessageFlagsEphemeral != 0
}

// alertNotice describes what a desk alert button just did, for the alert
// to show it at once; the outbox's own notice then edits it the same way.
func alertNotice(s *core.Session, actionID string) core.Notice {
	n := core.Notice{Kind: core.NoticeSession, Locale: s.Locale, SessionID: s.ID, State: s.State,
		Device: s.Device, Mode: s.Mode, Actor: s.Technician}
	switch {
	case actionID == remote.ActionStartControl || actionID == remote.ActionStartView:
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
	return n
}

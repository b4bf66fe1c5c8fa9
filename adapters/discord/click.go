package discord

import (
	"context"
	"errors"

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
	if data := i.MessageComponentData(); data.ComponentType == discordgo.UserSelectMenuComponent {
		return a.handoff(ctx, i, agent, data)
	}
	actionID, key, ok := parseCustomID(i.MessageComponentData().CustomID)
	if !ok {
		return refuse("discord.error.unknown_button")
	}
	if actionID == remote.ActionIssue || actionID == remote.ActionCloseConversation {
		return a.threadButton(ctx, i, agent, actionID, key)
	}
	// The answer to a press on the card is the card: the press's own
	// update must not draw it first.
	held := a.cards.Hold(key)
	defer held.Release()
	// A card only its agent sees, or a desk alert in its conversation's
	// thread.
	ownCard := false
	p, err := a.bot.Press(ctx, agent, actionID, key, func(s *core.Session, conv *core.Conversation) bool {
		// A hand-off names its agent by Discord user id, /remote by
		// user name: the card is theirs either way.
		ownCard = ephemeral(i.Message) && (s.Agent == agent.Name || s.Agent == i.Member.User.ID)
		if ownCard {
			// The card is where /remote ran: where the customer can be
			// mentioned, remembered again after a restart or on this
			// replica, before a link is sent.
			a.rememberOrigin(ctx, conv, i.ChannelID)
		}
		return ownCard || inThread(i, conv)
	})
	switch {
	case errors.Is(err, remote.ErrElsewhere):
		return refuse("error.unauthorized")
	case err != nil:
		return fail(err)
	}
	update := discordgo.InteractionResponseUpdateMessage
	// The provider's link to the customer's computer is for the
	// technician who started, and nobody else: on their own card it goes
	// with the card, which only they see; from a desk alert, which every
	// agent sees, it comes as a message only they see, and the outbox
	// edits the alert.
	link := a.bot.TechnicianLink(p.Session, locale)
	if ownCard {
		card := a.bot.PressedCard(ctx, p, locale)
		if ref, ok := a.cardRef(i, locale); ok {
			held.Track(&card, locale, ref)
		}
		msg := a.cardMessage(card, locale)
		if link != "" {
			msg.Content = link
		}
		return msg.reply(update)
	}
	if link != "" {
		return text(link).reply(newMsg)
	}
	return alertMessage(a.bot.PressedAlert(p.Session, actionID)).reply(update)
}

// threadButton answers the buttons of a conversation's thread header:
// "Remote support" opens a new card for that conversation's customer,
// "Close conversation" ends the conversation and updates the header in
// place. Either works only on the conversation's own thread.
func (a *Adapter) threadButton(ctx context.Context, i *discordgo.Interaction, agent core.Actor, actionID, convID string) *discordgo.InteractionResponse {
	locale := string(i.Locale)
	newMsg := discordgo.InteractionResponseChannelMessageWithSource
	th, err := a.bot.ThreadAct(ctx, agent, actionID, convID, locale, func(c *core.Conversation) bool { return inThread(i, c) })
	switch {
	case errors.Is(err, remote.ErrElsewhere):
		return text(a.catalog.T(locale, "error.unauthorized")).reply(newMsg)
	case err != nil:
		a.logFailure(actionID, err)
		return text(a.bot.ErrorText(err, locale)).reply(newMsg)
	case th.Header != nil:
		// Closed elsewhere before this press, which makes no update: the
		// header just loses its buttons, crediting nobody.
		return alertMessage(*th.Header).reply(discordgo.InteractionResponseUpdateMessage)
	case th.Issued.Session == nil:
		// Closed by this press: the engine's update of the closing
		// rewrites the header (closeHeader), as for a close from anywhere.
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	}
	card := a.bot.IssuedCard(th.Issued, locale)
	a.trackCard(&card, i, locale)
	return a.cardMessage(card, locale).reply(newMsg)
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

package discord

import (
	"context"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// pickerRow is a card's colleague picker: a user select menu (component
// type 5) whose custom_id names the session, or nil when the session can
// no longer be handed over.
func (a *Adapter) pickerRow(c *remote.Card, locale string) discordgo.MessageComponent {
	p := a.bot.Picker(c, locale)
	id := customID(remote.ActionHandoff, c.SessionID)
	if p == "" || len(id) > maxCustomID {
		return nil
	}
	return discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.SelectMenu{
		MenuType: discordgo.UserSelectMenu, CustomID: id, Placeholder: truncate(p, 150),
	}}}
}

// handoff answers a pick on a card's colleague picker: the session goes
// to the colleague picked, an agent of the desk guild, and the card says
// so; the desk thread gets a notice that mentions them. A refusal is an
// ephemeral answer to the picker alone, and changes nothing.
func (a *Adapter) handoff(ctx context.Context, i *discordgo.Interaction, agent core.Actor, data discordgo.MessageComponentInteractionData) *discordgo.InteractionResponse {
	locale := string(i.Locale)
	refuse := func(s string) *discordgo.InteractionResponse {
		return text(s).reply(discordgo.InteractionResponseChannelMessageWithSource)
	}
	actionID, key, ok := strings.Cut(data.CustomID, ":")
	if !ok || actionID != remote.ActionHandoff || key == "" || len(key) > maxKey || strings.Trim(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" || len(data.Values) != 1 {
		return refuse(a.catalog.T(locale, "discord.error.unknown_button"))
	}
	to := data.Values[0]
	user, member := data.Resolved.Users[to], data.Resolved.Members[to]
	if user == nil {
		return refuse(a.bot.ErrorText(remote.HandoffRefusal(to, false), locale))
	}
	if member == nil {
		member = &discordgo.Member{}
	}
	if _, ok := a.member(i.GuildID, user, member.Roles); !ok || data.Resolved.Members[to] == nil {
		return refuse(a.bot.ErrorText(remote.HandoffRefusal(displayName(user, nil), true), locale))
	}
	held := a.cards.Hold(key)
	defer held.Release()
	by := remote.Asker{Actor: agent, Names: []string{agent.Name, i.Member.User.ID}}
	s, err := a.bot.HandOffSession(ctx, by, key, to, "")
	if err != nil {
		a.logFailure("hand-off", err)
		return refuse(a.bot.ErrorText(err, locale))
	}
	conv, err := a.engine.Conversation(ctx, s.ConversationID)
	if err != nil {
		a.logFailure("hand-off", err)
		return refuse(a.bot.HandedText(displayName(user, nil), locale))
	}
	card := a.bot.Card(ctx, s, conv, locale)
	if ref, ok := a.cardRef(i, locale); ok {
		held.Track(&card, locale, ref)
	}
	msg := a.cardMessage(card, locale)
	msg.Content = a.bot.HandedText(displayName(user, nil), locale)
	return msg.reply(discordgo.InteractionResponseUpdateMessage)
}

// handoffMessage is a hand-off notice for the desk thread: a colleague
// who is a Discord user is mentioned, which pings them, and nobody else.
func (a *Adapter) handoffMessage(n core.Notice) message {
	var m message
	to := escapeMarkdown(n.Assignee)
	if id, err := ParseUserID(n.Assignee); err == nil {
		to, m.Mention = "<@"+id+">", id
	}
	n.Actor = escapeMarkdown(n.Actor)
	line, note := a.bot.HandoffText(n, a.catalog.Default(), to)
	if note != "" {
		line += "\n" + note
	}
	m.Content = truncate(line, maxContent)
	return m
}

// Colleague reports whether id is a member of the desk's guild (known)
// who is an agent there (allowed), for the API's hand-offs. Without
// discord.guild_id there is no one guild to look in, and nobody is known.
func (a *Adapter) Colleague(ctx context.Context, id string) (known, allowed bool) {
	if _, err := ParseUserID(id); err != nil || a.guild == "" {
		return false, false
	}
	ctx, cancel := context.WithTimeout(ctx, restTimeout)
	defer cancel()
	m, err := a.session.GuildMember(a.guild, id, discordgo.WithContext(ctx))
	if err != nil || m.User == nil {
		return false, false
	}
	_, ok := a.member(a.guild, m.User, m.Roles)
	return true, ok
}

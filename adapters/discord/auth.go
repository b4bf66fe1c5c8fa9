package discord

import (
	"github.com/bwmarrin/discordgo"

	"github.com/assistbot/assistbot/core"
)

// agentOf returns the agent who made an interaction, or ok=false when
// they may not act: outside a guild (a DM), in a guild other than
// guild_id, or without one of agent_roles. The agent's name, recorded in
// sessions and shown in alerts, is their unique Discord username.
func (a *Adapter) agentOf(i *discordgo.Interaction) (core.Actor, bool) {
	if i.GuildID == "" || i.Member == nil || i.Member.User == nil {
		return core.Actor{}, false
	}
	return a.member(i.GuildID, i.Member.User, i.Member.Roles)
}

// member applies the agent rules to a guild member.
func (a *Adapter) member(guildID string, u *discordgo.User, roles []string) (core.Actor, bool) {
	if u == nil || u.ID == "" || u.Bot || guildID == "" || (a.guild != "" && guildID != a.guild) {
		return core.Actor{}, false
	}
	if len(a.roles) > 0 {
		ok := false
		for _, r := range roles {
			ok = ok || a.roles[r]
		}
		if !ok {
			return core.Actor{}, false
		}
	}
	return core.Actor{Kind: core.ActorAgent, Name: u.Username}, true
}

// displayName is how a customer is named to agents: their server
// nickname, else their display name, else their username.
func displayName(u *discordgo.User, m *discordgo.Member) string {
	switch {
	case m != nil && m.Nick != "":
		return m.Nick
	case u == nil:
		return ""
	case u.GlobalName != "":
		return u.GlobalName
	}
	return u.Username
}

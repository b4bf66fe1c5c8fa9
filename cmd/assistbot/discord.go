package main

import (
	"context"
	"fmt"
	"time"

	"github.com/assistbot/assistbot/adapters/discord"
	"github.com/assistbot/assistbot/config"
)

// syncTimeout bounds registering the commands at start-up.
const syncTimeout = 15 * time.Second

// newDiscordPlatform returns Discord's part of the program, or nil when
// it is not enabled: the /remote command and buttons (gateway, or POST
// /discord/interactions when public_key is set), customer DMs and desk
// threads, and the relay. Run holds the gateway connection (when
// configured) and refreshes cards.
func newDiscordPlatform(cfg *config.Config) platform {
	if !cfg.Discord.Enabled {
		return nil
	}
	c := cfg.Discord
	return &adapterPlatform{label: "discord", build: func(ctx context.Context, m *Main) (adapter, error) {
		a, err := discord.New(discord.Options{
			Token:          c.Token,
			ApplicationID:  c.ApplicationID,
			PublicKey:      c.PublicKey,
			GuildID:        c.GuildID,
			DeskChannel:    c.DeskChannel,
			AgentRoles:     c.AgentRoles,
			EscalationRole: m.Config.Escalation.DiscordRole,
			Gateway:        c.Gateway,
			Locker:         m.store,
			Memo:           m.store,
			APIURL:         c.APIURL,
			Engine:         m.engine,
			Bot:            m.bot,
			Logger:         m.Logger,
		})
		if err != nil {
			return nil, err
		}
		if len(c.AgentRoles) == 0 {
			m.Logger.Warn("discord.agent_roles is empty: every member of an accepted guild may run /remote", "guild_id", c.GuildID)
		}
		if c.SyncCommands {
			syncAtStart(ctx, m, a, c.GuildID)
		}
		return a, nil
	}}
}

// syncAtStart registers the commands, as discord.sync_commands asks. A
// failed registration is logged, not fatal: the commands registered
// earlier keep working.
func syncAtStart(ctx context.Context, m *Main, a *discord.Adapter, guildID string) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if _, err := a.SyncCommands(ctx); err != nil {
		m.Logger.Error("register the Discord commands", "err", err)
		return
	}
	m.Logger.Info("registered the Discord commands", "where", commandScope(guildID))
}

// commandScope says where commands are registered, for people.
func commandScope(guildID string) string {
	if guildID == "" {
		return "globally"
	}
	return fmt.Sprintf("in guild %s", guildID)
}

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

// discordPlatform is Discord's part of the program: the /remote command
// and buttons (gateway, or POST /discord/interactions when public_key is
// set), customer DMs and desk threads, and the relay.
type discordPlatform struct {
	cfg config.Discord
	a   *discord.Adapter
}

// newDiscordPlatform returns Discord's part of the program, or nil when
// it is not enabled.
func newDiscordPlatform(cfg *config.Config) platform {
	if !cfg.Discord.Enabled {
		return nil
	}
	return &discordPlatform{cfg: cfg.Discord}
}

func (p *discordPlatform) name() string { return "discord" }

// open builds the adapter, adds its channel, mounts the interactions
// endpoint when a public key is configured, and registers the commands
// when discord.sync_commands asks for it. A failed registration is
// logged, not fatal: the commands registered earlier keep working.
func (p *discordPlatform) open(ctx context.Context, m *Main) error {
	a, err := discord.New(discord.Options{
		Token:         p.cfg.Token,
		ApplicationID: p.cfg.ApplicationID,
		PublicKey:     p.cfg.PublicKey,
		GuildID:       p.cfg.GuildID,
		DeskChannel:   p.cfg.DeskChannel,
		AgentRoles:    p.cfg.AgentRoles,
		Gateway:       p.cfg.Gateway,
		APIURL:        p.cfg.APIURL,
		Engine:        m.engine,
		Bot:           m.bot,
		Logger:        m.Logger,
	})
	if err != nil {
		return err
	}
	p.a = a
	if err := m.engine.AddChannel(a); err != nil {
		return err
	}
	if p.cfg.PublicKey != "" {
		m.web.Handle("POST /discord/interactions", a)
	}
	if len(p.cfg.AgentRoles) == 0 {
		m.Logger.Warn("discord.agent_roles is empty: every member of an accepted guild may run /remote", "guild_id", p.cfg.GuildID)
	}
	if p.cfg.SyncCommands {
		sctx, cancel := context.WithTimeout(ctx, syncTimeout)
		defer cancel()
		if _, err := a.SyncCommands(sctx); err != nil {
			m.Logger.Error("register the Discord commands", "err", err)
		} else {
			m.Logger.Info("registered the Discord commands", "where", commandScope(p.cfg.GuildID))
		}
	}
	return nil
}

// run holds the gateway connection (when configured) and refreshes cards.
func (p *discordPlatform) run(ctx context.Context) error { return p.a.Run(ctx) }

// commandScope says where commands are registered, for people.
func commandScope(guildID string) string {
	if guildID == "" {
		return "globally"
	}
	return fmt.Sprintf("in guild %s", guildID)
}

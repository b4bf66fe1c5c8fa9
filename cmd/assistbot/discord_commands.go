package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/assistbot/assistbot/adapters/discord"
	"github.com/assistbot/assistbot/bots/i18n"
)

// discordCommand is "discord sync-commands": it registers /remote with
// Discord, in discord.guild_id or globally.
func (c *cli) discordCommand() *cobra.Command {
	parent := &cobra.Command{
		Use:   "discord",
		Short: "Set up the Discord application",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErr(`"discord" needs a subcommand: sync-commands`)
		},
	}
	parent.AddCommand(&cobra.Command{
		Use:   "sync-commands",
		Short: "Register /remote with Discord (in discord.guild_id, or globally)",
		Long: `sync-commands registers assistbot's application commands (/remote, with
its customer and device options, in every language assistbot speaks) by
bulk overwrite: afterwards the application has exactly these commands in
discord.guild_id, or globally without it, so running it again is harmless.
It needs discord.token and discord.application_id.`,
		Example: `  DISCORD_BOT_TOKEN=... assistbot --config assistbot.yaml discord sync-commands`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return c.syncDiscordCommands(c.ctx) },
	})
	return parent
}

func (c *cli) syncDiscordCommands(ctx context.Context) error {
	cfg, err := c.loadConfig()
	if err != nil {
		printProblems(c.stderr, err)
		return failed()
	}
	if err := cfg.Require("to register commands", "discord.token", "discord.application_id"); err != nil {
		printProblems(c.stderr, err)
		return failed()
	}
	d := cfg.Discord
	catalog, err := i18n.New(cfg.Locale)
	if err != nil {
		fmt.Fprintf(c.stderr, "assistbot: locale: %v\n", err)
		return failed()
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	got, err := discord.SyncCommands(ctx, discord.SyncOptions{
		Token: d.Token, ApplicationID: d.ApplicationID, GuildID: d.GuildID, APIURL: d.APIURL, Catalog: catalog,
	})
	if err != nil {
		fmt.Fprintf(c.stderr, "assistbot: %v\n", err)
		return failed()
	}
	for _, cmd := range got {
		fmt.Fprintf(c.stdout, "registered /%s %s (id %s)\n", cmd.Name, commandScope(d.GuildID), cmd.ID)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/assistbot/assistbot/adapters/discord"
	"github.com/assistbot/assistbot/bots/i18n"
)

// discord runs "assistbot discord <subcommand>".
func (c *cli) discord(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] != "sync-commands" {
		return c.usageError(errors.New(`"discord" needs a subcommand: sync-commands`))
	}
	fs := c.flags("discord sync-commands")
	if err := fs.Parse(args[1:]); err != nil {
		return c.usageError(err)
	}
	cfg, err := c.loadConfig()
	if err != nil {
		printProblems(c.stderr, err)
		return exitFailed
	}
	d := cfg.Discord
	var missing []string
	if d.Token == "" {
		missing = append(missing, "discord.token: is required to register commands")
	}
	if d.ApplicationID == "" {
		missing = append(missing, "discord.application_id: is required to register commands")
	}
	if len(missing) > 0 {
		printProblems(c.stderr, errors.New(strings.Join(missing, "\n")))
		return exitFailed
	}
	catalog, err := i18n.New(cfg.Locale)
	if err != nil {
		fmt.Fprintf(c.stderr, "assistbot: locale: %v\n", err)
		return exitFailed
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	got, err := discord.SyncCommands(ctx, discord.SyncOptions{
		Token: d.Token, ApplicationID: d.ApplicationID, GuildID: d.GuildID, APIURL: d.APIURL, Catalog: catalog,
	})
	if err != nil {
		fmt.Fprintf(c.stderr, "assistbot: %v\n", err)
		return exitFailed
	}
	for _, cmd := range got {
		fmt.Fprintf(c.stdout, "registered /%s %s (id %s)\n", cmd.Name, commandScope(d.GuildID), cmd.ID)
	}
	return exitOK
}

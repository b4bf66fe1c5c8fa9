package main

import (
	"errors"
	"fmt"

	"github.com/assistbot/assistbot/adapters/slack"
	"github.com/assistbot/assistbot/bots/i18n"
)

// slackCommand runs "assistbot slack manifest [--url URL]": it prints the
// Slack app manifest for the configured command, with the request URLs
// under URL (default server.public_url), or for Socket Mode when
// slack.app_token is set: the server then takes Slack's requests over
// Socket Mode, signing secret or not, and the request URLs would go unused.
func (c *cli) slackCommand(args []string) int {
	if len(args) == 0 || args[0] != "manifest" {
		return c.usageError(errors.New(`"slack" needs a subcommand: manifest`))
	}
	fs := c.flags("slack manifest")
	base := fs.String("url", "", "assistbot's public base URL (default server.public_url)")
	socket := fs.Bool("socket-mode", false, "make a Socket Mode app, which needs no public URL")
	if err := fs.Parse(args[1:]); err != nil {
		return c.usageError(err)
	}
	cfg, err := c.loadConfig()
	if err != nil {
		printProblems(c.stderr, err)
		return exitFailed
	}
	if *base == "" {
		*base = cfg.Server.PublicURL
	}
	if !*socket {
		*socket = cfg.Slack.AppToken != ""
	}
	catalog, err := i18n.New(cfg.Locale)
	if err != nil {
		fmt.Fprintf(c.stderr, "assistbot: locale: %v\n", err)
		return exitFailed
	}
	out, err := slack.Manifest(slack.ManifestOptions{URL: *base, Command: cfg.Slack.Command, SocketMode: *socket, Catalog: catalog, Locale: cfg.Locale})
	if err != nil {
		fmt.Fprintf(c.stderr, "assistbot: %v\n", err)
		return exitFailed
	}
	_, _ = c.stdout.Write(out)
	return exitOK
}

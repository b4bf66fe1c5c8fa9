package main

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/assistbot/assistbot/adapters/slack/manifest"
	"github.com/assistbot/assistbot/bots/i18n"
)

// slackCommand is "slack manifest": it prints the Slack app manifest for
// the configured command, with the request URLs under --url (default
// server.public_url), or for Socket Mode when slack.app_token is set or
// --socket-mode is given: the server then takes Slack's requests over
// Socket Mode, signing secret or not, and request URLs would go unused.
func (c *cli) slackCommand() *cobra.Command {
	parent := &cobra.Command{
		Use:   "slack",
		Short: "Set up the Slack app",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErr(`"slack" needs a subcommand: manifest`)
		},
	}
	var base string
	var socket bool
	cmd := &cobra.Command{
		Use:   "manifest",
		Short: "Print the Slack app manifest for this configuration",
		Long: `manifest prints the Slack app manifest (YAML) to paste at
https://api.slack.com/apps, "Create New App", "From an app manifest": the
slash command (slack.command), the message shortcut, the events, the bot
scopes, and the request URLs under --url. Slack accepts only https://
request URLs, so any other URL is refused; a Socket Mode app (with
--socket-mode, or when slack.app_token is set) needs no URL at all.`,
		Example: `  assistbot slack manifest --url https://support.example.com
  assistbot --config assistbot.yaml slack manifest --socket-mode`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				printProblems(c.stderr, err)
				return failed()
			}
			if base == "" {
				base = cfg.Server.PublicURL
			}
			if !socket {
				socket = cfg.Slack.AppToken != ""
			}
			if u, err := url.Parse(base); !socket && (err != nil || u.Scheme != "https" || u.Host == "") {
				return usageErr("Slack accepts only https:// request URLs, and %q is not one: give assistbot's public https:// address with --url (it is server.public_url by default), or make a Socket Mode app with --socket-mode, which needs no URL", base)
			}
			catalog, err := i18n.New(cfg.Locale)
			if err != nil {
				fmt.Fprintf(c.stderr, "assistbot: locale: %v\n", err)
				return failed()
			}
			out, err := manifest.Build(manifest.Options{URL: base, Command: cfg.Slack.Command, SocketMode: socket, Catalog: catalog, Locale: cfg.Locale})
			if err != nil {
				fmt.Fprintf(c.stderr, "assistbot: %v\n", err)
				return failed()
			}
			_, _ = c.stdout.Write(out)
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "url", "", "assistbot's public https:// base URL, under which the request URLs are (default server.public_url)")
	cmd.Flags().BoolVar(&socket, "socket-mode", false, "make a Socket Mode app, which needs no public URL (default: when slack.app_token is set)")
	parent.AddCommand(cmd)
	return parent
}

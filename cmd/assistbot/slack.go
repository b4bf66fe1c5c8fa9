package main

import (
	"context"

	"github.com/assistbot/assistbot/adapters/slack"
	"github.com/assistbot/assistbot/config"
)

// newSlackPlatform returns Slack's part of the program, or nil when it is
// not enabled: /remote, the card and its buttons (POST /slack/commands,
// /slack/interactions, /slack/events, or Socket Mode with an app token),
// customer DMs and the desk's threads. Run keeps the agent list and the
// cards fresh, and holds the Socket Mode connection.
func newSlackPlatform(cfg *config.Config) platform {
	if !cfg.Slack.Enabled {
		return nil
	}
	c, sms := cfg.Slack, cfg.Twilio.Enabled
	return &adapterPlatform{label: "slack", build: func(_ context.Context, m *Main) (adapter, error) {
		return slack.New(slack.Options{
			Engine:          m.engine,
			Bot:             m.bot,
			BotToken:        c.BotToken,
			SigningSecret:   c.SigningSecret,
			AppToken:        c.AppToken,
			Command:         c.Command,
			DeskChannel:     c.DeskChannel,
			AgentGroup:      c.AgentGroup,
			EscalationGroup: m.Config.Escalation.SlackGroup,
			AllowedTeams:    c.AllowedTeams,
			APIURL:          c.APIURL,
			SMS:             sms,
			Locale:          m.Config.Locale,
			Logger:          m.Logger,
		})
	}}
}

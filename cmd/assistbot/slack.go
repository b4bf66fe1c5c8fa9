package main

import (
	"context"

	"github.com/assistbot/assistbot/adapters/slack"
	"github.com/assistbot/assistbot/config"
)

// slackPlatform is Slack's part of the program: /remote, the card and its
// buttons (POST /slack/commands, /slack/interactions, /slack/events, or
// Socket Mode with an app token), customer DMs and the desk's threads.
type slackPlatform struct {
	cfg config.Slack
	sms bool
	a   *slack.Adapter
}

// newSlackPlatform returns Slack's part of the program, or nil when it is
// not enabled.
func newSlackPlatform(cfg *config.Config) platform {
	if !cfg.Slack.Enabled {
		return nil
	}
	return &slackPlatform{cfg: cfg.Slack, sms: cfg.Twilio.Enabled}
}

func (p *slackPlatform) name() string { return "slack" }

// open builds the adapter, adds its channel and mounts its routes (none
// in Socket Mode without a signing secret).
func (p *slackPlatform) open(ctx context.Context, m *Main) error {
	a, err := slack.New(slack.Options{
		Engine:        m.engine,
		Bot:           m.bot,
		BotToken:      p.cfg.BotToken,
		SigningSecret: p.cfg.SigningSecret,
		AppToken:      p.cfg.AppToken,
		Command:       p.cfg.Command,
		DeskChannel:   p.cfg.DeskChannel,
		AgentGroup:    p.cfg.AgentGroup,
		AllowedTeams:  p.cfg.AllowedTeams,
		APIURL:        p.cfg.APIURL,
		SMS:           p.sms,
		Locale:        m.Config.Locale,
		Logger:        m.Logger,
	})
	if err != nil {
		return err
	}
	p.a = a
	if err := m.engine.AddChannel(a.Channel()); err != nil {
		return err
	}
	a.Mount(m.web)
	return nil
}

// run keeps the agent list and the cards fresh, and holds the Socket Mode
// connection when an app token is configured.
func (p *slackPlatform) run(ctx context.Context) error { return p.a.Run(ctx) }

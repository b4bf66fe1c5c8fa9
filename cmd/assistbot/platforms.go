package main

import (
	"context"
	"net/http"

	"github.com/assistbot/assistbot/core"
)

// platform is one chat platform's part of the program: Slack, Discord,
// Twilio SMS, the web console. Each lives in its own file of this package
// and its own adapter package.
type platform interface {
	// name names the platform in errors and logs ("slack").
	name() string
	// open builds the platform's channels (m.engine.AddChannel) and mounts
	// its routes (m.web.Handle). The engine, the bot and the web server
	// exist; nothing is served yet.
	open(ctx context.Context, m *Main) error
	// run does the platform's background work (a gateway connection,
	// Socket Mode) until ctx ends; platforms without any return nil at
	// once.
	run(ctx context.Context) error
}

// enabledPlatforms returns the platforms the configuration turns on.
func (m *Main) enabledPlatforms() []platform {
	var out []platform
	for _, p := range []platform{
		newSlackPlatform(m.Config),
		newDiscordPlatform(m.Config),
		newTwilioPlatform(m.Config),
		newConsolePlatform(m.Config),
	} {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// adapter is the shape every chat platform's adapter has (adapters/slack,
// adapters/discord, adapters/twilio): the channels it delivers through,
// the routes it serves, and its background work.
type adapter interface {
	Channels() []core.Channel
	Mount(mux interface{ Handle(string, http.Handler) })
	Run(ctx context.Context) error
}

// adapterPlatform is the platform of an adapter: open builds it, adds its
// channels to the engine and mounts its routes on the web server; run
// runs it.
type adapterPlatform struct {
	label string
	// build makes the adapter from m's engine, bot and logger, and does
	// whatever the platform does once at start (a warning, a banner
	// line).
	build func(ctx context.Context, m *Main) (adapter, error)
	a     adapter
}

func (p *adapterPlatform) name() string { return p.label }

func (p *adapterPlatform) open(ctx context.Context, m *Main) error {
	a, err := p.build(ctx, m)
	if err != nil {
		return err
	}
	for _, ch := range a.Channels() {
		if err := m.engine.AddChannel(ch); err != nil {
			return err
		}
	}
	a.Mount(m.web)
	p.a = a
	return nil
}

func (p *adapterPlatform) run(ctx context.Context) error { return p.a.Run(ctx) }

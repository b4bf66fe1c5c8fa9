package main

import "context"

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

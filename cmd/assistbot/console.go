package main

import (
	"context"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/assistbot/assistbot/adapters/turn"
	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/config"
)

// firstAgent is the name of the agent serve makes when none is configured.
const firstAgent = "admin"

// consolePlatform is the technician console and the web chat: their
// channels (web chat, console desk) and their routes on the web server.
type consolePlatform struct {
	cfg     *config.Config
	console *web.Console
	// turn is the embedded TURN server, when webrtc.turn.enabled.
	turn *turn.Server
}

// newConsolePlatform returns the web console and web chat's part of the
// program, or nil when console.enabled is false.
func newConsolePlatform(cfg *config.Config) platform {
	if !cfg.Console.Enabled {
		return nil
	}
	return &consolePlatform{cfg: cfg}
}

func (p *consolePlatform) name() string { return "console" }

// open mounts the console. With no agents configured it makes a one-time
// agent and prints its password on m.Out, once: it is the newcomer's way
// in, and it never reaches the log.
func (p *consolePlatform) open(ctx context.Context, m *Main) error {
	cc := p.cfg.Console
	agents := make([]web.Agent, 0, len(cc.Agents))
	for _, a := range cc.Agents {
		agents = append(agents, web.Agent{Name: a.Name, PasswordHash: a.PasswordHash})
	}
	var password string
	if len(agents) == 0 {
		a, pw, err := web.OneTimeAgent(firstAgent)
		if err != nil {
			return err
		}
		agents, password = append(agents, a), pw
	}
	ts, err := startTURN(ctx, p.cfg, m.Logger)
	if err != nil {
		return err
	}
	c, err := web.NewConsole(m.web, web.ConsoleOptions{
		Bot:        m.bot,
		Agents:     agents,
		SessionTTL: cc.SessionTTL,
		WebChat:    cc.WebChat,
		PublicURL:  p.cfg.Server.PublicURL,
		ICEServers: iceServers(p.cfg.WebRTC.ICEServers, ts),
		RelayOnly:  p.cfg.WebRTC.RelayOnly,
	})
	if err != nil {
		if ts != nil {
			_ = ts.Close()
		}
		return err
	}
	p.turn = ts
	for _, ch := range c.Channels() {
		if err := m.engine.AddChannel(ch); err != nil {
			return err
		}
	}
	p.console = c
	base := p.cfg.Server.PublicURL
	m.announce("  technician console: %s/console", base)
	if cc.WebChat {
		m.announce("  customer web chat:  %s/chat", base)
	}
	if ts != nil {
		m.announce("  embedded TURN:      %s (udp)", ts.Addr())
	}
	if p.cfg.Provider.Kind == "builtin" && !secureContext(base) {
		m.Logger.Warn("screen sharing needs https: browsers share a screen or camera only with pages served over https:// or from localhost", "public_url", base)
	}
	if password != "" {
		m.Logger.Info("console.agents is empty: a one-time agent was made and its password printed on standard output", "agent", firstAgent)
		m.announce("\nNo console agents are configured, so this run has a one-time sign-in:\n"+
			"  name:     %s\n  password: %s\n"+
			"It lasts until assistbot stops. To keep an agent, run `assistbot agent add NAME`\n"+
			"and put the line it prints under console.agents in the configuration.", firstAgent, password)
	}
	return nil
}

func (p *consolePlatform) run(ctx context.Context) error {
	if p.turn != nil {
		defer p.turn.Close()
	}
	return p.console.Run(ctx)
}

// secureContext reports whether pages at base are a secure context for
// browsers: https, or plain http on the local machine.
func secureContext(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	h := u.Hostname()
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// iceServers returns what the screen-share pages are handed each time
// one opens: the configured STUN and TURN servers, then the embedded TURN
// server with credentials fresh for this page.
func iceServers(configured []config.ICEServer, ts *turn.Server) func() []web.ICEServer {
	static := make([]web.ICEServer, 0, len(configured))
	for _, s := range configured {
		static = append(static, web.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return func() []web.ICEServer {
		out := slices.Clone(static)
		if ts != nil {
			c := ts.Credentials()
			out = append(out, web.ICEServer{URLs: c.URLs, Username: c.Username, Credential: c.Credential})
		}
		return out
	}
}

package main

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/assistbot/assistbot/adapters/console"
	"github.com/assistbot/assistbot/adapters/portal"
	"github.com/assistbot/assistbot/adapters/turn"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
)

// firstAgent is the name of the agent serve makes when none is configured.
const firstAgent = "admin"

// newConsolePlatform returns nil: the console is no longer a platform of
// its own but one of the web surfaces, built with the others (openWeb in
// web.go). It stays until platforms.go stops listing it.
func newConsolePlatform(cfg *config.Config) platform { return nil }

// agentsOf returns the configured console agents or, when there are
// none, a one-time agent and its password: the newcomer's way in.
func agentsOf(configured []config.Agent) ([]console.Agent, string, error) {
	agents := make([]console.Agent, 0, len(configured))
	for _, a := range configured {
		agents = append(agents, console.Agent{Name: a.Name, PasswordHash: a.PasswordHash, Role: a.Role})
	}
	if len(agents) > 0 {
		return agents, "", nil
	}
	a, pw, err := console.OneTimeAgent(firstAgent)
	if err != nil {
		return nil, "", err
	}
	return append(agents, a), pw, nil
}

// announceConsole says where the console and the web chat are, and
// prints the one-time agent's password on m.Out, once, when there is one:
// it never reaches the log.
func (m *Main) announceConsole(password string) {
	cfg := m.Config
	base := cfg.Server.PublicURL
	m.announce("  technician console: %s/console", base)
	if cfg.Console.WebChat {
		m.announce("  customer web chat:  %s/chat", base)
	}
	if m.turn != nil {
		m.announce("  embedded TURN:      %s (udp)", m.turn.Addr())
	}
	if cfg.Provider.Kind == "builtin" && !secureContext(base) {
		m.Logger.Warn("screen sharing needs https: browsers share a screen or camera only with pages served over https:// or from localhost", "public_url", base)
	}
	if password != "" {
		m.Logger.Info("console.agents is empty: a one-time agent was made and its password printed on standard output", "agent", firstAgent)
		if _, shared := m.store.(core.Broadcaster); shared {
			// Each replica makes its own: behind a load balancer, the
			// others refuse what this one signed in.
			m.Logger.Warn("the one-time agent signs in on this replica only; several replicas need console.agents")
		}
		m.signInNote = fmt.Sprintf("\nNo console agents are configured, so this run has a one-time sign-in:\n"+
			"  name:     %s\n  password: %s\n"+
			"It lasts until assistbot stops. To keep an agent, run `assistbot agent add NAME`\n"+
			"and put the line it prints under console.agents in the configuration.", firstAgent, password)
	}
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
func iceServers(configured []config.ICEServer, ts *turn.Server) func() []portal.ICEServer {
	static := make([]portal.ICEServer, 0, len(configured))
	for _, s := range configured {
		static = append(static, portal.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return func() []portal.ICEServer {
		out := slices.Clone(static)
		if ts != nil {
			c := ts.Credentials()
			out = append(out, portal.ICEServer{URLs: c.URLs, Username: c.Username, Credential: c.Credential})
		}
		return out
	}
}

// consoleICE hands the console's viewer the same servers as the
// customer's share page.
func consoleICE(ice func() []portal.ICEServer) func() []console.ICEServer {
	return func() []console.ICEServer {
		list := ice()
		out := make([]console.ICEServer, len(list))
		for i, s := range list {
			out[i] = console.ICEServer(s)
		}
		return out
	}
}

package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/assistbot/assistbot/adapters/api"
	"github.com/assistbot/assistbot/adapters/console"
	"github.com/assistbot/assistbot/adapters/metrics"
	"github.com/assistbot/assistbot/adapters/portal"
	"github.com/assistbot/assistbot/adapters/signaling"
	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/adapters/webchat"
	"github.com/assistbot/assistbot/core"
)

// surface is one part of the web server, built by its package's New from
// options. It mounts its routes; the channels it offers go to the engine,
// and its loop, when it has one, runs while the server serves.
type surface interface {
	Mount(mux web.Mux)
}

// channeler is a surface that offers channels (the web chat, the console
// desk).
type channeler interface {
	Channels() []core.Channel
}

// runner is a surface with background work.
type runner interface {
	Run(ctx context.Context) error
}

// openWeb builds the web server and the surfaces on it: the metrics, the
// API and the portal always; the console, the signaling of its screen
// share and, with console.web_chat, the web chat when console.enabled.
func (m *Main) openWeb(ctx context.Context, mx *metrics.Metrics) error {
	cfg := m.Config
	proxies, err := parseProxies(cfg.Server.TrustedProxies)
	if err != nil {
		return err
	}
	m.web = web.New(web.Options{Ready: m.store.Ping, Observe: mx.ObserveRequest, Logger: m.Logger})
	a, err := api.New(api.Options{Engine: m.engine, Catalog: m.catalog, Tokens: cfg.API.Tokens, Logger: m.Logger, Webhooks: m.apiWebhooks(),
		Idempotency: m.store, Clock: m.Clock, Reports: m.reports()})
	if err != nil {
		return err
	}
	po := portal.Options{
		Engine:                 m.engine,
		Catalog:                m.catalog,
		PublicURL:              cfg.Server.PublicURL,
		TrustedProxies:         proxies,
		ClientGuessesPerMinute: cfg.PIN.ClientGuessesPerMinute,
		GlobalGuessesPerMinute: cfg.PIN.GlobalGuessesPerMinute,
		LinkKeys:               m.store,
		Clock:                  m.Clock,
		Observer:               mx,
		Logger:                 m.Logger,
	}
	if !cfg.Console.Enabled {
		if cfg.WebRTC.TURN.Enabled {
			m.Logger.Warn("webrtc.turn.enabled is ignored: the TURN server relays the console's screen share, and console.enabled is false")
		}
		a.HandoffTo(m.colleagues(nil))
		p, err := portal.New(po)
		if err != nil {
			return err
		}
		return m.mount(mx, a, p)
	}

	ts, err := startTURN(ctx, cfg, m.Logger)
	if err != nil {
		return err
	}
	m.turn = ts
	ice := iceServers(cfg.WebRTC.ICEServers, ts)
	// The portal and the console decide who may open a signaling socket,
	// and the hub tells them which sessions can be shared: each needs the
	// other, so the hub asks them through these two, built just below.
	var (
		p   *portal.Portal
		con *console.Console
	)
	hub, err := signaling.New(signaling.Options{
		Engine:     m.engine,
		PublicURL:  cfg.Server.PublicURL,
		Customer:   func(r *http.Request) (*core.Session, error) { return p.Customer(r) },
		Technician: func(r *http.Request) (string, <-chan struct{}, bool) { return con.SignedIn(r) },
		Observer:   mx,
		Logger:     m.Logger,
	})
	if err != nil {
		return err
	}
	po.Share, po.ICEServers, po.RelayOnly = hub, ice, cfg.WebRTC.RelayOnly
	if p, err = portal.New(po); err != nil {
		return err
	}
	surfaces := []surface{mx, a, p, hub}
	snippet := ""
	if cfg.Console.WebChat {
		chat, err := webchat.New(webchat.Options{
			Engine:         m.engine,
			Catalog:        m.catalog,
			PublicURL:      cfg.Server.PublicURL,
			TrustedProxies: proxies,
			Keys:           m.store,
			Clock:          m.Clock,
			SharePage: func(s *core.Session) string {
				if !hub.Shareable(s) {
					return ""
				}
				return p.StatusPath(s.ID)
			},
			Logger: m.Logger,
		})
		if err != nil {
			return err
		}
		surfaces, snippet = append(surfaces, chat), chat.Snippet()
	}
	agents, password, err := agentsOf(cfg.Console.Agents)
	if err != nil {
		return err
	}
	con, err = console.New(console.Options{
		Engine:          m.engine,
		Bot:             m.bot,
		Catalog:         m.catalog,
		Agents:          agents,
		SessionTTL:      cfg.Console.SessionTTL,
		SignIns:         m.store,
		Keys:            m.store,
		PublicURL:       cfg.Server.PublicURL,
		TrustedProxies:  proxies,
		Clock:           m.Clock,
		ChatSnippet:     snippet,
		Escalation:      cfg.Escalation.After,
		Screen:          hub,
		ICEServers:      consoleICE(ice),
		RelayOnly:       cfg.WebRTC.RelayOnly,
		TechnicianLinks: m.technicianLinks,
		Reports:         m.reports(),
		Logger:          m.Logger,
	})
	if err != nil {
		return err
	}
	a.HandoffTo(m.colleagues(con))
	if err := m.mount(append(surfaces, con)...); err != nil {
		return err
	}
	m.announceConsole(password)
	return nil
}

// mount adds each surface's channels to the engine, mounts its routes on
// the server and keeps its loop for Run.
func (m *Main) mount(surfaces ...surface) error {
	for _, s := range surfaces {
		if c, ok := s.(channeler); ok {
			for _, ch := range c.Channels() {
				if err := m.engine.AddChannel(ch); err != nil {
					return fmt.Errorf("%T: %w", s, err)
				}
			}
		}
		s.Mount(m.web)
		if r, ok := s.(runner); ok {
			m.loops = append(m.loops, r)
		}
	}
	return nil
}

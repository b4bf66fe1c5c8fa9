// Package signaling is the WebRTC signaling of assistbot's screen share:
// a Hub that pairs the customer's share page with the technician's viewer
// in a room per session and relays their offers, answers and ICE
// candidates, and its two WebSocket routes — GET /s/{id}/signal for the
// customer, GET /console/sessions/{id}/signal for the technician. It
// writes the share's start, stop and refusal into the session's log, and
// never sees media: that flows browser to browser.
//
// Who may open a socket is decided elsewhere, through Options: the
// portal's customer cookie for the customer, the console's sign-in for
// the technician.
package signaling

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/core"
)

// builtinProvider is the name of the provider whose sessions assistbot
// shows itself, by screen or camera sharing.
const builtinProvider = "builtin"

// DefaultPing spaces the pings that find dead signaling connections when
// Options leave Ping zero.
const DefaultPing = 15 * time.Second

// socketCSP is the Content-Security-Policy of the sockets' answers: they
// are no pages, and load nothing.
const socketCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

// Engine is what the signaling needs of core.Engine.
type Engine interface {
	Session(ctx context.Context, id string) (*core.Session, error)
	Record(ctx context.Context, id string, actor core.Actor, a core.Action, detail string) (*core.Session, error)
	Subscribe(buf int) (<-chan core.Update, func())
}

// Observer is told of the sockets: one of role ("customer",
// "technician") opening (delta 1) or closing (delta -1), and one closed
// for a message it may not send, by reason ("too_large", "malformed",
// "not_allowed", "rate_limited", "binary").
type Observer interface {
	ShareConnection(role string, delta int)
	SignalRefused(reason string)
}

// Options configure a Hub. Engine is required.
type Options struct {
	// Engine tells the sessions' states and records the shares.
	Engine Engine
	// PublicURL is the external base URL: sockets opened from pages on
	// its host are accepted besides the request's own host.
	PublicURL string
	// Customer returns the session of r's path ({id}) if r comes from
	// the browser that joined it (the portal's customer cookie), and an
	// error of code CodeNotFound otherwise. Nil mounts no customer route.
	Customer func(r *http.Request) (*core.Session, error)
	// Technician returns the agent signed in on r's browser and a channel
	// closed when that sign-in ends (the console's), or false when there
	// is none. Nil mounts no technician route.
	Technician func(r *http.Request) (agent string, signedOut <-chan struct{}, ok bool)
	// Observer, when set, is told of sockets opening, closing and being
	// refused.
	Observer Observer
	// Ping spaces the pings that find dead connections; default
	// DefaultPing.
	Ping   time.Duration
	Logger *slog.Logger // default discards
}

// Hub serves the signaling sockets and relays between them.
type Hub struct {
	engine     Engine
	relay      *relay
	log        *slog.Logger
	observer   Observer
	customer   func(r *http.Request) (*core.Session, error)
	technician func(r *http.Request) (string, <-chan struct{}, bool)
	// origins are the WebSocket origins accepted besides the request's
	// own host.
	origins []string
	ping    time.Duration

	done     chan struct{} // closed by Run's end: sockets close
	doneOnce sync.Once
}

// New returns the Hub for o.
func New(o Options) (*Hub, error) {
	if o.Engine == nil {
		return nil, errors.New("signaling: Options.Engine is required")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "signaling")
	h := &Hub{
		engine:     o.Engine,
		relay:      newRelay(o.Engine, log),
		log:        log,
		observer:   o.Observer,
		customer:   o.Customer,
		technician: o.Technician,
		ping:       o.Ping,
		done:       make(chan struct{}),
	}
	if h.ping <= 0 {
		h.ping = DefaultPing
	}
	if u, err := url.Parse(o.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		// Behind a proxy that rewrites Host, the pages' Origin is the
		// public URL's.
		h.origins = []string{u.Host}
	}
	return h, nil
}

// Mount mounts the sockets' routes on mux: the customer's, when
// Options.Customer is set, and the technician's, when Options.Technician
// is.
func (h *Hub) Mount(mux web.Mux) {
	if h.customer != nil {
		mux.Handle("GET /s/{id}/signal", web.Private(socketCSP, http.HandlerFunc(h.handleCustomer)))
	}
	if h.technician != nil {
		mux.Handle("GET /console/sessions/{id}/signal", web.Private(socketCSP, web.Unframed(http.HandlerFunc(h.handleTechnician))))
	}
}

// Run closes the room of every session that stops being active, until
// ctx ends; then it closes every socket, so that the server's shutdown
// does not wait for them.
func (h *Hub) Run(ctx context.Context) error {
	defer h.doneOnce.Do(func() { close(h.done) })
	h.relay.run(ctx)
	return nil
}

// Viewable reports whether s's screen is shown by assistbot itself (the
// builtin provider), rather than by a provider's own viewer.
func (h *Hub) Viewable(s *core.Session) bool { return s.Provider == builtinProvider }

// Shareable reports whether s's screen can be shared through assistbot
// now: an active view-only session of the builtin provider.
func (h *Hub) Shareable(s *core.Session) bool {
	return h.Viewable(s) && s.State == core.StateActive && s.Mode == core.ModeView
}

// SessionParam is the query parameter in which the sockets' URLs repeat
// their session's id. The two sockets of a share must meet on one
// replica, and their paths differ: a proxy in front of several replicas
// routes both by this parameter's value (deploy/compose/Caddyfile).
const SessionParam = "s"

// CustomerSignal returns the URL, from its path on, of the customer's
// socket of session id.
func (h *Hub) CustomerSignal(id string) string {
	return "/s/" + id + "/signal?" + SessionParam + "=" + url.QueryEscape(id)
}

// TechnicianSignal returns the URL, from its path on, of the technician's
// socket of session id.
func (h *Hub) TechnicianSignal(id string) string {
	return "/console/sessions/" + id + "/signal?" + SessionParam + "=" + url.QueryEscape(id)
}

// CustomerMoved disconnects the page of session id's customer, telling it
// that the session goes on on another device, which has the resume window
// to connect; a share it was making stops.
func (h *Hub) CustomerMoved(id string) { h.relay.replace(id, roleCustomer, "") }

// TechnicianChanged disconnects the page of session id's technician,
// telling it that someone else watches now.
func (h *Hub) TechnicianChanged(id string) { h.relay.replace(id, roleTechnician, "") }

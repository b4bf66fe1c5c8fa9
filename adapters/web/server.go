// Package web is assistbot's HTTP face: the customer portal where a
// customer enters or follows a PIN and presses Start, the JSON API for
// operators and scripts, the health endpoints and the Prometheus metrics.
//
// One Server holds one http.ServeMux. Other adapters (Slack, Twilio, the
// console) mount their routes on it with Handle, so every route is served
// by the same middleware: panic recovery and the request histogram, which
// is labelled with the mux pattern and never with the raw path, because
// PINs travel in paths.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/core"
)

// Defaults for the PIN guessing limits, used when Options leave them zero;
// they match the config package's defaults.
const (
	DefaultClientGuessesPerMinute = 10
	DefaultGlobalGuessesPerMinute = 300
)

// readyTimeout bounds a readiness check, so a hung store makes /readyz
// fail rather than hang the probe.
const readyTimeout = 5 * time.Second

// Options configure a Server. Engine and Catalog are required.
type Options struct {
	Engine  *core.Engine
	Catalog *i18n.Catalog
	// PublicURL is the portal's external base URL without a trailing
	// slash ("https://support.example.com"). An https URL makes the
	// customer cookie Secure.
	PublicURL string
	// Tokens are the API's bearer tokens; empty entries are ignored. With
	// none, every API request is refused.
	Tokens []string
	// TrustedProxies are the peers whose X-Forwarded-For header is
	// believed when finding a client's address for rate limiting.
	TrustedProxies []netip.Prefix
	// ClientGuessesPerMinute and GlobalGuessesPerMinute limit wrong PINs
	// from one client and from everyone together; zero selects the
	// defaults above.
	ClientGuessesPerMinute int
	GlobalGuessesPerMinute int
	// Ready reports whether the service can take traffic (a store ping);
	// nil means always ready.
	Ready func(ctx context.Context) error
	// Metrics, when set, counts requests and PIN failures.
	Metrics *Metrics
	// Clock tells the time for the guessing limits and sign-ins; it is
	// the engine's clock (default core.SystemClock).
	Clock core.Clock
	// Gatherer is what /metrics serves. When nil, the registry given to
	// NewMetrics is used if it is a Gatherer; with neither, /metrics is
	// not mounted.
	Gatherer prometheus.Gatherer
	Logger   *slog.Logger // default discards
}

// Server is an http.Handler serving the portal, the API, the health
// endpoints and the metrics, plus whatever other adapters mount on it.
type Server struct {
	mux     *http.ServeMux
	engine  *core.Engine
	clock   core.Clock
	catalog *i18n.Catalog
	log     *slog.Logger
	metrics *Metrics
	ready   func(ctx context.Context) error
	guard   *guard
	proxies []netip.Prefix
	secure  bool
	tokens  [][32]byte // SHA-256 of each API token
	pages   *pages
	// cop refuses cross-site POSTs to the portal: a page elsewhere must
	// not join a session or take one over in a visitor's browser.
	cop *http.CrossOriginProtection
	// share is the console, when one is mounted: the status page of a
	// session being viewed then offers to share the screen with it.
	share *Console
}

var _ http.Handler = (*Server)(nil)

// New returns a Server for o with all of its routes mounted. It panics if
// o.Engine or o.Catalog is nil: that is a wiring mistake, not a runtime
// condition.
func New(o Options) *Server {
	if o.Engine == nil || o.Catalog == nil {
		panic("web: Options.Engine and Options.Catalog are required")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		mux:     http.NewServeMux(),
		engine:  o.Engine,
		clock:   o.Clock,
		catalog: o.Catalog,
		log:     log,
		metrics: o.Metrics,
		ready:   o.Ready,
		proxies: o.TrustedProxies,
		secure:  strings.HasPrefix(strings.ToLower(o.PublicURL), "https://"),
		tokens:  hashTokens(o.Tokens),
		pages:   mustParsePages(),
		cop:     http.NewCrossOriginProtection(),
	}
	if s.clock == nil {
		s.clock = core.SystemClock{}
	}
	if u, err := url.Parse(o.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		// Behind a proxy that rewrites Host, the portal's own pages have
		// the public URL's origin.
		_ = s.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	// The limits read the engine's clock: one notion of time for PIN
	// lifetimes and guessing windows, and tests move both together.
	s.guard = newGuard(guardOptions{
		perClient: cmpOr(o.ClientGuessesPerMinute, DefaultClientGuessesPerMinute),
		global:    cmpOr(o.GlobalGuessesPerMinute, DefaultGlobalGuessesPerMinute),
		now:       s.clock.Now,
		log:       log,
		metrics:   o.Metrics,
	})
	gatherer := o.Gatherer
	if gatherer == nil && o.Metrics != nil {
		gatherer = o.Metrics.gatherer
	}
	s.routes(gatherer)
	return s
}

// routes mounts the server's own routes.
func (s *Server) routes(gatherer prometheus.Gatherer) {
	s.portalRoutes()
	s.apiRoutes()
	s.Handle("GET /healthz", http.HandlerFunc(s.handleHealthz))
	s.Handle("GET /readyz", http.HandlerFunc(s.handleReadyz))
	s.Handle("GET /robots.txt", http.HandlerFunc(handleRobots))
	s.Handle("GET /favicon.ico", http.HandlerFunc(handleFavicon))
	if gatherer != nil {
		s.Handle("GET /metrics", metricsHandler(gatherer, s.log))
	}
}

// Handle mounts h on the server's mux under pattern (Go 1.22+ syntax, as
// http.ServeMux.Handle), for adapters that receive webhooks or serve
// pages of their own. The route gets the same middleware as the server's
// own: panic recovery and the request histogram, labelled with pattern. It
// panics on a pattern that conflicts with a mounted one.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}

// ServeHTTP routes r. It resolves the route first so that the request is
// labelled with its pattern before any handler runs, and so that the API
// can answer unknown routes and wrong methods in JSON.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	route := pattern
	var next http.Handler = s.mux
	if pattern == "" {
		route = routeUnmatched
		if isAPIPath(r.URL.Path) {
			next = s.apiUnmatched(h)
		}
	}
	s.serve(route, next, w, r)
}

// routeUnmatched labels requests that no pattern matched.
const routeUnmatched = "unmatched"

// serve runs h for r, recovering a panic into a 500 and recording the
// request's duration under route.
func (s *Server) serve(route string, h http.Handler, w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "route", route, "err", p)
			if !rec.wrote {
				if isAPIPath(r.URL.Path) {
					writeError(rec, http.StatusInternalServerError, core.CodeInternal, "internal error")
				} else {
					http.Error(rec, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
				}
			}
		}
		s.metrics.observeRequest(route, r.Method, rec.status(), time.Since(start))
	}()
	h.ServeHTTP(rec, r)
}

// handleHealthz reports that the process is up; it checks nothing else,
// so an orchestrator restarts only a process that cannot answer at all.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// handleReadyz reports whether the service can take traffic.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.Warn("not ready", "route", r.Pattern, "err", err)
			msg := "not ready"
			if c := core.ErrorCode(err); c != core.CodeInternal {
				msg = "not ready: " + core.ErrorMessage(err)
			}
			writeError(w, http.StatusServiceUnavailable, core.CodeUnavailable, msg)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// handleRobots keeps crawlers away from everything: every portal page is
// personal and short-lived.
func handleRobots(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("User-agent: *\nDisallow: /\n"))
}

// handleFavicon answers the icon browsers ask every page for with
// nothing, rather than a 404 in every customer's console.
func handleFavicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusNoContent)
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusRecorder) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers mounted with Handle flush through the
// recorder.
func (w *statusRecorder) Flush() {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusRecorder) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Package web is the small HTTP foundation that assistbot's web surfaces
// (the portal, the JSON API, the console, the web chat, the signaling and
// the metrics, each a package of its own) are mounted on.
//
// It holds the Server — one http.ServeMux with panic recovery, request
// observation labelled with the route's pattern, the health endpoints,
// robots.txt and the favicon — and what more than one surface needs: the
// headers of private pages, the JSON error body and core.Code's HTTP
// statuses, the client behind trusted proxies, the per-client Limiter,
// versioned embedded Assets and EventStream. It
// knows no surface, no engine and no metrics library.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core"
)

// readyTimeout bounds a readiness check, so a hung store makes /readyz
// fail rather than hang the probe.
const readyTimeout = 5 * time.Second

// RouteUnmatched is the route that Options.Observe is given for requests
// that no pattern matched.
const RouteUnmatched = "unmatched"

// Options configure a Server. Every field is optional.
type Options struct {
	// Ready reports whether the service can take traffic (a store ping)
	// for /readyz; nil means always ready.
	Ready func(ctx context.Context) error
	// Observe, when set, is told of every request once it is answered:
	// its route (the mux pattern, never the raw path, because PINs travel
	// in paths; RouteUnmatched when none matched), its method as
	// MethodLabel bounds it, its status and how long it took.
	Observe func(route, method string, status int, d time.Duration)
	// Logger receives panics and readiness failures; default discards.
	Logger *slog.Logger
}

// Mux is where a surface mounts its routes: the Server, or anything else
// with its Handle (an http.ServeMux in a test).
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// FallbackMux is a Mux that also lets a surface answer, in its own format,
// the requests under its prefix that the server would otherwise answer
// itself. Surfaces check for it with a type assertion.
type FallbackMux interface {
	Mux
	HandleFallback(prefix string, f Fallback)
}

// Fallback answers a request that the server answers on a surface's
// behalf: status is 404 when no route matched its path, 405 when routes
// match its path under other methods (allow lists them, as the Allow
// header does), and 500 when its handler panicked.
type Fallback func(w http.ResponseWriter, r *http.Request, status int, allow string)

// Server is an http.Handler that serves the routes surfaces mount on it
// with Handle, the health endpoints, robots.txt and the favicon.
type Server struct {
	mux       *http.ServeMux
	log       *slog.Logger
	ready     func(ctx context.Context) error
	observe   func(route, method string, status int, d time.Duration)
	fallbacks []fallback
}

// fallback is a Fallback and the prefix it answers for.
type fallback struct {
	prefix string
	f      Fallback
}

var (
	_ http.Handler = (*Server)(nil)
	_ FallbackMux  = (*Server)(nil)
)

// New returns a Server with the health endpoints, robots.txt and the
// favicon mounted.
func New(o Options) *Server {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{mux: http.NewServeMux(), log: log.With("component", "http"), ready: o.Ready, observe: o.Observe}
	s.Handle("GET /healthz", http.HandlerFunc(s.handleHealthz))
	s.Handle("GET /readyz", http.HandlerFunc(s.handleReadyz))
	s.Handle("GET /robots.txt", http.HandlerFunc(handleRobots))
	s.Handle("GET /favicon.ico", http.HandlerFunc(handleFavicon))
	return s
}

// Handle mounts h under pattern (http.ServeMux's syntax). The route gets
// the server's panic recovery and request observation, labelled with
// pattern. It panics on a pattern that conflicts with a mounted one.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}

// HandleFallback makes f answer the requests under prefix ("/api/v1/",
// and the prefix without its slash) that find no route or whose handler
// panics, in place of the server's plain-text answers.
func (s *Server) HandleFallback(prefix string, f Fallback) {
	s.fallbacks = append(s.fallbacks, fallback{prefix: prefix, f: f})
}

// ServeHTTP routes r. It resolves the route first, so that the request
// is labelled with its pattern before any handler runs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	route := pattern
	var next http.Handler = s.mux
	if pattern == "" {
		route = RouteUnmatched
		if f := s.fallbackOf(r.URL.Path); f != nil {
			next = s.unmatched(h, f)
		}
	}
	s.serve(route, next, w, r)
}

// fallbackOf returns the Fallback of path's prefix, or nil.
func (s *Server) fallbackOf(path string) Fallback {
	for _, fb := range s.fallbacks {
		if path == strings.TrimSuffix(fb.prefix, "/") || strings.HasPrefix(path, fb.prefix) {
			return fb.f
		}
	}
	return nil
}

// unmatched answers a request that no route matched with f: 405 with the
// allowed methods when the path exists under another method, else 404. h
// is the mux's own answer, run only to learn which; a redirect to the
// cleaned path is left to the mux.
func (s *Server) unmatched(h http.Handler, f Fallback) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		switch probe.code {
		case http.StatusMethodNotAllowed:
			f(w, r, http.StatusMethodNotAllowed, probe.header.Get("Allow"))
		case http.StatusNotFound:
			f(w, r, http.StatusNotFound, "")
		default:
			s.mux.ServeHTTP(w, r)
		}
	})
}

// serve runs h for r, recovering a panic into a 500 and observing the
// request under route.
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
				if f := s.fallbackOf(r.URL.Path); f != nil {
					f(rec, r, http.StatusInternalServerError, "")
				} else {
					http.Error(rec, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
				}
			}
		}
		if s.observe != nil {
			s.observe(route, MethodLabel(r.Method), rec.status(), time.Since(start))
		}
	}()
	h.ServeHTTP(rec, r)
}

// MethodLabel returns method when it is a standard one and "OTHER"
// otherwise: a client may send any token as a method, and it must neither
// become a new metric series nor be echoed back.
func MethodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
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
			WriteError(w, http.StatusServiceUnavailable, core.CodeUnavailable, msg)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// handleRobots keeps crawlers away from everything: every page is
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

// WriteHeader records code, the first time, and writes it.
func (w *statusRecorder) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 before the first bytes.
func (w *statusRecorder) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the recorder.
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

// headerProbe is a ResponseWriter that keeps only the status and headers.
type headerProbe struct {
	header http.Header
	code   int
}

// Header returns the headers the probed handler set.
func (p *headerProbe) Header() http.Header { return p.header }

// Write discards the body.
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }

// WriteHeader records the status.
func (p *headerProbe) WriteHeader(code int) { p.code = code }

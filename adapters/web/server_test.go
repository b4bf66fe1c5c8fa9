package web_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

func TestHealth(t *testing.T) {
	tests := []struct {
		name    string
		ready   func(context.Context) error
		path    string
		status  int
		content string
	}{
		{"healthz", nil, "/healthz", http.StatusOK, "ok\n"},
		{"readyz without check", nil, "/readyz", http.StatusOK, "ok\n"},
		{"readyz ready", func(context.Context) error { return nil }, "/readyz", http.StatusOK, "ok\n"},
		{"readyz store down", func(context.Context) error { return errors.New("dial unix /run/db.sock: refused") },
			"/readyz", http.StatusServiceUnavailable, `{"error":{"code":"unavailable","message":"not ready"}}`},
		{"readyz store closed", func(context.Context) error { return core.Errorf(core.CodeUnavailable, "store closed") },
			"/readyz", http.StatusServiceUnavailable, `{"error":{"code":"unavailable","message":"not ready: store closed"}}`},
		{"healthz ignores readiness", func(context.Context) error { return errors.New("down") }, "/healthz", http.StatusOK, "ok\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := web.New(web.Options{Ready: tt.ready})
			resp, body := webtest.Serve(s, webtest.Request{Path: tt.path})
			webtest.WantStatus(t, resp, body, tt.status)
			if strings.TrimSpace(body) != strings.TrimSpace(tt.content) {
				t.Errorf("body = %q, want %q", body, tt.content)
			}
		})
	}
}

func TestRobotsAndFavicon(t *testing.T) {
	s := web.New(web.Options{})
	resp, body := webtest.Serve(s, webtest.Request{Path: "/robots.txt"})
	webtest.WantStatus(t, resp, body, http.StatusOK)
	if body != "User-agent: *\nDisallow: /\n" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("robots.txt: %q %q", resp.Header.Get("Content-Type"), body)
	}
	resp, body = webtest.Serve(s, webtest.Request{Path: "/favicon.ico"})
	webtest.WantStatus(t, resp, body, http.StatusNoContent)
}

// observed is what a server told its Observe hook.
type observed struct {
	mu   sync.Mutex
	seen []string // "route method status"
}

func (o *observed) observe(route, method string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, fmt.Sprintf("%s|%s|%d", route, method, status))
}

func (o *observed) all() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.seen, "\n")
}

// TestObserveRoutes: every request is observed under its mux pattern,
// never its raw path (PINs travel in paths); unmatched requests under
// "unmatched", and methods outside the standard ones as OTHER.
func TestObserveRoutes(t *testing.T) {
	var o observed
	s := web.New(web.Options{Observe: o.observe})
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	s.Handle("GET /m/{pin}", ok)
	s.Handle("POST /join", http.RedirectHandler("/s/x", http.StatusSeeOther))
	s.HandleFallback("/api/v1/", func(w http.ResponseWriter, r *http.Request, status int, allow string) {
		w.WriteHeader(status)
	})
	const pin = "492817"
	for _, req := range []webtest.Request{
		{Path: "/m/" + pin},
		{Method: http.MethodPost, Path: "/join"},
		{Path: "/api/v1/nope"},
		{Method: "BREW", Path: "/m/" + pin},
		{Path: "/?code=" + pin},
	} {
		webtest.Serve(s, req)
	}
	got := o.all()
	webtest.WantContains(t, got,
		"GET /m/{pin}|GET|200",
		"POST /join|POST|303",
		"unmatched|GET|404",
		"unmatched|OTHER|405",
	)
	webtest.WantNotContains(t, got, pin)
}

// TestHandle: routes that surfaces mount get the server's panic recovery
// and observation.
func TestHandle(t *testing.T) {
	var o observed
	var logs coretest.Buffer
	s := web.New(web.Options{Observe: o.observe, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s.Handle("POST /slack/events", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	s.Handle("GET /boom/{x}", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("kaboom")
	}))
	resp, body := webtest.Serve(s, webtest.Request{Method: http.MethodPost, Path: "/slack/events"})
	webtest.WantStatus(t, resp, body, http.StatusAccepted)
	resp, body = webtest.Serve(s, webtest.Request{Path: "/boom/123456"})
	webtest.WantStatus(t, resp, body, http.StatusInternalServerError)
	webtest.WantContains(t, logs.String(), "kaboom", `route="GET /boom/{x}"`)
	webtest.WantContains(t, o.all(), "POST /slack/events|POST|202", "GET /boom/{x}|GET|500")
}

// TestFallback: a surface answers, in its own format, the requests under
// its prefix that find no route, or whose handler panics.
func TestFallback(t *testing.T) {
	s := web.New(web.Options{})
	s.Handle("GET /api/v1/things", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	s.Handle("POST /api/v1/things", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	s.Handle("GET /api/v1/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") }))
	s.HandleFallback("/api/v1/", func(w http.ResponseWriter, r *http.Request, status int, allow string) {
		web.WriteError(w, status, core.CodeNotFound, fmt.Sprintf("fallback %d allow=%q", status, allow))
	})
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodGet, "/api/v1/nothing", 404, `fallback 404 allow=\"\"`},
		{http.MethodGet, "/api/v1", 404, "fallback 404"},
		{http.MethodDelete, "/api/v1/things", 405, `fallback 405 allow=\"GET, HEAD, POST\"`},
		{http.MethodGet, "/api/v1/boom", 500, "fallback 500"},
		{http.MethodGet, "/elsewhere", 404, "404 page not found"},
	} {
		resp, body := webtest.Serve(s, webtest.Request{Method: tc.method, Path: tc.path})
		webtest.WantStatus(t, resp, body, tc.status)
		webtest.WantContains(t, body, tc.body)
	}
}

// TestJSONAnswers: the error body and the status of each code.
func TestJSONAnswers(t *testing.T) {
	for code, status := range map[core.Code]int{
		core.CodeNotFound: 404, core.CodeInvalid: 400, core.CodeInvalidTransition: 409, core.CodeConflict: 409,
		core.CodeExpired: 409, core.CodeUnauthorized: 401, core.CodeRateLimited: 429, core.CodeUnavailable: 503,
		core.CodeInternal: 500, "something else": 500,
	} {
		if got := web.StatusOf(code); got != status {
			t.Errorf("StatusOf(%s) = %d, want %d", code, got, status)
		}
	}
	s := web.New(web.Options{})
	s.Handle("GET /e", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		web.WriteError(w, http.StatusConflict, core.CodeConflict, "taken")
	}))
	resp, body := webtest.Serve(s, webtest.Request{Path: "/e"})
	webtest.WantStatus(t, resp, body, http.StatusConflict)
	if body != `{"error":{"code":"conflict","message":"taken"}}`+"\n" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("answer %q %v", body, resp.Header)
	}
	for d, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", 1500 * time.Millisecond: "2", 20 * time.Second: "20"} {
		if got := web.RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%s) = %s, want %s", d, got, want)
		}
	}
}

package portal

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

func TestRateLimitPerClient(t *testing.T) {
	r := newRig(t, func(o *Options) { o.ClientGuessesPerMinute = 3 })
	s := r.Issue("en")
	guesser := "192.0.2.66:5000"
	guess := func(path string) (*http.Response, string) {
		t.Helper()
		return r.Serve(webtest.Request{Path: path, Remote: guesser})
	}
	for _, path := range []string{"/?code=000001", "/m/000002", "/?code=nonsense"} {
		resp, body := guess(path)
		webtest.WantStatus(t, resp, body, http.StatusNotFound)
	}
	rateText := esc(r.Catalog.T("en", "portal.error.rate"))

	t.Run("limited", func(t *testing.T) {
		for _, path := range []string{"/?code=000003", "/?code=" + s.PIN, "/m/" + s.PIN} {
			resp, body := guess(path)
			webtest.WantStatus(t, resp, body, http.StatusTooManyRequests)
			webtest.WantContains(t, body, rateText, `<form method="post" action="/join">`)
			webtest.WantNotContains(t, body, s.PIN)
			// 3 a minute: the next token is 20 seconds away.
			if ra := resp.Header.Get("Retry-After"); ra != "20" {
				t.Errorf("Retry-After = %q, want 20", ra)
			}
		}
		resp, body := r.Serve(webtest.Request{Method: http.MethodPost, Path: "/join", Form: map[string][]string{"code": {s.PIN}}, Remote: guesser})
		webtest.WantStatus(t, resp, body, http.StatusTooManyRequests)
		if got := r.Session(s.ID).State; got != core.StateIssued {
			t.Errorf("a limited join changed the session to %s", got)
		}
	})

	t.Run("other clients are not limited", func(t *testing.T) {
		resp, body := r.Serve(webtest.Request{Path: "/?code=" + s.PIN, Remote: "198.51.100.7:1234"})
		webtest.WantStatus(t, resp, body, http.StatusOK)
	})

	t.Run("one warning a minute, without the pin", func(t *testing.T) {
		logs := r.Logs.String()
		if n := strings.Count(logs, "too many wrong pins"); n != 1 {
			t.Errorf("%d warnings, want 1:\n%s", n, logs)
		}
		webtest.WantContains(t, logs, "level=WARN", "client=192.0.2.66")
		webtest.WantNotContains(t, logs, s.PIN, "000001", "000003")
	})

	t.Run("recovers", func(t *testing.T) {
		r.Clock.Add(19 * time.Second)
		resp, body := guess("/?code=" + s.PIN)
		webtest.WantStatus(t, resp, body, http.StatusTooManyRequests)
		if ra := resp.Header.Get("Retry-After"); ra != "1" {
			t.Errorf("Retry-After = %q, want 1", ra)
		}
		r.Clock.Add(time.Second)
		resp, body = guess("/?code=" + s.PIN)
		webtest.WantStatus(t, resp, body, http.StatusOK)
		resp, body = guess("/?code=000004")
		webtest.WantStatus(t, resp, body, http.StatusNotFound)
		resp, body = guess("/?code=000005")
		webtest.WantStatus(t, resp, body, http.StatusTooManyRequests)
	})

	t.Run("warns again after a minute", func(t *testing.T) {
		r.Clock.Add(time.Minute)
		for range 4 {
			guess("/?code=000006")
		}
		if n := strings.Count(r.Logs.String(), "too many wrong pins"); n != 2 {
			t.Errorf("%d warnings, want 2", n)
		}
	})
}

func TestRateLimitGlobal(t *testing.T) {
	r := newRig(t, func(o *Options) { o.ClientGuessesPerMinute = 100; o.GlobalGuessesPerMinute = 2 })
	s := r.Issue("en")
	for i := range 2 {
		resp, body := r.Serve(webtest.Request{Path: "/?code=000000", Remote: fmt.Sprintf("198.51.100.%d:1", i+1)})
		webtest.WantStatus(t, resp, body, http.StatusNotFound)
	}
	resp, body := r.Serve(webtest.Request{Path: "/?code=" + s.PIN, Remote: "203.0.113.9:1"})
	webtest.WantStatus(t, resp, body, http.StatusTooManyRequests)
	if ra := resp.Header.Get("Retry-After"); ra != "30" {
		t.Errorf("Retry-After = %q, want 30", ra)
	}
	webtest.WantContains(t, r.Logs.String(), "limit=global")
	r.Clock.Add(30 * time.Second)
	resp, body = r.Serve(webtest.Request{Path: "/?code=" + s.PIN, Remote: "203.0.113.9:1"})
	webtest.WantStatus(t, resp, body, http.StatusOK)
}

// Behind a trusted proxy each forwarded client has its own allowance;
// from an untrusted peer, rotating X-Forwarded-For buys nothing.
func TestRateLimitForwardedFor(t *testing.T) {
	r := newRig(t, func(o *Options) {
		o.ClientGuessesPerMinute = 1
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	tests := []struct {
		name, remote, xff string
		status            int
	}{
		{"first client via proxy", "10.0.0.1:1", "203.0.113.1", http.StatusNotFound},
		{"first client again", "10.0.0.2:1", "203.0.113.1", http.StatusTooManyRequests},
		{"second client via proxy", "10.0.0.1:1", "203.0.113.2", http.StatusNotFound},
		{"direct client", "192.0.2.50:1", "203.0.113.3", http.StatusNotFound},
		{"direct client claiming another address", "192.0.2.50:1", "203.0.113.4", http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := r.Serve(webtest.Request{Path: "/?code=000000", Remote: tt.remote, Header: webtest.Headers("X-Forwarded-For", tt.xff)})
			webtest.WantStatus(t, resp, body, tt.status)
		})
	}
}

// lookups counts the PINs the portal looks up in the engine.
type lookups struct {
	Engine
	mu sync.Mutex
	n  int
}

func (l *lookups) SessionByPIN(ctx context.Context, pin string) (*core.Session, error) {
	l.count()
	return l.Engine.SessionByPIN(ctx, pin)
}

func (l *lookups) Join(ctx context.Context, pin string, device core.Device) (*core.Session, string, error) {
	l.count()
	return l.Engine.Join(ctx, pin, device)
}

func (l *lookups) count() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
}

// TestRateLimitConcurrent sends 30 wrong PINs from one address at once,
// by link and by the form: however they are timed, at most the client's
// ten guesses a minute are looked up, and the others are refused unread
// with 429 and a message.
func TestRateLimitConcurrent(t *testing.T) {
	var seen *lookups
	r := newRig(t, func(o *Options) {
		seen = &lookups{Engine: o.Engine}
		o.Engine = seen
		o.ClientGuessesPerMinute = 10
	})
	rateText := esc(r.Catalog.T("en", "portal.error.rate"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 30 {
		wg.Go(func() {
			req := webtest.Request{Path: fmt.Sprintf("/?code=%06d", i), Remote: "192.0.2.66:5000"}
			if i%2 == 1 {
				req = webtest.Request{Method: http.MethodPost, Path: "/join", Form: url.Values{"code": {fmt.Sprintf("%06d", i)}}, Remote: "192.0.2.66:5001"}
			}
			resp, body := r.Serve(req)
			if resp.StatusCode == http.StatusTooManyRequests && !strings.Contains(body, rateText) {
				t.Errorf("a 429 without the message:\n%s", body)
			}
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if seen.n > 10 {
		t.Errorf("%d PINs were looked up; the limit is 10 a minute", seen.n)
	}
	if statuses[http.StatusNotFound] != seen.n || statuses[http.StatusTooManyRequests] != 30-seen.n {
		t.Errorf("answers %v for %d lookups", statuses, seen.n)
	}
	if got := r.observer.count(reasonRateLimited); got != 30-seen.n {
		t.Errorf("%d refusals reported, want %d", got, 30-seen.n)
	}
}

// TestPINFailuresReported: the observer hears of each refused PIN, by
// reason, and of nothing else.
func TestPINFailuresReported(t *testing.T) {
	r := newRig(t, func(o *Options) { o.ClientGuessesPerMinute = 1 })
	s := r.Issue("en")
	r.get("/m/"+s.PIN, "User-Agent", uaIPhone)
	r.join(s.PIN, "User-Agent", uaIPhone)
	if r.observer.count(reasonUnknown) != 0 || r.observer.count(reasonRateLimited) != 0 {
		t.Errorf("right PINs reported as failures: %v", r.observer.failures)
	}
	r.get("/?code=000000")
	r.get("/?code=000001")
	if got, limited := r.observer.count(reasonUnknown), r.observer.count(reasonRateLimited); got != 1 || limited != 1 {
		t.Errorf("unknown %d, rate limited %d; want 1 and 1", got, limited)
	}
}

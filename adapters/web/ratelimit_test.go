package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

func TestRateLimitPerClient(t *testing.T) {
	r := newRig(t, func(o *Options) { o.ClientGuessesPerMinute = 3 })
	s := r.issue("en")
	guesser := "192.0.2.66:5000"
	guess := func(path string) (*http.Response, string) {
		t.Helper()
		return r.serve(request{path: path, remote: guesser})
	}
	for _, path := range []string{"/?code=000001", "/m/000002", "/?code=nonsense"} {
		resp, body := guess(path)
		wantStatus(t, resp, body, http.StatusNotFound)
	}
	rateText := esc(r.catalog.T("en", "portal.error.rate"))

	t.Run("limited", func(t *testing.T) {
		for _, path := range []string{"/?code=000003", "/?code=" + s.PIN, "/m/" + s.PIN} {
			resp, body := guess(path)
			wantStatus(t, resp, body, http.StatusTooManyRequests)
			wantContains(t, body, rateText, `<form method="post" action="/join">`)
			wantNotContains(t, body, s.PIN)
			// 3 a minute: the next token is 20 seconds away.
			if ra := resp.Header.Get("Retry-After"); ra != "20" {
				t.Errorf("Retry-After = %q, want 20", ra)
			}
		}
		resp, body := r.serve(request{method: http.MethodPost, path: "/join", form: map[string][]string{"code": {s.PIN}}, remote: guesser})
		wantStatus(t, resp, body, http.StatusTooManyRequests)
		if got := r.session(s.ID).State; got != core.StateIssued {
			t.Errorf("a limited join changed the session to %s", got)
		}
	})

	t.Run("other clients are not limited", func(t *testing.T) {
		resp, body := r.serve(request{path: "/?code=" + s.PIN, remote: "198.51.100.7:1234"})
		wantStatus(t, resp, body, http.StatusOK)
	})

	t.Run("one warning a minute, without the pin", func(t *testing.T) {
		logs := r.logs.String()
		if n := strings.Count(logs, "too many wrong pins"); n != 1 {
			t.Errorf("%d warnings, want 1:\n%s", n, logs)
		}
		wantContains(t, logs, "level=WARN", "client=192.0.2.66")
		wantNotContains(t, logs, s.PIN, "000001", "000003")
	})

	t.Run("recovers", func(t *testing.T) {
		r.clock.Add(19 * time.Second)
		resp, body := guess("/?code=" + s.PIN)
		wantStatus(t, resp, body, http.StatusTooManyRequests)
		if ra := resp.Header.Get("Retry-After"); ra != "1" {
			t.Errorf("Retry-After = %q, want 1", ra)
		}
		r.clock.Add(time.Second)
		resp, body = guess("/?code=" + s.PIN)
		wantStatus(t, resp, body, http.StatusOK)
		resp, body = guess("/?code=000004")
		wantStatus(t, resp, body, http.StatusNotFound)
		resp, body = guess("/?code=000005")
		wantStatus(t, resp, body, http.StatusTooManyRequests)
	})

	t.Run("warns again after a minute", func(t *testing.T) {
		r.clock.Add(time.Minute)
		for range 4 {
			guess("/?code=000006")
		}
		if n := strings.Count(r.logs.String(), "too many wrong pins"); n != 2 {
			t.Errorf("%d warnings, want 2", n)
		}
	})
}

func TestRateLimitGlobal(t *testing.T) {
	r := newRig(t, func(o *Options) { o.ClientGuessesPerMinute = 100; o.GlobalGuessesPerMinute = 2 })
	s := r.issue("en")
	for i := range 2 {
		resp, body := r.serve(request{path: "/?code=000000", remote: fmt.Sprintf("198.51.100.%d:1", i+1)})
		wantStatus(t, resp, body, http.StatusNotFound)
	}
	resp, body := r.serve(request{path: "/?code=" + s.PIN, remote: "203.0.113.9:1"})
	wantStatus(t, resp, body, http.StatusTooManyRequests)
	if ra := resp.Header.Get("Retry-After"); ra != "30" {
		t.Errorf("Retry-After = %q, want 30", ra)
	}
	wantContains(t, r.logs.String(), "limit=global")
	r.clock.Add(30 * time.Second)
	resp, body = r.serve(request{path: "/?code=" + s.PIN, remote: "203.0.113.9:1"})
	wantStatus(t, resp, body, http.StatusOK)
}

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
		ok           bool
	}{
		{"direct", "192.0.2.1:1234", nil, "192.0.2.1", true},
		{"untrusted peer's header is ignored", "192.0.2.1:1234", []string{"203.0.113.5"}, "192.0.2.1", true},
		{"trusted proxy without header", "10.0.0.1:1234", nil, "10.0.0.1", true},
		{"trusted proxy", "10.0.0.1:1234", []string{"203.0.113.5"}, "203.0.113.5", true},
		{"chain of trusted proxies", "10.0.0.1:1234", []string{"203.0.113.5, 10.0.0.7"}, "203.0.113.5", true},
		{"spoofed entries on the left", "10.0.0.1:1234", []string{"1.2.3.4, 203.0.113.5"}, "203.0.113.5", true},
		{"several header lines", "10.0.0.1:1234", []string{"1.2.3.4", "203.0.113.5, 10.0.0.9"}, "203.0.113.5", true},
		{"only proxies", "10.0.0.1:1234", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3", true},
		{"garbage stops the walk", "10.0.0.1:1234", []string{"203.0.113.5, bogus, 10.0.0.2"}, "10.0.0.2", true},
		{"entry with a port", "10.0.0.1:1234", []string{"203.0.113.5:999"}, "203.0.113.5", true},
		{"ipv6 through proxy", "[fd00::1]:443", []string{"2001:db8::1"}, "2001:db8::1", true},
		{"mapped ipv4 peer", "[::ffff:192.0.2.1]:80", nil, "192.0.2.1", true},
		{"unparsable peer", "pipe", nil, "invalid IP", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, ok := clientAddr(r, trusted)
			if got.String() != tt.want || ok != tt.ok {
				t.Errorf("clientAddr = %s %t, want %s %t", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestLimitKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := limitKey(netip.MustParseAddr(tt.addr), true, ""); got != tt.want {
				t.Errorf("limitKey = %s, want %s", got, tt.want)
			}
		})
	}
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
			resp, body := r.serve(request{path: "/?code=000000", remote: tt.remote, header: headers("X-Forwarded-For", tt.xff)})
			wantStatus(t, resp, body, tt.status)
		})
	}
}

// The per-client map stays bounded: idle clients are forgotten, and an
// attacker with endless addresses only pushes out the oldest.
func TestGuardBounded(t *testing.T) {
	now := t0
	g := newGuard(guardOptions{perClient: 5, global: 1 << 30, now: func() time.Time { return now }, log: discard()})
	for i := range maxClients + 500 {
		g.fail(fmt.Sprintf("client-%d", i))
	}
	if n := g.size(); n != maxClients {
		t.Errorf("size = %d, want the cap %d", n, maxClients)
	}
	if d := g.wait(fmt.Sprintf("client-%d", maxClients+499), "x"); d != 0 {
		t.Errorf("a client with one failure of five must wait %s", d)
	}
	now = now.Add(time.Minute)
	g.fail("late")
	if n := g.size(); n != 1 {
		t.Errorf("size after a minute = %d, want 1: idle clients must be forgotten", n)
	}
}

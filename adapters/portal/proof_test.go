package portal

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/linkproof"
)

// TestLinkProof pins the proof's form: seven base64url characters, a
// function of the key, the session and the PIN.
func TestLinkProof(t *testing.T) {
	p := linkproof.Make(testLinkKey, "s1", "012345")
	if len(p) != linkproof.Len || strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Fatalf("proof %q", p)
	}
	if linkproof.Make(testLinkKey, "s1", "012345") != p {
		t.Error("the proof changes")
	}
	for name, other := range map[string]string{
		"session": linkproof.Make(testLinkKey, "s2", "012345"),
		"pin":     linkproof.Make(testLinkKey, "s1", "012346"),
		"key":     linkproof.Make([]byte("another key, another key, another"), "s1", "012345"),
		"shifted": linkproof.Make(testLinkKey, "s10", "12345"),
	} {
		if other == p {
			t.Errorf("another %s gives the same proof", name)
		}
	}
}

// TestGlobalLimitSpentLinkStillJoins spends the whole global guessing
// budget of the default configuration (300 wrong codes a minute) from 30
// addresses, ten each, as a distributed guesser would. A code typed now,
// from anywhere, is refused with 429, a Retry-After of N seconds and a
// page that says to open the link instead or to try again in N seconds.
// The customer who follows the link they were sent, desktop or mobile,
// sees their page and joins; that consumes nothing from the limits, and
// a link whose proof is wrong is a guess like a typed code.
func TestGlobalLimitSpentLinkStillJoins(t *testing.T) {
	r := newKeyedRig(t, "", func(o *Options) { o.ClientGuessesPerMinute, o.GlobalGuessesPerMinute = 0, 0 })
	s := r.Issue("en")
	other := r.Issue("en")
	wrong := "000000"
	if s.PIN == wrong || other.PIN == wrong {
		t.Skip("a random pin happened to be 000000")
	}
	for a := range 30 {
		for range DefaultClientGuessesPerMinute {
			resp, body := r.Serve(webtest.Request{Method: http.MethodPost, Path: "/join", Form: url.Values{"code": {wrong}}, Remote: fmt.Sprintf("198.51.100.%d:1", a+1)})
			webtest.WantStatus(t, resp, body, http.StatusNotFound)
		}
	}
	customer := "203.0.113.50:4000"

	t.Run("a typed code is refused and told why", func(t *testing.T) {
		for _, req := range []webtest.Request{
			{Method: http.MethodPost, Path: "/join", Form: url.Values{"code": {s.PIN}}, Remote: customer},
			{Path: "/?code=" + s.PIN, Remote: customer},
			{Path: "/m/" + s.PIN, Remote: customer},
			// A link whose proof is wrong is a guess.
			{Path: "/?code=" + s.PIN + "&k=AAAAAAA", Remote: customer},
			{Path: "/m/" + s.PIN + "/" + linkproof.Make(testLinkKey, other.ID, s.PIN), Remote: customer},
			{Path: path(other.MobileURL)[:len(path(other.MobileURL))-7] + linkproof.Make(testLinkKey, s.ID, s.PIN), Remote: customer},
		} {
			resp, body := r.Serve(req)
			webtest.WantStatus(t, resp, body, http.StatusTooManyRequests)
			n := resp.Header.Get("Retry-After")
			if n == "" || n == "0" {
				t.Fatalf("%s: Retry-After %q", req.Path, n)
			}
			webtest.WantContains(t, body, esc(r.Catalog.T("en", "portal.error.rate_global", "seconds", n)), "open that link", "try again in "+n+" s", `<form method="post" action="/join">`)
			webtest.WantNotContains(t, body, s.PIN)
		}
		if got := r.Session(s.ID).State; got != core.StateIssued {
			t.Fatalf("refused codes moved the session to %s", got)
		}
	})

	t.Run("the sent link still joins", func(t *testing.T) {
		remembered := r.portal.guesses.Len()
		resp, body := r.Serve(webtest.Request{Path: path(s.MobileURL), Remote: customer, Header: webtest.Headers("User-Agent", uaIPhone)})
		webtest.WantStatus(t, resp, body, http.StatusOK)
		resp, body = r.Serve(webtest.Request{Path: path(s.DesktopURL), Remote: customer, Header: webtest.Headers("User-Agent", uaDesktop)})
		webtest.WantStatus(t, resp, body, http.StatusOK)
		proof := linkproof.Make(testLinkKey, s.ID, s.PIN)
		webtest.WantContains(t, body, `<input type="hidden" name="code" value="`+s.PIN+`">`, `<input type="hidden" name="k" value="`+proof+`">`)
		resp, body = r.Serve(webtest.Request{Method: http.MethodPost, Path: "/join", Form: url.Values{"code": {s.PIN}, "k": {proof}}, Remote: customer, Header: webtest.Headers("User-Agent", uaDesktop)})
		webtest.WantStatus(t, resp, body, http.StatusSeeOther)
		if got := r.Session(s.ID); got.State != core.StateWaiting || got.Device != core.DeviceDesktop {
			t.Errorf("after the link's Start: %s on %s", got.State, got.Device)
		}
		if n := r.portal.guesses.Len(); n != remembered {
			t.Errorf("the customer's visit is remembered by the limits: %d clients, was %d", n, remembered)
		}
	})

	t.Run("and took nothing from the budget", func(t *testing.T) {
		// Just enough time for one guess: the link's three requests took
		// none of it, so one typed code goes through, and the next does not.
		r.Clock.Add(time.Minute / DefaultGlobalGuessesPerMinute)
		resp, body := r.Serve(webtest.Request{Path: "/?code=" + other.PIN, Remote: customer})
		webtest.WantStatus(t, resp, body, http.StatusOK)
		resp, body = r.Serve(webtest.Request{Path: "/?code=" + wrong, Remote: customer})
		webtest.WantStatus(t, resp, body, http.StatusNotFound)
		resp, body = r.Serve(webtest.Request{Path: "/?code=" + other.PIN, Remote: customer})
		webtest.WantStatus(t, resp, body, http.StatusTooManyRequests)
	})

	if n := r.observer.count(reasonUnknown); n != 301 {
		t.Errorf("%d unknown codes reported, want 301", n)
	}
}

// TestLinkBypassesClientLimit: a client over its own allowance (a shared
// office address where someone guessed) still gets in by the link it was
// sent, but not by typing.
func TestLinkBypassesClientLimit(t *testing.T) {
	r := newKeyedRig(t, "", func(o *Options) { o.ClientGuessesPerMinute = 1 })
	s := r.Issue("en")
	r.Serve(webtest.Request{Path: "/?code=000000"})
	resp, body := r.Serve(webtest.Request{Path: "/?code=" + s.PIN})
	webtest.WantStatus(t, resp, body, http.StatusTooManyRequests)
	webtest.WantContains(t, body, esc(r.Catalog.T("en", "portal.error.rate")), "open that link instead")
	if ra := resp.Header.Get("Retry-After"); ra != "60" {
		t.Errorf("Retry-After %q, want 60", ra)
	}
	resp, body = r.Serve(webtest.Request{Path: path(s.DesktopURL)})
	webtest.WantStatus(t, resp, body, http.StatusOK)
	resp, body = r.Serve(webtest.Request{Method: http.MethodPost, Path: "/join", Form: url.Values{"code": {s.PIN}, "k": {linkproof.Make(testLinkKey, s.ID, s.PIN)}}})
	webtest.WantStatus(t, resp, body, http.StatusSeeOther)
}

// TestLinkProofRotation: a link made under the key before the last
// rotation still counts as a link.
func TestLinkProofRotation(t *testing.T) {
	newKey := []byte("fedcba9876543210fedcba9876543210")
	r := newKeyedRig(t, "", func(o *Options) {
		o.LinkKeys = fixedKeys{newKey, testLinkKey}
		o.ClientGuessesPerMinute = 1
	})
	s := r.Issue("en") // its links carry the old key's proof
	r.Serve(webtest.Request{Path: "/?code=000000"})
	resp, body := r.Serve(webtest.Request{Path: path(s.MobileURL)})
	webtest.WantStatus(t, resp, body, http.StatusOK)
	resp, body = r.Serve(webtest.Request{Path: "/m/" + s.PIN + "/" + linkproof.Make([]byte("a key that was never the portal's"), s.ID, s.PIN)})
	webtest.WantStatus(t, resp, body, http.StatusTooManyRequests)
}

// TestLinkOfDeadPIN: a link whose PIN is no longer live gets the answer
// of any unknown code, and counts as one: without a live session its
// proof cannot be told from a guess.
func TestLinkOfDeadPIN(t *testing.T) {
	r := newKeyedRig(t, "")
	s := r.Issue("en")
	if _, err := r.Engine.Close(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	_, want := r.get("/?code=000000")
	for _, link := range []string{s.DesktopURL, s.MobileURL} {
		resp, body := r.get(path(link))
		webtest.WantStatus(t, resp, body, http.StatusNotFound)
		if body != want {
			t.Errorf("%s: the page differs from an unknown code's:\n%s", link, body)
		}
	}
	if n := r.observer.count(reasonUnknown); n != 3 {
		t.Errorf("%d unknown codes counted, want 3", n)
	}
}

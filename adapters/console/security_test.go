package console

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// wantConsoleCSP is the console's and the chat's Content-Security-Policy,
// written out so that a source added to it fails the test.
const wantConsoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// cspSourcesAllowed are the only sources a console or chat page may name:
// its own origin, nothing, and data: images.
var cspSourcesAllowed = map[string]bool{"'self'": true, "'none'": true, "data:": true}

// checkConsoleHeaders fails the test unless resp carries the headers that
// keep a console or chat page uncached, unframed, without a Referer, and
// loading nothing from anywhere else.
func checkConsoleHeaders(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Security-Policy": wantConsoleCSP,
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := resp.Header.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s = %q, want %q", what, name, got, want)
		}
	}
	// Whatever the exact words, no directive may name another origin, a
	// scheme that loads from anywhere, or allow inline code.
	directives := map[string][]string{}
	for _, d := range strings.Split(resp.Header.Get("Content-Security-Policy"), ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		directives[f[0]] = f[1:]
		for _, src := range f[1:] {
			if !cspSourcesAllowed[src] {
				t.Errorf("%s: the CSP's %s allows %s", what, f[0], src)
			}
		}
	}
	for name, want := range map[string]string{"default-src": "'self'", "script-src": "'self'", "frame-ancestors": "'none'", "object-src": "'none'", "base-uri": "'none'"} {
		if got := strings.Join(directives[name], " "); got != want {
			t.Errorf("%s: the CSP's %s is %q, want %q", what, name, got, want)
		}
	}
}

var (
	// inlineScriptRE finds script elements; the pages may only have ones
	// with a src on their own origin and JSON data blocks.
	inlineScriptRE = regexp.MustCompile(`<script\b[^>]*>`)
	// loadedRE finds the URLs a page loads (src, and href of a stylesheet).
	loadedRE = regexp.MustCompile(`<(?:(?:script|img|iframe)\b|link rel="stylesheet")[^>]*?\b(?:src|href)="([^"]*)"`)
)

// checkOwnSources fails the test if a page needs more than its CSP allows:
// an inline script or style, or anything loaded from another origin.
func checkOwnSources(t *testing.T, what, page string) {
	t.Helper()
	for _, tag := range inlineScriptRE.FindAllString(page, -1) {
		if !strings.Contains(tag, ` src="/assets/`) && !strings.Contains(tag, `type="application/json"`) {
			t.Errorf("%s: a script the CSP would block: %s", what, tag)
		}
	}
	loaded := loadedRE.FindAllStringSubmatch(page, -1)
	if len(loaded) == 0 {
		t.Errorf("%s: loads no stylesheet or script; the check is out of date", what)
	}
	for _, m := range loaded {
		if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
			t.Errorf("%s: loads %q from elsewhere", what, m[1])
		}
	}
	if strings.Contains(page, " style=") || strings.Contains(page, "<style") {
		t.Errorf("%s: an inline style the CSP would block", what)
	}
}

// TestConsoleSecurityHeaders: every console answer — pages,
// regions, forms, refusals — is sent with a CSP that allows only the
// page's own origin, DENY framing, no Referer and no caching; and the
// pages need nothing that policy blocks.
func TestConsoleSecurityHeaders(t *testing.T) {
	r := newRig(t)
	agent := r.Visitor()
	stranger := r.Visitor()
	conv, _, err := r.Engine.CustomerMessage(ctx, core.Inbound{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: "AAAAAAAAAAAAAAAAAAAAAAAAAA"},
		Text: "hello", Desk: core.Endpoint{Channel: core.ChannelConsole}})
	if err != nil {
		t.Fatal(err)
	}
	s := r.waiting(pat, core.DeviceDesktop)

	// Before signing in: the sign-in page, and refusals.
	resp, page := stranger.Get("/console/login")
	webtest.WantStatus(t, resp, page, http.StatusOK)
	checkConsoleHeaders(t, "GET /console/login", resp)
	checkOwnSources(t, "GET /console/login", page)
	resp, _ = stranger.Get("/console")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /console signed out: %d", resp.StatusCode)
	}
	checkConsoleHeaders(t, "GET /console signed out", resp)
	resp, _ = stranger.Get("/console/queue", csrfHeader, "x")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /console/queue signed out: %d", resp.StatusCode)
	}
	checkConsoleHeaders(t, "GET /console/queue signed out", resp)
	resp, _ = stranger.Post("/console/login", url.Values{"csrf": {stranger.CSRF}, "name": {"alice"}, "password": {"wrong"}})
	checkConsoleHeaders(t, "POST /console/login refused", resp)

	// Signed in: the pages, a region and a form.
	signInAs(agent, "alice", alicePW)
	for _, path := range []string{"/console", "/console/sessions/" + s.ID, "/console/conversations/" + conv.ID} {
		resp, page := agent.Get(path)
		webtest.WantStatus(t, resp, page, http.StatusOK)
		checkConsoleHeaders(t, "GET "+path, resp)
		checkOwnSources(t, "GET "+path, page)
	}
	resp, page = agent.Get("/console/queue", csrfHeader, agent.CSRF)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	checkConsoleHeaders(t, "GET /console/queue", resp)
	resp, _ = agent.Get("/console/sessions/nope")
	webtest.WantStatus(t, resp, "", http.StatusNotFound)
	checkConsoleHeaders(t, "GET /console/sessions/nope", resp)
	resp, out := agent.Fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {"On it."}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reply: %d %v", resp.StatusCode, out)
	}
	checkConsoleHeaders(t, "POST reply", resp)

}

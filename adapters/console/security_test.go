package console

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

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
	webtest.CheckPageHeaders(t, "GET /console/login", resp)
	webtest.CheckOwnSources(t, "GET /console/login", page)
	resp, _ = stranger.Get("/console")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /console signed out: %d", resp.StatusCode)
	}
	webtest.CheckPageHeaders(t, "GET /console signed out", resp)
	resp, _ = stranger.Get("/console/queue", csrfHeader, "x")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /console/queue signed out: %d", resp.StatusCode)
	}
	webtest.CheckPageHeaders(t, "GET /console/queue signed out", resp)
	resp, _ = stranger.Post("/console/login", url.Values{"csrf": {stranger.CSRF}, "name": {"alice"}, "password": {"wrong"}})
	webtest.CheckPageHeaders(t, "POST /console/login refused", resp)

	// Signed in: the pages, a region and a form.
	signInAs(agent, "alice", alicePW)
	for _, path := range []string{"/console", "/console/sessions/" + s.ID, "/console/conversations/" + conv.ID} {
		resp, page := agent.Get(path)
		webtest.WantStatus(t, resp, page, http.StatusOK)
		webtest.CheckPageHeaders(t, "GET "+path, resp)
		webtest.CheckOwnSources(t, "GET "+path, page)
	}
	resp, page = agent.Get("/console/queue", csrfHeader, agent.CSRF)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.CheckPageHeaders(t, "GET /console/queue", resp)
	resp, _ = agent.Get("/console/sessions/nope")
	webtest.WantStatus(t, resp, "", http.StatusNotFound)
	webtest.CheckPageHeaders(t, "GET /console/sessions/nope", resp)
	resp, out := agent.Fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {"On it."}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reply: %d %v", resp.StatusCode, out)
	}
	webtest.CheckPageHeaders(t, "POST reply", resp)

}

package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// TestSharePage: the status page of a session being viewed asks the
// customer to share, with the ICE servers and the socket's path, and
// does not reload itself, but for a browser without script, which cannot
// share and follows the session by reloading. Until they share, it says
// that the technician sees nothing, never that they can see the screen.
func TestSharePage(t *testing.T) {
	r := newShareRig(t)
	resp, page := r.customer.Get("/s/" + r.sess.ID)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.WantContains(t, page, `id="share"`, "Share my screen", "Stop sharing", "Don&#39;t share",
		`data-phase="share">`+esc(r.Catalog.T("en", "share.ready_screen"))+`</p>`, `"signal":"/s/`+r.sess.ID+`/signal"`,
		`"urls":["turn:turn.example.org:3478?transport=udp"]`, `"credential":"short-lived"`, `"iceTransportPolicy":"all"`, "/assets/share.js?v=")
	webtest.WantContains(t, page, `<noscript><meta http-equiv="refresh" content="5"></noscript>`)
	if strings.Count(page, `http-equiv="refresh"`) != 1 {
		t.Error("the share page reloads itself outside <noscript>")
	}
	webtest.WantNotContains(t, page, "can see your screen", "status.js", esc(r.Catalog.T("en", "portal.status.auto_refresh")))
}

// TestNoSharePageForOtherProviders: a provider with its own viewer gets
// no share on the status page; without a share at all, there is no
// moving to another device either.
func TestNoSharePageForOtherProviders(t *testing.T) {
	for name, sh := range map[string]Share{"share": &share{}, "no share": nil} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, func(o *Options) { o.Share = sh })
			s := r.Issue("en")
			customer := r.Visitor()
			customer.Post("/join", url.Values{"code": {s.PIN}})
			if _, err := r.Engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}, core.ModeView); err != nil {
				t.Fatal(err)
			}
			resp, page := customer.Get("/s/" + s.ID)
			webtest.WantStatus(t, resp, page, http.StatusOK)
			webtest.WantContains(t, page, "can see your screen but cannot control it", `http-equiv="refresh"`)
			webtest.WantNotContains(t, page, `id="share"`, "share.js", "handoff")
			if resp, body := customer.Get("/s/" + s.ID + "/handoff"); resp.StatusCode != http.StatusNotFound {
				t.Errorf("handoff part: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// TestRelayOnly hands the share page the relay-only policy.
func TestRelayOnly(t *testing.T) {
	r := newShareRig(t)
	r.portal.relayOnly = true
	_, page := r.customer.Get("/s/" + r.sess.ID)
	webtest.WantContains(t, page, `"iceTransportPolicy":"relay"`)
}

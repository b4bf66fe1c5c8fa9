package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// TestSharePage: the technician's page of a session being viewed has the
// viewer, beside the chat, with the socket's path and the ICE servers.
func TestSharePage(t *testing.T) {
	r := newShareRig(t)
	resp, page := r.alice.Get("/console/sessions/" + r.sess.ID)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.WantContains(t, page, `id="screen"`, `data-signal="/console/sessions/`+r.sess.ID+`/signal"`, `id="screen-video"`,
		`id="session-chat"`, `id="reply"`, "/assets/viewer.js?v=", `data-technician="alice"`, "Full screen",
		"Remote control needs a provider", `"urls":["turn:turn.example.org:3478?transport=udp"]`)
	resp, body := r.Get("/assets/viewer.js")
	webtest.WantStatus(t, resp, body, http.StatusOK)
	webtest.WantContains(t, body, "getStats")
}

// TestNoSharePageForOtherProviders: a provider with its own viewer gets
// no screen on the console, and neither does a console without a screen.
func TestNoSharePageForOtherProviders(t *testing.T) {
	for name, sc := range map[string]Screen{"screen": &screen{}, "no screen": nil} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, func(o *Options) { o.Screen = sc })
			if sc == nil {
				r.Provider.ProviderName = "builtin"
			}
			s := r.Issue("en")
			r.Join(s, core.DeviceDesktop)
			if _, err := r.Engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}, core.ModeView); err != nil {
				t.Fatal(err)
			}
			alice := r.Visitor()
			signInAs(alice, "alice", alicePW)
			resp, page := alice.Get("/console/sessions/" + s.ID)
			webtest.WantStatus(t, resp, page, http.StatusOK)
			webtest.WantNotContains(t, page, `id="screen"`, "viewer.js")
		})
	}
}

// TestWatchHere: a session started elsewhere (here by alice) is watched
// by whoever presses Watch here; the screen is told to disconnect the
// previous watcher, and the log says who took over from whom.
func TestWatchHere(t *testing.T) {
	r := newShareRig(t)
	bob := r.Visitor()
	signInAs(bob, "bob", bobPW)
	resp, page := bob.Get("/console/sessions/" + r.sess.ID)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.WantContains(t, page, `id="watch-here"`, "alice started this session. Press Watch here")
	_, mine := r.alice.Get("/console/sessions/" + r.sess.ID)
	webtest.WantNotContains(t, mine, `id="watch-here"`)

	resp, out := bob.Fetch("/console/sessions/"+r.sess.ID+"/watch", url.Values{})
	if resp.StatusCode != http.StatusOK || out["session"] != r.sess.ID {
		t.Fatalf("watch here: %d %v", resp.StatusCode, out)
	}
	if s := r.Session(r.sess.ID); s.Technician != "bob" {
		t.Errorf("the technician is %q", s.Technician)
	}
	if got := r.screen.changedIDs(); !slices.Equal(got, []string{r.sess.ID}) {
		t.Errorf("the screen was told of changes %v", got)
	}
	evs, _ := r.Engine.Events(ctx, r.sess.ID)
	if !slices.ContainsFunc(evs, func(e core.Event) bool { return e.Action == core.ActionWatch && e.Detail == "instead of alice" }) {
		t.Errorf("the log lacks the watch: %v", evs)
	}
	// Watching what one watches already changes nobody's page.
	bob.Fetch("/console/sessions/"+r.sess.ID+"/watch", url.Values{})
	if got := r.screen.changedIDs(); len(got) != 1 {
		t.Errorf("the screen was told of changes %v", got)
	}

	// Without the CSRF token nothing changes.
	bob.CSRF = ""
	if resp, _ := bob.Fetch("/console/sessions/"+r.sess.ID+"/watch", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("watch without a token: %d", resp.StatusCode)
	}
}

// TestSignedIn is how the technician's signaling socket knows its agent:
// the sign-in of the request's cookie, and a channel that closes when the
// agent signs out.
func TestSignedIn(t *testing.T) {
	r := newRig(t)
	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	req := httptest.NewRequest(http.MethodGet, "/console/sessions/x/signal", nil)
	req.AddCookie(&http.Cookie{Name: consoleCookie, Value: alice.Cookie("/console", consoleCookie)})
	agent, signedOut, ok := r.console.SignedIn(req)
	if !ok || agent != "alice" {
		t.Fatalf("SignedIn = %q %v", agent, ok)
	}
	if _, _, ok := r.console.SignedIn(httptest.NewRequest(http.MethodGet, "/", nil)); ok {
		t.Error("a request without a cookie is signed in")
	}
	alice.Post("/console/logout", url.Values{"csrf": {alice.CSRF}})
	select {
	case <-signedOut:
	default:
		t.Error("signing out did not close the channel")
	}
	if _, _, ok := r.console.SignedIn(req); ok {
		t.Error("the cookie still signs in after the sign-out")
	}
}

// TestChatSnippet: the queue page offers the line that puts the web chat
// on a website when the chat is served, and nothing otherwise.
func TestChatSnippet(t *testing.T) {
	const snippet = `<script src="https://support.example.com/chat/widget.js" async></script>`
	r := newRig(t, func(o *Options) { o.ChatSnippet = snippet })
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	_, home := c.Get("/console")
	webtest.WantContains(t, home, esc(snippet))

	r = newRig(t)
	c = r.Visitor()
	signInAs(c, "alice", alicePW)
	_, home = c.Get("/console")
	webtest.WantNotContains(t, home, "widget.js")
}

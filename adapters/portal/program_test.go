package portal

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/linkproof"
)

// meshInvite stands for MeshCentral's page for a code.
const meshInvite = "https://mesh.example.com/invite"

const uaAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"

// TestProgramLanding: for a session whose provider connects the customer
// with a program from its own page (MeshCentral), each link leads to a
// page at an address without the PIN (so it keeps working once the
// program connected), which explains, in the customer's language, what
// will happen on their device and leads to the provider's page; it has
// no Start, and opening it changes nothing.
func TestProgramLanding(t *testing.T) {
	r := newKeyedRig(t, meshInvite)
	s := r.Issue("en")
	proof := linkproof.Make(testLinkKey, s.ID, s.PIN)
	page := "/s/" + s.ID + "?k=" + proof
	invite := esc(s.CustomerURL)
	tests := []struct {
		name, link, ua string
		want, not      []string
	}{
		{"desktop link on a computer", s.DesktopURL, uaDesktop,
			[]string{"portal.program.explain", "portal.program.get", "portal.program.next"},
			[]string{"portal.program.android", "portal.program.ios"}},
		{"mobile link on an iPhone", s.MobileURL, uaIPhone,
			[]string{"portal.program.ios"},
			[]string{"portal.program.explain", "portal.program.android", "portal.program.get"}},
		{"mobile link on Android", s.MobileURL, uaAndroid,
			[]string{"portal.program.android", "portal.program.android_get"},
			[]string{"portal.program.explain", "portal.program.ios"}},
		{"mobile link on a computer", s.MobileURL, uaDesktop,
			[]string{"portal.program.explain", "portal.program.get"},
			[]string{"portal.program.ios"}},
		{"desktop link, browser says nothing", s.DesktopURL, "",
			[]string{"portal.program.explain", "portal.program.android", "portal.program.ios"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := r.get(path(tt.link), "User-Agent", tt.ua)
			webtest.WantStatus(t, resp, body, http.StatusSeeOther)
			if loc := resp.Header.Get("Location"); loc != page {
				t.Fatalf("Location %q, want %q", loc, page)
			}
			resp, body = r.get(page, "User-Agent", tt.ua)
			webtest.WantStatus(t, resp, body, http.StatusOK)
			webtest.WantContains(t, body, esc(r.Catalog.T("en", "portal.landing.heading")), esc(r.Catalog.T("en", "portal.landing.intro")),
				esc(r.Catalog.T("en", "portal.landing.code", "pin", s.PIN)), `data-phase="invited"`,
				`"phase":"invited"`, `"state":"/s/`+s.ID+`/state?k=`+proof+`"`, "/assets/status.js?v=")
			for _, key := range tt.want {
				webtest.WantContains(t, body, esc(r.Catalog.T("en", key)))
			}
			for _, key := range tt.not {
				webtest.WantNotContains(t, body, esc(r.Catalog.T("en", key)))
			}
			if strings.Contains(body, "program-get") || strings.Contains(body, "program-android-get") {
				webtest.WantContains(t, body, `href="`+invite+`" target="_blank" rel="noopener"`)
			}
			webtest.WantNotContains(t, body, `action="/join"`, "can see your screen", "can control", "is connected")
		})
	}
	if got := r.Session(s.ID); got.State != core.StateIssued {
		t.Errorf("opening the pages moved the session to %s", got.State)
	}
	if n := r.observer.count(reasonUnknown) + r.observer.count(reasonRateLimited); n != 0 {
		t.Errorf("%d refusals", n)
	}

	t.Run("a typed code leads there too, and joins nothing", func(t *testing.T) {
		resp, body := r.join(s.PIN)
		webtest.WantStatus(t, resp, body, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != page {
			t.Errorf("Location %q, want %q", loc, page)
		}
		if c := resp.Header.Get("Set-Cookie"); c != "" {
			t.Errorf("a cookie: %s", c)
		}
		resp, body = r.get("/?code=" + s.PIN)
		webtest.WantStatus(t, resp, body, http.StatusSeeOther)
		if got := r.Session(s.ID); got.State != core.StateIssued || got.CustomerKey != "" {
			t.Errorf("a typed code moved the session to %s", got.State)
		}
	})

	t.Run("only with the proof", func(t *testing.T) {
		_, unknown := r.get("/?code=000000")
		for _, p := range []string{"/s/" + s.ID, "/s/" + s.ID + "?k=AAAAAAA", "/s/" + s.ID + "?k=" + linkproof.Make(testLinkKey, s.ID, "000000"), "/s/" + s.ID + "/state?k=AAAAAAA"} {
			resp, body := r.get(p)
			webtest.WantStatus(t, resp, body, http.StatusNotFound)
			if !strings.HasSuffix(strings.SplitN(p, "?", 2)[0], "/state") && body != unknown {
				t.Errorf("%s: the page differs from an unknown code's", p)
			}
		}
	})
}

// phaseOf asks the page's state endpoint for its phase.
func phaseOf(t *testing.T, r *rig, statePath string, header ...string) string {
	t.Helper()
	resp, body := r.get(statePath, header...)
	webtest.WantStatus(t, resp, body, http.StatusOK)
	var out struct{ Phase string }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("%s: %v in %s", statePath, err, body)
	}
	return out.Phase
}

// TestProgramPageFollows walks a MeshCentral-like session from invited to
// ended: at each step the page at the link's address, and the phase its
// script follows, say what is true then — and never that the technician
// sees or controls anything before they started.
func TestProgramPageFollows(t *testing.T) {
	r := newKeyedRig(t, meshInvite)
	s := r.Issue("en")
	proof := linkproof.Make(testLinkKey, s.ID, s.PIN)
	page, state := "/s/"+s.ID+"?k="+proof, "/s/"+s.ID+"/state?k="+proof
	tech := core.Actor{Kind: core.ActorTechnician, Name: "tom"}
	steps := []struct {
		name, phase, key string
		act              func() error
		follows          bool
	}{
		{"invited", phaseInvited, "portal.landing.intro", func() error { return nil }, true},
		{"the program connected", phaseWaiting, "portal.status.waiting_program", func() error {
			_, err := r.Engine.Report(ctx, core.StatusReport{SessionID: s.ID, Action: core.ActionJoin, Device: core.DeviceDesktop})
			return err
		}, true},
		{"remote control started", phaseControl, "portal.status.active_control", func() error {
			_, err := r.Engine.Start(ctx, s.ID, tech, core.ModeControl)
			return err
		}, true},
		{"ended", phaseEnded, "portal.status.ended", func() error { _, err := r.Engine.End(ctx, s.ID, tech); return err }, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.act(); err != nil {
				t.Fatal(err)
			}
			if got := phaseOf(t, r, state); got != st.phase {
				t.Errorf("phase %q, want %q", got, st.phase)
			}
			resp, body := r.get(page, "User-Agent", uaDesktop)
			webtest.WantStatus(t, resp, body, http.StatusOK)
			webtest.WantContains(t, body, `data-phase="`+st.phase+`">`+esc(r.Catalog.T("en", st.key))+`</p>`)
			if st.phase != phaseInvited {
				webtest.WantNotContains(t, body, "program-get", esc(r.Catalog.T("en", "portal.program.explain")))
			}
			if has := strings.Contains(body, "status.js"); has != st.follows {
				t.Errorf("follows the session: %t, want %t", has, st.follows)
			}
			if has := strings.Contains(body, `http-equiv="refresh"`); has != st.follows {
				t.Errorf("refreshes without script: %t, want %t", has, st.follows)
			}
			webtest.WantNotContains(t, body, `action="/join"`)
		})
	}

	t.Run("a new code ends the old link", func(t *testing.T) {
		s2 := r.Issue("en")
		old := "/s/" + s2.ID + "?k=" + linkproof.Make(testLinkKey, s2.ID, s2.PIN)
		if resp, body := r.get(old); resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if _, err := r.Engine.Regenerate(ctx, s2.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}); err != nil {
			t.Fatal(err)
		}
		resp, body := r.get(old)
		webtest.WantStatus(t, resp, body, http.StatusNotFound)
	})
}

// TestNoProofAccessWithoutCustomerURL: a session that the customer joins
// on the portal is seen only in the browser that joined, never by the
// link's proof.
func TestNoProofAccessWithoutCustomerURL(t *testing.T) {
	r := newKeyedRig(t, "")
	s := r.Issue("en")
	proof := linkproof.Make(testLinkKey, s.ID, s.PIN)
	for _, p := range []string{"/s/" + s.ID + "?k=" + proof, "/s/" + s.ID + "/state?k=" + proof} {
		if resp, body := r.get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
}

// TestStatusPhases: the status page of a joined session, for a provider
// that can only watch what the customer shares (builtin) and one with its
// own agent, says at each step only what is true.
func TestStatusPhases(t *testing.T) {
	tech := core.Actor{Kind: core.ActorTechnician, Name: "tom"}
	type step struct {
		name, phase, key string
		act              func(r *rig, id string) error
	}
	start := func(m core.Mode) func(r *rig, id string) error {
		return func(r *rig, id string) error { _, err := r.Engine.Start(ctx, id, tech, m); return err }
	}
	end := func(r *rig, id string) error { _, err := r.Engine.End(ctx, id, tech); return err }
	for _, tc := range []struct {
		name    string
		builtin bool
		device  string
		steps   []step
	}{
		{"builtin on a computer", true, uaDesktop, []step{
			{"waiting", phaseWaiting, "portal.status.waiting", nil},
			{"started view only", phaseShare, "share.ready_screen", start(core.ModeView)},
			{"ended", phaseEnded, "portal.status.ended", end},
		}},
		{"builtin on a phone", true, uaIPhone, []step{
			{"waiting", phaseWaiting, "portal.status.waiting", nil},
			{"started view only", phaseShare, "share.ready_camera", start(core.ModeView)},
			{"ended", phaseEnded, "portal.status.ended", end},
		}},
		{"agent provider, control", false, uaDesktop, []step{
			{"waiting", phaseWaiting, "portal.status.waiting", nil},
			{"started remote control", phaseControl, "portal.status.active_control", start(core.ModeControl)},
			{"ended", phaseEnded, "portal.status.ended", end},
		}},
		{"agent provider, view", false, uaDesktop, []step{
			{"waiting", phaseWaiting, "portal.status.waiting", nil},
			{"started view only", phaseView, "portal.status.active_view", start(core.ModeView)},
			{"ended", phaseEnded, "portal.status.ended", end},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *rig
			if tc.builtin {
				r = newRig(t, func(o *Options) { o.Share = &share{} })
				r.Provider.ProviderName, r.Provider.ModeList = "builtin", []core.Mode{core.ModeView}
			} else {
				r = newRig(t, func(o *Options) { o.Share = &share{} })
			}
			s := r.Issue("en")
			customer := r.Visitor()
			if resp, body := customer.Post("/join", url.Values{"code": {s.PIN}}, "User-Agent", tc.device); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("join: %d %s", resp.StatusCode, body)
			}
			for _, st := range tc.steps {
				if st.act != nil {
					if err := st.act(r, s.ID); err != nil {
						t.Fatal(err)
					}
				}
				resp, body := customer.Get("/s/"+s.ID, "User-Agent", tc.device)
				webtest.WantStatus(t, resp, body, http.StatusOK)
				webtest.WantContains(t, body, `data-phase="`+st.phase+`">`+esc(r.Catalog.T("en", st.key))+`</p>`)
				webtest.WantNotContains(t, body, "is connected", "can connect to this computer")
				if st.phase != phaseShare && st.phase != phaseView {
					webtest.WantNotContains(t, body, "can see your screen")
				}
				if st.phase == phaseEnded {
					webtest.WantNotContains(t, body, `id="share"`, "Share my", "status.js")
				}
				resp, body = customer.Get("/s/" + s.ID + "/state")
				webtest.WantStatus(t, resp, body, http.StatusOK)
				webtest.WantContains(t, body, `{"phase":"`+st.phase+`"}`)
			}
			// Another browser learns nothing.
			if resp, body := r.Visitor().Get("/s/" + s.ID + "/state"); resp.StatusCode != http.StatusNotFound {
				t.Errorf("a stranger's state: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// TestLandingNext: the landing page says what Start will do with the
// provider at hand: share a screen or a camera (builtin), or let the
// technician connect once the customer accepts.
func TestLandingNext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		modes   []core.Mode
		ua, key string
	}{
		{"builtin, computer", []core.Mode{core.ModeView}, uaDesktop, "portal.landing.next_share"},
		{"builtin, phone", []core.Mode{core.ModeView}, uaIPhone, "portal.landing.next_share_mobile"},
		{"agent, computer", nil, uaDesktop, "portal.landing.next_desktop"},
		{"agent, phone", nil, uaIPhone, "portal.landing.next_mobile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.Provider.ModeList = tc.modes
			s := r.Issue("ko")
			resp, body := r.get("/?code="+s.PIN, "User-Agent", tc.ua, "Accept-Language", "ko")
			webtest.WantStatus(t, resp, body, http.StatusOK)
			webtest.WantContains(t, body, esc(r.Catalog.T("ko", tc.key)))
			if tc.modes != nil {
				webtest.WantNotContains(t, body, esc(r.Catalog.T("ko", "portal.landing.next_desktop")))
			}
		})
	}
}

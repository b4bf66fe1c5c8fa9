package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// starter is a provider that hands the technician a link of its own when
// they start, as MeshCentral does, or refuses as startErr says.
type starter struct {
	*coretest.Provider
	mu       sync.Mutex
	startErr error
}

var _ core.Starter = (*starter)(nil)

func (p *starter) Start(ctx context.Context, s *core.Session, mode core.Mode, technician string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.startErr != nil {
		return "", p.startErr
	}
	return "https://mesh.example.com/share?c=" + string(mode) + "-" + s.ID + "-secret", nil
}

func (p *starter) refuse(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.startErr = err
}

// meshRig is a rig whose provider gives technicians their own link, with
// the console told so (TechnicianLinks).
type meshRig struct {
	*rig
	provider *starter
}

func newMeshRig(t *testing.T) *meshRig {
	t.Helper()
	w := webtest.New(t, webtest.Options{})
	p := &starter{Provider: w.Provider}
	p.ProviderName = "meshcentral"
	w.Engine = core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}),
		Store: w.Store, Provider: p, Clock: w.Clock, Logger: w.Logger,
		Channels: []core.Channel{w.SMS, &coretest.Channel{ChannelName: core.ChannelWeb}},
	})
	return &meshRig{rig: newRigOn(t, w, nil, func(o *Options) { o.TechnicianLinks = true }), provider: p}
}

var techLinkRE = regexp.MustCompile(`https://mesh\.example\.com/share\?c=[^"<]+`)

// TestTechnicianLink: with a provider that gives the technician a link
// (MeshCentral), both start buttons open it, in a tab the page opens from
// the click (data-opens); the answer carries it for the technician who
// started, and their session page, queue and dialog show it as "Open
// remote control". No other agent ever sees it, and it is never logged.
func TestTechnicianLink(t *testing.T) {
	r := newMeshRig(t)
	alice, bob := r.Visitor(), r.Visitor()
	signInAs(alice, "alice", alicePW)
	signInAs(bob, "bob", bobPW)
	s := r.waiting(pat, core.DeviceDesktop)

	_, page := alice.Get("/console")
	row := row(t, page, s.ID)
	webtest.WantContains(t, row, `value="remote.start_control" class="btn primary" data-opens>Start (remote control)</button>`,
		`value="remote.start_view" class="btn default" data-opens>Start (view only)</button>`)
	webtest.WantNotContains(t, row, "This provider offers view only")

	resp, out := alice.Fetch("/console/sessions/"+s.ID+"/act", url.Values{"action": {"remote.start_control"}, "return": {"/console"}})
	want := "https://mesh.example.com/share?c=control-" + s.ID + "-secret"
	if resp.StatusCode != http.StatusOK || out["open"] != want {
		t.Fatalf("start: %d %v", resp.StatusCode, out)
	}
	if got := r.Session(s.ID); got.State != core.StateActive || got.Technician != "alice" || got.TechnicianURL != want {
		t.Fatalf("after start: %+v", got)
	}

	for _, path := range []string{"/console/sessions/" + s.ID, "/console/sessions/" + s.ID + "/card?dialog=1", "/console"} {
		_, mine := alice.Get(path, csrfHeader, alice.CSRF)
		webtest.WantContains(t, mine, `href="`+esc(want)+`"`, "Open remote control", `target="_blank" rel="noopener noreferrer"`)
		_, theirs := bob.Get(path, csrfHeader, bob.CSRF)
		if techLinkRE.MatchString(theirs) || strings.Contains(theirs, "Open remote control") {
			t.Errorf("bob sees the technician's link on %s", path)
		}
	}
	// Taking the session over is for screens the console shows: it
	// would hand bob the link.
	resp, out = bob.Fetch("/console/sessions/"+s.ID+"/watch", url.Values{})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(out["error"].(string), "only the technician who started it") {
		t.Errorf("bob takes over: %d %v", resp.StatusCode, out)
	}
	if got := r.Session(s.ID).Technician; got != "alice" {
		t.Errorf("the technician is now %s", got)
	}
	if techLinkRE.MatchString(r.Logs.String()) {
		t.Errorf("the link reached the log:\n%s", r.Logs.String())
	}
}

// TestTechnicianLinkWithoutScript: the start form without a script
// leads to the session's page, which links to the customer's screen.
func TestTechnicianLinkWithoutScript(t *testing.T) {
	r := newMeshRig(t)
	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	s := r.waiting(pat, core.DeviceDesktop)
	resp, body := alice.Post("/console/sessions/"+s.ID+"/act", url.Values{"csrf": {alice.CSRF}, "action": {"remote.start_view"}, "return": {"/console"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sessions/"+s.ID {
		t.Fatalf("start without a script: %d to %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, page := alice.Get(resp.Header.Get("Location"))
	webtest.WantContains(t, page, `id="technician-link" href="https://mesh.example.com/share?c=view-`+s.ID+`-secret"`,
		"Open the customer&#39;s screen (view only)")
}

// TestTechnicianLinkNotYet: a start the provider cannot make yet is
// refused with the provider's own words, not as an outage, with the wait
// it asked for; the session still waits and no tab is left open.
func TestTechnicianLinkNotYet(t *testing.T) {
	r := newMeshRig(t)
	r.provider.refuse(&core.Error{Code: core.CodeUnavailable, Retry: 2 * time.Second,
		Message: "the customer's device is still connecting; try again in a moment"})
	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	s := r.waiting(pat, core.DeviceDesktop)
	resp, out := alice.Fetch("/console/sessions/"+s.ID+"/act", url.Values{"action": {"remote.start_control"}})
	if resp.StatusCode != http.StatusServiceUnavailable || out["error"] != "The session did not start: the customer's device is still connecting; try again in a moment" {
		t.Errorf("refused start: %d %v", resp.StatusCode, out)
	}
	if _, ok := out["open"]; ok {
		t.Error("a refused start answers a link")
	}
	if got := resp.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q", got)
	}
	if got := r.Session(s.ID).State; got != core.StateWaiting {
		t.Errorf("the session is %s", got)
	}
	r.provider.refuse(nil)
	if resp, out := alice.Fetch("/console/sessions/"+s.ID+"/act", url.Values{"action": {"remote.start_control"}}); resp.StatusCode != http.StatusOK || out["open"] == nil {
		t.Errorf("the second try: %d %v", resp.StatusCode, out)
	}
}

// TestNoTechnicianLink: with a provider that gives no link (builtin,
// LogMeIn), the start buttons open no tab.
func TestNoTechnicianLink(t *testing.T) {
	r := newRig(t)
	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	s := r.waiting(pat, core.DeviceDesktop)
	_, page := alice.Get("/console")
	webtest.WantNotContains(t, row(t, page, s.ID), "data-opens")
	resp, out := alice.Fetch("/console/sessions/"+s.ID+"/act", url.Values{"action": {"remote.start_view"}})
	if _, ok := out["open"]; resp.StatusCode != http.StatusOK || ok {
		t.Errorf("start: %d %v", resp.StatusCode, out)
	}
}

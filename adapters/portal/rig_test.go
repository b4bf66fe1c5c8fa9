package portal

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/linkproof"
)

var (
	ctx       = context.Background()
	t0        = webtest.T0
	pat       = webtest.Pat
	uaDesktop = webtest.UADesktop
	uaIPhone  = webtest.UAIPhone
	esc       = webtest.Esc
)

// The engine is what the portal needs.
var _ Engine = (*core.Engine)(nil)

// rig is a webtest rig with the portal mounted on its server.
type rig struct {
	*webtest.Rig
	portal   *Portal
	observer *observer
}

// observer counts the PIN failures the portal reports.
type observer struct {
	mu       sync.Mutex
	failures map[string]int
}

func (o *observer) PINFailure(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failures[reason]++
}

func (o *observer) count(reason string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failures[reason]
}

// newRig returns a rig whose guessing limits are out of the way; edit
// adjusts the portal's options before New.
func newRig(t testing.TB, edit ...func(*Options)) *rig {
	t.Helper()
	r := &rig{Rig: webtest.New(t, webtest.Options{}), observer: &observer{failures: map[string]int{}}}
	o := Options{
		Engine:                 r.Engine,
		Catalog:                r.Catalog,
		PublicURL:              "http://support.test",
		ClientGuessesPerMinute: 1000,
		GlobalGuessesPerMinute: 100000,
		Clock:                  r.Clock,
		Observer:               r.observer,
		Logger:                 r.Logger,
	}
	for _, e := range edit {
		e(&o)
	}
	var err error
	if r.portal, err = New(o); err != nil {
		t.Fatal(err)
	}
	r.portal.Mount(r.Server)
	return r
}

// get serves a GET of path with header pairs.
func (r *rig) get(path string, header ...string) (*http.Response, string) {
	r.T.Helper()
	return r.Get(path, header...)
}

// join posts the join form with code.
func (r *rig) join(code string, header ...string) (*http.Response, string) {
	r.T.Helper()
	return r.Serve(webtest.Request{Method: http.MethodPost, Path: "/join", Form: url.Values{"code": {code}}, Header: webtest.Headers(header...)})
}

// share is the screen share the portal offers in the share rig: it
// shares what the signaling would, and records the customers who moved.
type share struct {
	mu    sync.Mutex
	moved []string
}

func (s *share) Shareable(sess *core.Session) bool {
	return sess.Provider == "builtin" && sess.State == core.StateActive && sess.Mode == core.ModeView
}

func (s *share) CustomerSignal(id string) string { return "/s/" + id + "/signal" }

func (s *share) CustomerMoved(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.moved = append(s.moved, id)
}

func (s *share) movedIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.moved...)
}

// shareRig is a rig whose provider is the builtin one (view only), with
// a session the customer has joined from their own browser and alice has
// started view only.
type shareRig struct {
	*rig
	share    *share
	sess     *core.Session
	customer *webtest.Visitor
}

func newShareRig(t *testing.T) *shareRig {
	t.Helper()
	sh := &share{}
	r := newRig(t, func(o *Options) {
		o.Share = sh
		o.ICEServers = func() []ICEServer {
			return []ICEServer{{URLs: []string{"turn:turn.example.org:3478?transport=udp"}, Username: "1700000000:assistbot", Credential: "short-lived"}}
		}
	})
	// The handoff links are absolute on the public URL, here the test
	// server's, which exists only once the rig does.
	r.portal.publicURL = r.URL()
	r.Provider.ProviderName, r.Provider.ModeList = "builtin", []core.Mode{core.ModeView}
	sr := &shareRig{rig: r, share: sh, customer: r.Visitor()}
	s := r.Issue("en")
	if resp, body := sr.customer.Post("/join", url.Values{"code": {s.PIN}}, "User-Agent", uaDesktop); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d\n%s", resp.StatusCode, body)
	}
	var err error
	if sr.sess, err = r.Engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}, core.ModeView); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return sr
}

// testLinkKey is the link-proof key of keyed rigs.
var testLinkKey = []byte("0123456789abcdef0123456789abcdef")

// fixedKeys is a key store whose every key is current, after previous.
type fixedKeys struct{ current, previous []byte }

func (k fixedKeys) Key(context.Context, string, int) ([]byte, []byte, error) {
	return k.current, k.previous, nil
}

func (k fixedKeys) RotateKey(context.Context, string, int) error {
	return errors.New("fixed keys do not rotate")
}

// newKeyedRig is a rig whose provider issues links with their proof, as
// the builtin provider does with the store's key, and whose portal
// checks them; customerURL, when set, makes the provider one that
// connects the customer on its own page (as MeshCentral's), at
// customerURL+"?c="+PIN. edit adjusts the portal's options.
func newKeyedRig(t testing.TB, customerURL string, edit ...func(*Options)) *rig {
	t.Helper()
	r := newRig(t, append([]func(*Options){func(o *Options) { o.LinkKeys = fixedKeys{testLinkKey, nil} }}, edit...)...)
	r.Provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		pin, err := core.RandomPINs{}.PIN(6)
		if err != nil {
			return core.Ticket{}, err
		}
		proof := linkproof.Make(testLinkKey, req.SessionID, pin)
		t := core.Ticket{
			PIN:        pin,
			DesktopURL: r.URL() + "/?code=" + pin + "&k=" + proof,
			MobileURL:  r.URL() + "/m/" + pin + "/" + proof,
			ManualURL:  r.URL() + "/",
		}
		if customerURL != "" {
			t.CustomerURL = customerURL + "?c=" + pin
		}
		return t, nil
	}
	return r
}

// path returns link's path and query, to serve it on the rig.
func path(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		panic(err)
	}
	return u.RequestURI()
}

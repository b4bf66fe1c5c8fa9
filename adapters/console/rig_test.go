package console

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

var (
	ctx       = context.Background()
	pat       = webtest.Pat
	uaDesktop = webtest.UADesktop
	uaIPhone  = webtest.UAIPhone
	esc       = webtest.Esc
)

const csrfHeader = web.CSRFHeader

// The engine and the bot are what the console needs.
var (
	_ Engine = (*core.Engine)(nil)
	_ Bot    = (*remote.Bot)(nil)
)

// The console agents of the tests, with bcrypt hashes at the lowest cost.
const (
	alicePW = "alice-password-1"
	bobPW   = "bob-password-22"
)

func bcryptHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// rig is a webtest rig with the console mounted, the engine's outbox
// running and the console's Run running.
type rig struct {
	*webtest.Rig
	bot     *remote.Bot
	console *Console
}

// newRig mounts the console on a new rig; edit adjusts the console's
// options.
func newRig(t testing.TB, edit ...func(*Options)) *rig {
	t.Helper()
	return newRigWith(t, nil, edit...)
}

// newRigWith is newRig with more channels for the engine, which takes
// them only before it runs.
func newRigWith(t testing.TB, channels []core.Channel, edit ...func(*Options)) *rig {
	t.Helper()
	return newRigOn(t, webtest.New(t, webtest.Options{}), channels, edit...)
}

// agents are the console agents of the rigs, alice and bob, the same for
// every console of a test: replicas share their configuration.
var agents = sync.OnceValue(func() []Agent {
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			panic(err)
		}
		return string(h)
	}
	return []Agent{{Name: "alice", PasswordHash: hash(alicePW)}, {Name: "bob", PasswordHash: hash(bobPW)}}
})

// newRigOn mounts the console on w, whose engine may have been replaced,
// with the rig's store keeping the sign-ins and the keys, as the
// database does for every replica.
func newRigOn(t testing.TB, w *webtest.Rig, channels []core.Channel, edit ...func(*Options)) *rig {
	t.Helper()
	r := &rig{Rig: w}
	r.bot = remote.New(r.Engine, r.Catalog)
	o := Options{
		Engine:    r.Engine,
		Bot:       r.bot,
		Catalog:   r.Catalog,
		Agents:    agents(),
		SignIns:   r.Store,
		Keys:      r.Store,
		PublicURL: r.URL(),
		Clock:     r.Clock,
		Logger:    r.Logger,
	}
	for _, e := range edit {
		e(&o)
	}
	var err error
	if r.console, err = New(o); err != nil {
		t.Fatalf("New: %v", err)
	}
	r.console.Mount(r.Server)
	r.AddChannels(append(r.console.Channels(), channels...)...)
	r.Run(r.console.Run)
	return r
}

// signInAs signs the visitor in and leaves it on the queue.
func signInAs(v *webtest.Visitor, name, pw string) {
	v.T.Helper()
	v.Get("/console/login")
	resp, body := v.Post("/console/login", url.Values{"csrf": {v.CSRF}, "name": {name}, "password": {pw}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console" {
		v.T.Fatalf("sign in as %s: %d\n%s", name, resp.StatusCode, body)
	}
	if resp, body := v.Get("/console"); resp.StatusCode != http.StatusOK {
		v.T.Fatalf("queue after sign-in: %d\n%s", resp.StatusCode, body)
	}
}

// waiting issues a session for customer and joins it from a device, so
// it waits in the queue.
func (r *rig) waiting(customer core.Endpoint, device core.Device) *core.Session {
	r.T.Helper()
	s, _, err := r.Engine.Issue(ctx, issueFor(customer))
	if err != nil {
		r.T.Fatal(err)
	}
	joined, _ := r.Join(s, device)
	return joined
}

// openDialog opens the remote-session dialog of conversation convID as
// agent: it checks that a session was issued for that conversation by
// that agent and returns it with the dialog's card.
func (r *rig) openDialog(c *webtest.Visitor, convID, agent string) (*core.Session, string) {
	r.T.Helper()
	resp, out := c.Fetch("/console/conversations/"+convID+"/remote", url.Values{})
	if resp.StatusCode != http.StatusOK {
		r.T.Fatalf("remote: %d %v", resp.StatusCode, out)
	}
	id, _ := out["session"].(string)
	s := r.Session(id)
	if s.ConversationID != convID || s.Agent != agent || s.State != core.StateIssued {
		r.T.Fatalf("issued %+v", s)
	}
	resp, card := c.Get(out["card"].(string), csrfHeader, c.CSRF)
	if resp.StatusCode != http.StatusOK {
		r.T.Fatalf("dialog card: %d %s", resp.StatusCode, card)
	}
	return s, card
}

// issueFor is the request an agent makes for customer.
func issueFor(customer core.Endpoint) core.Request {
	return core.Request{Customer: customer, CustomerName: "Pat", Agent: "alice"}
}

// messagesOf selects a conversation's transcript.
func messagesOf(convID string) core.MessageFilter { return core.MessageFilter{ConversationID: convID} }

// screen is the shared screen the session page shows in the share rig: it
// shows what the signaling would, and records the sessions whose
// technician changed.
type screen struct {
	mu      sync.Mutex
	changed []string
}

func (s *screen) Viewable(sess *core.Session) bool { return sess.Provider == "builtin" }

func (s *screen) TechnicianSignal(id string) string { return "/console/sessions/" + id + "/signal" }

func (s *screen) TechnicianChanged(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changed = append(s.changed, id)
}

func (s *screen) changedIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.changed...)
}

// shareRig is a rig whose provider is the builtin one (view only), with
// a session joined and started view only by alice, who is signed in.
type shareRig struct {
	*rig
	screen *screen
	sess   *core.Session
	alice  *webtest.Visitor
}

func newShareRig(t *testing.T) *shareRig {
	t.Helper()
	sc := &screen{}
	r := newRig(t, func(o *Options) {
		o.Screen = sc
		o.ICEServers = func() []ICEServer {
			return []ICEServer{{URLs: []string{"turn:turn.example.org:3478?transport=udp"}, Username: "1700000000:assistbot", Credential: "short-lived"}}
		}
	})
	r.Provider.ProviderName, r.Provider.ModeList = "builtin", []core.Mode{core.ModeView}
	sr := &shareRig{rig: r, screen: sc, alice: r.Visitor()}
	s := r.Issue("en")
	r.Join(s, core.DeviceDesktop)
	signInAs(sr.alice, "alice", alicePW)
	var err error
	if sr.sess, err = r.Engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}, core.ModeView); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return sr
}

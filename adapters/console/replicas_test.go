package console

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// replica starts another console on the rig's engine and store, behind
// a server of its own, as another assistbot process on the same database
// is; it runs until the test ends. It returns the console and the base
// URL of its server.
func (r *rig) replica(t *testing.T, edit ...func(*Options)) (*Console, string) {
	t.Helper()
	return r.replicaRunning(t, nil, edit...)
}

// replicaRunning is replica with prepare applied to the console before
// its Run starts.
func (r *rig) replicaRunning(t *testing.T, prepare func(*Console), edit ...func(*Options)) (*Console, string) {
	t.Helper()
	o := Options{Engine: r.Engine, Bot: r.bot, Catalog: r.Catalog, Agents: agents(), SignIns: r.Store, Keys: r.Store,
		Clock: r.Clock, Logger: r.Logger}
	for _, e := range edit {
		e(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(c)
	}
	srv := web.New(web.Options{Logger: r.Logger})
	c.Mount(srv)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	r.Run(c.Run)
	return c, ts.URL
}

// TestSignOutEndsStreamsElsewhere: a replica's Run checks the sign-ins of
// the streams it keeps open, so a sign-out on another replica ends them
// within its check's interval.
func TestSignOutEndsStreamsElsewhere(t *testing.T) {
	r := newRig(t)
	_, b := r.replicaRunning(t, func(c *Console) { c.recheck = 20 * time.Millisecond })
	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	stream := on(alice, b).Events("/console/events")
	if resp, _ := alice.Post("/console/logout", url.Values{"csrf": {alice.CSRF}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	if ev, _ := nextEvent(stream, 5*time.Second, "update"); ev != "signout" {
		t.Errorf("the other replica's stream sent %q, want signout", ev)
	}
}

// on returns the visitor as it reaches another replica: the same
// browser, so the same cookies, at another address.
func on(v *webtest.Visitor, base string) *webtest.Visitor {
	w := *v
	w.Base = base
	return &w
}

// TestSignInOnEveryReplica: a sign-in made on one replica works on
// another, with the CSRF token of the first one's page, and after a
// restart; signing out on one ends it on every replica, including the
// event stream another replica keeps open for it.
func TestSignInOnEveryReplica(t *testing.T) {
	r := newRig(t)
	_, b := r.replica(t)
	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	_, conv, err := r.Engine.Issue(ctx, issueFor(pat))
	if err != nil {
		t.Fatal(err)
	}

	atB := on(alice, b)
	if resp, body := atB.Get("/console"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Signed in as alice") {
		t.Fatalf("the other replica: %d\n%s", resp.StatusCode, body)
	}
	// The token of the first replica's page is good on the other.
	atB.CSRF = alice.CSRF
	if resp, out := atB.Fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {"From the other replica."}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("reply on the other replica with the first one's token: %d %v", resp.StatusCode, out)
	}

	// A restart: a new process on the same store still knows alice.
	_, restarted := r.replica(t)
	if resp, _ := on(alice, restarted).Get("/console"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after a restart: %d", resp.StatusCode)
	}

	// A stream open on the first replica; alice signs out on the other.
	stream := alice.Events("/console/events")
	cookie := alice.Cookie("/console", consoleCookie)
	if resp, _ := atB.Post("/console/logout", url.Values{"csrf": {alice.CSRF}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out on the other replica: %d", resp.StatusCode)
	}
	for _, base := range []string{r.URL(), b, restarted} {
		replay := r.Visitor()
		replay.Base = base
		replay.SetCookie("/console", consoleCookie, cookie)
		if resp, _ := replay.Get("/console/queue", "Accept", "application/json"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the cookie replayed at %s after the sign-out: %d", base, resp.StatusCode)
		}
	}
	// The first replica learns of the sign-out from the store at its next
	// check (Run's, every recheckEvery) and ends the stream.
	if err := r.console.signIns.sweep(ctx, false); err != nil {
		t.Fatal(err)
	}
	if ev, _ := nextEvent(stream, 5*time.Second, "update"); ev != "signout" {
		t.Errorf("the first replica's stream sent %q, want signout", ev)
	}
}

// nextEvent returns the next event of s that is not skip.
func nextEvent(s *webtest.Stream, wait time.Duration, skip string) (string, string) {
	s.T.Helper()
	for {
		ev, data := s.Next(wait)
		if ev != skip {
			return ev, data
		}
	}
}

// TestSignInsInMemory: a console given no store keeps its sign-ins in
// memory, as before: another process does not know them.
func TestSignInsInMemory(t *testing.T) {
	r := newRig(t, func(o *Options) { o.SignIns, o.Keys = nil, nil })
	_, b := r.replica(t, func(o *Options) { o.SignIns, o.Keys = nil, nil })
	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	if resp, _ := on(alice, b).Get("/console"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another process knows an in-memory sign-in: %d", resp.StatusCode)
	}
	if resp, _ := alice.Get("/console"); resp.StatusCode != http.StatusOK {
		t.Errorf("the process that made it: %d", resp.StatusCode)
	}
}

// TestSignInKeepsOnlyTheHash: the store holds the SHA-256 of the token,
// never the token, and what it holds does not open the console.
func TestSignInKeepsOnlyTheHash(t *testing.T) {
	rec := &recordingSignIns{SignInStore: coreStore(t)}
	r := newRig(t, func(o *Options) { o.SignIns = rec })
	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	cookie := alice.Cookie("/console", consoleCookie)
	token, _, _ := strings.Cut(cookie, ".")
	if len(rec.created) != 1 {
		t.Fatalf("%d sign-ins recorded", len(rec.created))
	}
	got := rec.created[0]
	if got.TokenHash != core.SecretKey(token) || got.Agent != "alice" || !got.ExpiresAt.Equal(webtest.T0.Add(DefaultSessionTTL)) {
		t.Errorf("recorded %+v", got)
	}
	for _, field := range []string{got.TokenHash, got.Agent} {
		if strings.Contains(field, token) {
			t.Errorf("the store holds the token: %+v", got)
		}
	}
	replay := r.Visitor()
	replay.SetCookie("/console", consoleCookie, got.TokenHash)
	if resp, _ := replay.Get("/console"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the stored hash opens the console: %d", resp.StatusCode)
	}
}

// coreStore returns a fresh in-memory store's sign-ins.
func coreStore(t *testing.T) core.SignInStore {
	return webtest.New(t, webtest.Options{}).Store
}

// recordingSignIns records the sign-ins made.
type recordingSignIns struct {
	core.SignInStore
	created []core.SignIn
}

func (s *recordingSignIns) CreateSignIn(ctx context.Context, si *core.SignIn) error {
	s.created = append(s.created, *si)
	return s.SignInStore.CreateSignIn(ctx, si)
}

// TestSignInFollowsTheAgent: a sign-in ends with the agent's password as
// it was: a new password, or the agent's removal, signs them out, and so
// does a restart for the one-time agent, whose password is new each run.
func TestSignInFollowsTheAgent(t *testing.T) {
	r := newRig(t)
	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	for name, list := range map[string][]Agent{
		"new password": {{Name: "alice", PasswordHash: bcryptHash(t, "a-new-password-1")}, agents()[1]},
		"removed":      {agents()[1]},
	} {
		t.Run(name, func(t *testing.T) {
			_, b := r.replica(t, func(o *Options) { o.Agents = list })
			if resp, _ := on(alice, b).Get("/console"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
				t.Errorf("signed in as alice after the change: %d", resp.StatusCode)
			}
		})
	}
	if resp, _ := alice.Get("/console"); resp.StatusCode != http.StatusOK {
		t.Errorf("unchanged agents: %d", resp.StatusCode)
	}
}

// failingStore fails what its switches say.
type failingStore struct {
	core.SignInStore
	core.KeyStore
	create, find, end, key atomic.Bool
}

var errDown = errors.New("database is down")

func (f *failingStore) CreateSignIn(ctx context.Context, s *core.SignIn) error {
	if f.create.Load() {
		return errDown
	}
	return f.SignInStore.CreateSignIn(ctx, s)
}

func (f *failingStore) FindSignIn(ctx context.Context, hash string, now time.Time) (*core.SignIn, error) {
	if f.find.Load() {
		return nil, errDown
	}
	return f.SignInStore.FindSignIn(ctx, hash, now)
}

func (f *failingStore) EndSignIn(ctx context.Context, hash string) error {
	if f.end.Load() {
		return errDown
	}
	return f.SignInStore.EndSignIn(ctx, hash)
}

func (f *failingStore) Key(ctx context.Context, name string, size int) ([]byte, []byte, error) {
	if f.key.Load() {
		return nil, nil, errDown
	}
	return f.KeyStore.Key(ctx, name, size)
}

// TestSignInStoreFails: when the store cannot answer, the console says
// the service is unavailable (503): it never signs anyone in, never sends
// a signed-in agent to the sign-in form, and a sign-out it could not
// record leaves the agent signed in, told to try again.
func TestSignInStoreFails(t *testing.T) {
	fs := &failingStore{}
	r := newRig(t, func(o *Options) {
		fs.SignInStore, fs.KeyStore = o.SignIns, o.Keys
		o.SignIns, o.Keys = fs, fs
	})

	t.Run("signing in", func(t *testing.T) {
		fs.create.Store(true)
		defer fs.create.Store(false)
		c := r.Visitor()
		c.Get("/console/login")
		resp, body := c.Post("/console/login", url.Values{"csrf": {c.CSRF}, "name": {"alice"}, "password": {alicePW}})
		webtest.WantStatus(t, resp, body, http.StatusServiceUnavailable)
		webtest.WantContains(t, body, "The remote support service is unavailable.")
		if c.Cookie("/console", consoleCookie) != "" {
			t.Error("a cookie was set")
		}
	})

	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	t.Run("signed in", func(t *testing.T) {
		fs.find.Store(true)
		defer fs.find.Store(false)
		resp, body := alice.Get("/console")
		webtest.WantStatus(t, resp, body, http.StatusServiceUnavailable)
		resp, body = alice.Get("/console/queue", "Accept", "application/json")
		webtest.WantStatus(t, resp, body, http.StatusServiceUnavailable)
		webtest.WantNotContains(t, body, `"signin"`)
		webtest.WantContains(t, r.Logs.String(), "database is down")
	})

	t.Run("signing out", func(t *testing.T) {
		fs.end.Store(true)
		resp, body := alice.Post("/console/logout", url.Values{"csrf": {alice.CSRF}})
		fs.end.Store(false)
		webtest.WantStatus(t, resp, body, http.StatusServiceUnavailable)
		if alice.Cookie("/console", consoleCookie) == "" {
			t.Error("the browser lost its cookie while the sign-in goes on")
		}
		if resp, _ := alice.Get("/console"); resp.StatusCode != http.StatusOK {
			t.Errorf("after a failed sign-out: %d", resp.StatusCode)
		}
	})

	t.Run("no key", func(t *testing.T) {
		// A console that never read its key cannot make a form's token.
		down := &failingStore{KeyStore: r.Store}
		down.key.Store(true)
		_, base := r.replica(t, func(o *Options) { o.Keys = down })
		c := r.Visitor()
		c.Base = base
		resp, body := c.Get("/console/login")
		webtest.WantStatus(t, resp, body, http.StatusServiceUnavailable)
	})
}

// TestCSRFKeyRotation: after the key is rotated, a page's token made
// with the previous key still works, new pages get tokens of the new key,
// and a second rotation retires the first key.
func TestCSRFKeyRotation(t *testing.T) {
	r := newRig(t)
	alice := r.Visitor()
	signInAs(alice, "alice", alicePW)
	_, conv, err := r.Engine.Issue(ctx, issueFor(pat))
	if err != nil {
		t.Fatal(err)
	}
	reply := func(token string) int {
		c := *alice
		c.CSRF = token
		resp, _ := c.Fetch("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {"hello"}})
		return resp.StatusCode
	}
	old := alice.CSRF
	if err := r.Store.RotateKey(ctx, KeyName, KeySize); err != nil {
		t.Fatal(err)
	}
	r.Clock.Add(web.KeyRefresh)
	alice.Get("/console")
	if alice.CSRF == old {
		t.Fatal("a page after the rotation has the old token")
	}
	if got := reply(old); got != http.StatusOK {
		t.Errorf("the previous key's token: %d", got)
	}
	if got := reply(alice.CSRF); got != http.StatusOK {
		t.Errorf("the new key's token: %d", got)
	}
	if err := r.Store.RotateKey(ctx, KeyName, KeySize); err != nil {
		t.Fatal(err)
	}
	r.Clock.Add(web.KeyRefresh)
	if got := reply(old); got != http.StatusForbidden {
		t.Errorf("a token two rotations old: %d", got)
	}
}

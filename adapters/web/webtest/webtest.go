// Package webtest is the test kit of assistbot's web surfaces: a Rig (an
// engine over core/coretest's fakes, served by a web.Server on a loopback
// test server), a Visitor (a browser that keeps its cookies and the CSRF
// token of the last page it saw), event streams, and the assertions the
// surfaces' tests share. Only tests import it.
package webtest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// T0 is when every rig's clock starts.
var T0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// Pat is the customer of the rigs' sessions: a phone number.
var Pat = core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"}

// User-Agents of real browsers.
const (
	UADesktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	UAIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)

// Options adjust a Rig.
type Options struct {
	// Observe is the engine's observer (core.Options.Observe).
	Observe func(core.Update)
	// Web adjusts the server's options before it is made.
	Web func(*web.Options)
	// Policies are the engine's (core.Options.Policies).
	Policies []core.DuePolicy
}

// Rig is an engine over fakes behind a web.Server, with a live test
// server whose URL the provider's links use. Surfaces mount themselves on
// Server; Run starts the engine and their loops.
type Rig struct {
	T        testing.TB
	Store    *coretest.MemStore
	Clock    *coretest.Clock
	Provider *coretest.Provider
	// SMS is the engine's "sms" channel; a fake "web" channel is there
	// too until a surface adds its own.
	SMS     *coretest.Channel
	Engine  *core.Engine
	Catalog *i18n.Catalog
	Server  *web.Server
	TS      *httptest.Server
	// Logs holds everything logged through Logger, at debug level and up.
	Logs   *coretest.Buffer
	Logger *slog.Logger
}

// New returns a Rig; the test server stops when the test ends.
func New(t testing.TB, o Options) *Rig {
	t.Helper()
	r := &Rig{
		T:     t,
		Store: coretest.NewMemStore(),
		Clock: coretest.NewClock(T0),
		SMS:   &coretest.Channel{ChannelName: core.ChannelSMS},
		Logs:  &coretest.Buffer{},
	}
	r.Provider = &coretest.Provider{IssueFunc: r.ticket}
	cat, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	r.Catalog = cat
	r.Logger = slog.New(slog.NewTextHandler(r.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.Engine = core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}),
		Store: r.Store, Provider: r.Provider, Clock: r.Clock,
		Channels: []core.Channel{r.SMS, &coretest.Channel{ChannelName: core.ChannelWeb}},
		Observe:  o.Observe,
		Logger:   r.Logger,
		Policies: o.Policies,
	})
	wo := web.Options{Logger: r.Logger}
	if o.Web != nil {
		o.Web(&wo)
	}
	r.Server = web.New(wo)
	r.TS = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { r.Server.ServeHTTP(w, req) }))
	t.Cleanup(r.TS.Close)
	return r
}

// URL returns the test server's base URL.
func (r *Rig) URL() string { return r.TS.URL }

// Run starts the engine's loop and each of loops (surfaces' Run) until
// the test ends. Channels must be added before.
func (r *Rig) Run(loops ...func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	loops = append(loops, r.Engine.Run)
	done := make(chan struct{}, len(loops))
	for _, run := range loops {
		go func() { _ = run(ctx); done <- struct{}{} }()
	}
	r.T.Cleanup(func() {
		cancel()
		for range loops {
			<-done
		}
	})
}

// AddChannels adds channels to the engine, failing the test on an error.
func (r *Rig) AddChannels(chs ...core.Channel) {
	r.T.Helper()
	for _, ch := range chs {
		if err := r.Engine.AddChannel(ch); err != nil {
			r.T.Fatal(err)
		}
	}
}

// ticket issues PINs whose links point at the rig's test server.
func (r *Rig) ticket(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
	pin, err := core.RandomPINs{}.PIN(6)
	if err != nil {
		return core.Ticket{}, err
	}
	return core.Ticket{
		PIN:        pin,
		DesktopURL: r.TS.URL + "/?code=" + pin,
		MobileURL:  r.TS.URL + "/m/" + pin,
		ManualURL:  r.TS.URL + "/",
	}, nil
}

// Issue starts a session for Pat in locale.
func (r *Rig) Issue(locale string) *core.Session {
	r.T.Helper()
	s, _, err := r.Engine.Issue(context.Background(), core.Request{Customer: Pat, CustomerName: "Pat", Agent: "alice", Locale: locale})
	if err != nil {
		r.T.Fatalf("Issue: %v", err)
	}
	return s
}

// Join joins session s from a device, as the portal's Start does, and
// returns the session and the browser's secret.
func (r *Rig) Join(s *core.Session, device core.Device) (*core.Session, string) {
	r.T.Helper()
	joined, secret, err := r.Engine.Join(context.Background(), s.PIN, device)
	if err != nil {
		r.T.Fatalf("Join: %v", err)
	}
	return joined, secret
}

// Session reads a session back from the engine.
func (r *Rig) Session(id string) *core.Session {
	r.T.Helper()
	s, err := r.Engine.Session(context.Background(), id)
	if err != nil {
		r.T.Fatalf("Session(%s): %v", id, err)
	}
	return s
}

// Conversation reads a conversation back from the engine.
func (r *Rig) Conversation(id string) *core.Conversation {
	r.T.Helper()
	c, err := r.Engine.Conversation(context.Background(), id)
	if err != nil {
		r.T.Fatal(err)
	}
	return c
}

// Actions returns the actions of a session's event log.
func (r *Rig) Actions(id string) []string {
	r.T.Helper()
	evs, err := r.Engine.Events(context.Background(), id)
	if err != nil {
		r.T.Fatalf("Events(%s): %v", id, err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Action))
	}
	return out
}

// Request is one test request; zero fields take defaults.
type Request struct {
	Method, Path string
	Form         url.Values
	Body         string
	Header       http.Header
	Remote       string // RemoteAddr; default 192.0.2.10:4000
}

// Serve sends req straight to the rig's Server and returns the answer
// with its body read.
func (r *Rig) Serve(req Request) (*http.Response, string) {
	r.T.Helper()
	return Serve(r.Server, req)
}

// Serve sends req straight to h and returns the answer with its body
// read.
func Serve(h http.Handler, req Request) (*http.Response, string) {
	var body io.Reader
	switch {
	case req.Form != nil:
		body = strings.NewReader(req.Form.Encode())
	case req.Body != "":
		body = strings.NewReader(req.Body)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	hr := httptest.NewRequest(method, req.Path, body)
	hr.RemoteAddr = req.Remote
	if hr.RemoteAddr == "" {
		hr.RemoteAddr = "192.0.2.10:4000"
	}
	if req.Form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hr)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// Get serves a GET of path with header pairs.
func (r *Rig) Get(path string, header ...string) (*http.Response, string) {
	r.T.Helper()
	return r.Serve(Request{Path: path, Header: Headers(header...)})
}

// Headers builds a header from name, value pairs.
func Headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// WantStatus fails the test unless resp has status.
func WantStatus(t testing.TB, resp *http.Response, body string, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body:\n%s", resp.StatusCode, status, body)
	}
}

// WantContains fails the test unless body contains every one of want.
func WantContains(t testing.TB, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("body does not contain %q:\n%s", w, body)
		}
	}
}

// WantNotContains fails the test if body contains any one of bad.
func WantNotContains(t testing.TB, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("body contains %q:\n%s", b, body)
		}
	}
}

// Esc escapes s as html/template writes text, so catalog sentences with
// apostrophes can be found in a page.
func Esc(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// WaitFor polls cond until it holds, failing the test after a deadline.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// FindCookie returns the cookie name that resp sets (not one it deletes).
func FindCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.MaxAge >= 0 {
			return c
		}
	}
	return nil
}

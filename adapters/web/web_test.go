package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	pat = core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"}
)

// User-Agents of real browsers.
const (
	uaDesktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)

const token = "s3cret-token"

// rig is a Server over an engine over fakes, with a live test server
// whose URL the provider's links use.
type rig struct {
	t        testing.TB
	store    *coretest.MemStore
	clock    *coretest.Clock
	provider *coretest.Provider
	sms      *coretest.Channel
	engine   *core.Engine
	catalog  *i18n.Catalog
	reg      *prometheus.Registry
	metrics  *Metrics
	server   *Server
	ts       *httptest.Server
	logs     *coretest.Buffer
}

// newRig returns a rig; edit adjusts the server's options before New.
func newRig(t testing.TB, edit ...func(*Options)) *rig {
	t.Helper()
	r := &rig{
		t:     t,
		store: coretest.NewMemStore(),
		clock: coretest.NewClock(t0),
		sms:   &coretest.Channel{ChannelName: core.ChannelSMS},
		reg:   prometheus.NewRegistry(),
		logs:  &coretest.Buffer{},
	}
	r.provider = &coretest.Provider{IssueFunc: r.ticket}
	cat, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	r.catalog = cat
	r.metrics = NewMetrics(r.reg, r.store.Stats)
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.engine = core.NewEngine(core.Options{
		Store: r.store, Provider: r.provider, Clock: r.clock,
		Channels: []core.Channel{r.sms, &coretest.Channel{ChannelName: core.ChannelWeb}},
		Observe:  r.metrics.Observe,
		Logger:   log,
	})
	o := Options{
		Engine:                 r.engine,
		Catalog:                cat,
		PublicURL:              "http://support.test",
		Tokens:                 []string{"", "other-token", token},
		ClientGuessesPerMinute: 1000,
		GlobalGuessesPerMinute: 100000,
		Metrics:                r.metrics,
		Clock:                  r.clock,
		Logger:                 log,
	}
	for _, e := range edit {
		e(&o)
	}
	r.server = New(o)
	r.ts = httptest.NewServer(r.server)
	t.Cleanup(r.ts.Close)
	return r
}

// ticket issues PINs whose links point at the rig's test server.
func (r *rig) ticket(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
	pin, err := core.RandomPINs{}.PIN(6)
	if err != nil {
		return core.Ticket{}, err
	}
	return core.Ticket{
		PIN:        pin,
		DesktopURL: r.ts.URL + "/?code=" + pin,
		MobileURL:  r.ts.URL + "/m/" + pin,
		ManualURL:  r.ts.URL + "/",
	}, nil
}

// issue starts a session for pat in locale.
func (r *rig) issue(locale string) *core.Session {
	r.t.Helper()
	s, _, err := r.engine.Issue(ctx, core.Request{Customer: pat, CustomerName: "Pat", Agent: "alice", Locale: locale})
	if err != nil {
		r.t.Fatalf("Issue: %v", err)
	}
	return s
}

// session reads a session back from the engine.
func (r *rig) session(id string) *core.Session {
	r.t.Helper()
	s, err := r.engine.Session(ctx, id)
	if err != nil {
		r.t.Fatalf("Session(%s): %v", id, err)
	}
	return s
}

// actions returns the actions of a session's event log.
func (r *rig) actions(id string) []string {
	r.t.Helper()
	evs, err := r.engine.Events(ctx, id)
	if err != nil {
		r.t.Fatalf("Events(%s): %v", id, err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Action))
	}
	return out
}

// request is one test request; zero fields take defaults.
type request struct {
	method, path string
	form         url.Values
	body         string
	header       http.Header
	remote       string // RemoteAddr; default 192.0.2.10:4000
}

// serve sends req straight to the Server and returns the response with
// its body read.
func (r *rig) serve(req request) (*http.Response, string) {
	r.t.Helper()
	var body io.Reader
	switch {
	case req.form != nil:
		body = strings.NewReader(req.form.Encode())
	case req.body != "":
		body = strings.NewReader(req.body)
	}
	hr := httptest.NewRequest(cmpOrStr(req.method, http.MethodGet), req.path, body)
	hr.RemoteAddr = cmpOrStr(req.remote, "192.0.2.10:4000")
	if req.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	rec := httptest.NewRecorder()
	r.server.ServeHTTP(rec, hr)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (r *rig) get(path string, header ...string) (*http.Response, string) {
	r.t.Helper()
	return r.serve(request{path: path, header: headers(header...)})
}

func (r *rig) join(code string, header ...string) (*http.Response, string) {
	r.t.Helper()
	return r.serve(request{method: http.MethodPost, path: "/join", form: url.Values{"code": {code}}, header: headers(header...)})
}

// api calls the JSON API with the rig's token and decodes the answer.
func (r *rig) api(method, path, body string) (*http.Response, map[string]any) {
	r.t.Helper()
	resp, raw := r.serve(request{method: method, path: path, body: body, header: headers("Authorization", "Bearer "+token)})
	var out map[string]any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		r.t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, raw)
	}
	return resp, out
}

// headers builds a header from name, value pairs.
func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func cmpOrStr(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// wantStatus fails the test unless resp has status.
func wantStatus(t *testing.T, resp *http.Response, body string, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body:\n%s", resp.StatusCode, status, body)
	}
}

// wantContains fails the test unless body contains every one of want.
func wantContains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("body does not contain %q:\n%s", w, body)
		}
	}
}

// wantNotContains fails the test if body contains any one of bad.
func wantNotContains(t *testing.T, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("body contains %q:\n%s", b, body)
		}
	}
}

// apiError returns the code and message of a JSON error answer.
func apiError(t *testing.T, body map[string]any) (code, message string) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %v", body)
	}
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

// esc escapes s as html/template writes text, so catalog sentences with
// apostrophes can be found in a page.
func esc(s string) string {
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

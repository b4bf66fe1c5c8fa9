package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

const testToken = "e2e-token-0123456789abcdef"

// server is a running Main on a loopback port, as a customer, an API
// client and an operator see it.
type server struct {
	*Main
	url string
	t   *testing.T
}

// sampleValue matches a sample line of the metrics page, less its value.
var sampleValue = regexp.MustCompile(`(?m)^([^#\n][^\n]*) \S+$`)

// startMain runs Main with cfg adjusted for the test (loopback listener,
// a SQLite file in a temporary directory, a known API token) and stops it
// when the test ends.
func startMain(t *testing.T, edit func(*config.Config), m *Main) *server {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Store.DSN = filepath.Join(t.TempDir(), "assistbot.db")
	cfg.API.Tokens = []string{testToken}
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	m.Config = cfg
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &server{Main: m, url: "http://" + m.Addr().String(), t: t}
}

// api calls the JSON API and decodes the answer into out (when not nil).
func (s *server) api(method, path, body string, out any) int {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

type apiSession struct {
	ID         string `json:"id"`
	State      string `json:"state"`
	PIN        string `json:"pin"`
	DesktopURL string `json:"desktop_url"`
	MobileURL  string `json:"mobile_url"`
	ManualURL  string `json:"manual_url"`
	Device     string `json:"device"`
	Mode       string `json:"mode"`
	Error      struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// browser is a customer's browser: it keeps cookies and does not follow
// redirects, so the test sees each answer.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEndToEnd walks the whole builtin flow through the real Main: the API
// issues a PIN, a link scanner fetches the link, the customer presses
// Start, the technician starts in view mode and ends.
func TestEndToEnd(t *testing.T) {
	s := startMain(t, func(c *config.Config) { c.Server.PublicURL = "https://support.example.com" },
		&Main{PINs: coretest.NewPINs("012345", "123456")})

	var sess apiSession
	if code := s.api("POST", "/api/v1/sessions", `{"customer":{"channel":"web","address":"chat-pat"},"agent":"alice","locale":"ko"}`, &sess); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, sess)
	}
	if sess.PIN != "012345" || sess.State != "issued" || !strings.HasPrefix(sess.DesktopURL, "https://support.example.com/?code=012345&k=") ||
		!strings.HasPrefix(sess.MobileURL, "https://support.example.com/m/012345/") || sess.ManualURL != "https://support.example.com/" {
		t.Fatalf("created %+v", sess)
	}

	// A link scanner fetches both links: nothing may change.
	scanner := browser(t)
	for _, path := range []string{"/?code=012345", "/m/012345"} {
		if code, body := get(t, scanner, s.url+path); code != http.StatusOK || !strings.Contains(body, `action="/join"`) {
			t.Fatalf("GET %s: %d", path, code)
		}
	}
	var after apiSession
	s.api("GET", "/api/v1/sessions/"+sess.ID, "", &after)
	if after.State != "issued" {
		t.Fatalf("fetching the links moved the session to %s", after.State)
	}

	// The customer presses Start on a phone.
	customer := browser(t)
	form := url.Values{"code": {"012345"}}
	req, _ := http.NewRequest("POST", s.url+"/join", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148")
	resp, err := customer.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/s/"+sess.ID {
		t.Fatalf("join: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, body := get(t, customer, s.url+"/s/"+sess.ID); code != http.StatusOK || !strings.Contains(body, `http-equiv="refresh"`) {
		t.Fatalf("status page: %d", code)
	}
	s.api("GET", "/api/v1/sessions/"+sess.ID, "", &after)
	if after.State != "waiting" || after.Device != "mobile" {
		t.Fatalf("after join: %+v", after)
	}
	// The PIN is consumed: a second customer gets the generic answer.
	if code, _ := get(t, browser(t), s.url+"/?code=012345"); code != http.StatusNotFound {
		t.Errorf("used pin answered %d", code)
	}

	// Mobile and builtin: control is refused with a reason, view works.
	var refused apiSession
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/start", `{"mode":"control"}`, &refused); code != http.StatusBadRequest || refused.Error.Code != "invalid" {
		t.Errorf("start control on mobile: %d %+v", code, refused.Error)
	}
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/start", `{"mode":"view","technician":"tom"}`, &after); code != http.StatusOK || after.State != "active" || after.Mode != "view" {
		t.Fatalf("start view: %d %+v", code, after)
	}
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/end", ``, &after); code != http.StatusOK || after.State != "ended" {
		t.Fatalf("end: %d %+v", code, after)
	}
	var conflict apiSession
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/close", ``, &conflict); code != http.StatusConflict || conflict.Error.Code != "invalid_transition" || !strings.Contains(conflict.Error.Message, "ended") {
		t.Errorf("close after end: %d %+v", code, conflict.Error)
	}

	var log struct {
		Events []struct {
			Actor, Action, From, To string
		} `json:"events"`
	}
	s.api("GET", "/api/v1/sessions/"+sess.ID+"/events", "", &log)
	var got []string
	for _, e := range log.Events {
		got = append(got, e.Action+":"+e.To)
	}
	if strings.Join(got, " ") != "issue:issued join:waiting start:active end:ended" {
		t.Errorf("event log = %v", got)
	}

	// The operator's view.
	// A PIN would leak in a name or a label; the samples' values are
	// numbers that may hold any digits.
	code, body := get(t, http.DefaultClient, s.url+"/metrics")
	series := sampleValue.ReplaceAllString(body, "$1")
	if code != http.StatusOK || !strings.Contains(body, `assistbot_joins_total{device="mobile"} 1`) || strings.Contains(series, "012345") {
		t.Errorf("metrics: %d, joins counted: %v, pin leaked: %v", code,
			strings.Contains(body, `assistbot_joins_total{device="mobile"} 1`), strings.Contains(series, "012345"))
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := get(t, http.DefaultClient, s.url+path); code != http.StatusOK {
			t.Errorf("%s: %d", path, code)
		}
	}
}

// TestSendWithoutChannel asks for a session for an SMS customer with
// Twilio disabled: it is refused when it is made, naming the setting, and
// nothing is made; so for Discord, which is not enabled either.
func TestSendWithoutChannel(t *testing.T) {
	s := startMain(t, nil, &Main{})
	var res apiSession
	if code := s.api("POST", "/api/v1/sessions", `{"customer":{"channel":"sms","address":"+12015550123"}}`, &res); code != http.StatusBadRequest ||
		res.Error.Code != "invalid" || res.Error.Message != "sms customers cannot be reached from this server: set twilio.enabled: true" {
		t.Errorf("create for sms: %d %+v", code, res.Error)
	}
	var list struct{ Sessions []apiSession }
	if s.api("GET", "/api/v1/sessions", "", &list); len(list.Sessions) != 0 {
		t.Errorf("refused creations made %d sessions", len(list.Sessions))
	}
	if code := s.api("POST", "/api/v1/sessions", `{"customer":{"channel":"sms","address":"+1 555 123 4567"}}`, &res); code != http.StatusBadRequest || res.Error.Code != "invalid" {
		t.Errorf("invalid number: %d %+v", code, res.Error)
	}
	if code := s.api("POST", "/api/v1/sessions", `{"customer":{"channel":"discord","address":"pat"}}`, &res); code != http.StatusBadRequest || res.Error.Code != "invalid" {
		t.Errorf("invalid discord user: %d %+v", code, res.Error)
	}
	if code := s.api("POST", "/api/v1/sessions", `{"customer":{"channel":"discord","address":"123456789012345678"}}`, &res); code != http.StatusBadRequest ||
		!strings.Contains(res.Error.Message, "set discord.enabled: true") {
		t.Errorf("create for discord: %d %+v", code, res.Error)
	}
}

// TestAPIForWebChatCustomer: a script issues a session for the web-chat
// customer whose conversation id the console shows, and sends them the
// link, which their chat shows.
func TestAPIForWebChatCustomer(t *testing.T) {
	s := startMain(t, nil, &Main{PINs: coretest.NewPINs("246810")})
	customer := newPerson(t, s.url)
	customer.send("GET", "/chat", nil)
	if code, body := customer.send("POST", "/chat/messages", url.Values{"csrf": {customer.csrf}, "text": {"Can someone look at my screen?"}}); code != http.StatusSeeOther {
		t.Fatalf("write: %d %s", code, body)
	}
	convs, err := s.Engine().Conversations(context.Background(), core.ConversationFilter{State: core.ConversationOpen})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %v %v", convs, err)
	}
	var sess apiSession
	if code := s.api("POST", "/api/v1/sessions", `{"conversation_id":"`+convs[0].ID+`","agent":"script"}`, &sess); code != http.StatusCreated || sess.PIN != "246810" {
		t.Fatalf("create for the conversation: %d %+v", code, sess)
	}
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/send", `{"link":"desktop"}`, &sess); code != http.StatusOK || sess.State != "sent" {
		t.Fatalf("send: %d %+v", code, sess)
	}
	// The outbox hands the link to the chat in the background: the page
	// shows it once it went out (a hang guard, not a measurement).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		_, page := customer.send("GET", "/chat", nil)
		if strings.Contains(page, "data-link") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the chat does not show the link:\n%s", page)
		}
	}
	var res apiSession
	if code := s.api("POST", "/api/v1/sessions", `{"locale":"xx"}`, &res); code != http.StatusBadRequest || !strings.Contains(res.Error.Message, "use one of en, ko, ja, es, de, fr") {
		t.Errorf("unknown locale: %d %+v", code, res.Error)
	}
}

// TestMetricsToken: with metrics.token set, /metrics answers only the
// scrape that sends it as its bearer token.
func TestMetricsToken(t *testing.T) {
	const token = "metrics-token-0123456789"
	s := startMain(t, func(c *config.Config) { c.Metrics.Token = token }, &Main{})
	req, _ := http.NewRequest("GET", s.url+"/metrics", nil)
	for auth, want := range map[string]int{"": http.StatusUnauthorized, "Bearer nope": http.StatusUnauthorized, "Bearer " + token: http.StatusOK} {
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Authorization %q: %d %s", auth, resp.StatusCode, body)
		}
		if want == http.StatusOK && !strings.Contains(string(body), "assistbot_sessions") {
			t.Errorf("the scrape lacks the metrics:\n%.300s", body)
		}
		if want != http.StatusOK && !strings.Contains(string(body), `"code":"unauthorized"`) {
			t.Errorf("refusal %q: %s", auth, body)
		}
	}
}

// TestExpiryThroughMain lets a PIN outlive its lifetime: the API reports
// it expired and the portal refuses it like any unknown PIN.
func TestExpiryThroughMain(t *testing.T) {
	clock := coretest.NewClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	s := startMain(t, func(c *config.Config) { c.PIN.TTL = 5 * time.Minute }, &Main{Clock: clock, PINs: coretest.NewPINs("555111")})
	var sess apiSession
	s.api("POST", "/api/v1/sessions", ``, &sess)
	clock.Add(5 * time.Minute)
	s.api("GET", "/api/v1/sessions/"+sess.ID, "", &sess)
	if sess.State != "expired" {
		t.Errorf("state = %s, want expired", sess.State)
	}
	if code, body := get(t, browser(t), s.url+"/?code=555111"); code != http.StatusNotFound || strings.Contains(body, "555111") {
		t.Errorf("expired pin: %d", code)
	}
	var regen apiSession
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/regenerate", ``, &regen); code != http.StatusOK || regen.State != "issued" {
		t.Errorf("regenerate after expiry: %d %+v", code, regen)
	}
}

// TestReadyzFollowsStore checks that Main wires the store's ping into
// /readyz: once the store stops answering, /readyz says 503 with the
// store's reason (the instance leaves the load balancer's rotation),
// while /healthz, the process's own liveness, stays 200.
func TestReadyzFollowsStore(t *testing.T) {
	s := startMain(t, nil, &Main{})
	if code, body := get(t, http.DefaultClient, s.url+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz with the store open: %d %s", code, body)
	}
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, http.DefaultClient, s.url+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"unavailable"`) || !strings.Contains(body, "the store is closed") {
		t.Errorf("/readyz with the store closed: %d %s", code, body)
	}
	if code, body := get(t, http.DefaultClient, s.url+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with the store closed: %d %s", code, body)
	}
}

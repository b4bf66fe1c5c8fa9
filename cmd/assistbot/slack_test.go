package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core/coretest"
)

// The Slack side of the end-to-end tests.
const (
	sSecret   = "e2e-slack-signing-secret"
	sTeam     = "T0E2E"
	sDesk     = "C0DESK"
	sAgent    = "U0ALICE"
	sCustomer = "U0PAT"
	sWork     = "C0WORK"
)

// slackE2E is a Main with Slack over HTTP in front of a fake Slack.
type slackE2E struct {
	*server
	fake *slackfake.Server
}

func startSlack(t *testing.T, m *Main) *slackE2E {
	t.Helper()
	fake := slackfake.New(t)
	fake.SetMembers(sDesk, sAgent)
	fake.SetUser(sCustomer, slackfake.User{Name: "pat", DisplayName: "Pat", Locale: "en-US"})
	s := startMain(t, func(c *config.Config) {
		c.Server.PublicURL = "https://support.example.com"
		c.Slack = config.Slack{Enabled: true, BotToken: fake.BotToken, SigningSecret: sSecret, Command: "/remote",
			DeskChannel: sDesk, AllowedTeams: []string{sTeam}, APIURL: fake.APIURL()}
	}, m)
	return &slackE2E{server: s, fake: fake}
}

// post sends a signed request to a Slack route.
func (s *slackE2E) post(route, contentType, body string) (int, string) {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(slackfake.Request(s.url+route, sSecret, contentType, []byte(body)))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// cardButtons reads the buttons of a card answered to a slash command:
// action ID to value, and the action ID of the primary one.
func cardButtons(t *testing.T, body string) (values map[string]string, primary string) {
	t.Helper()
	var card struct {
		Blocks []struct {
			Elements []struct {
				ActionID string `json:"action_id"`
				Value    string `json:"value"`
				Style    string `json:"style"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(body), &card); err != nil {
		t.Fatal(err)
	}
	values = map[string]string{}
	for _, b := range card.Blocks {
		for _, e := range b.Elements {
			values[e.ActionID] = e.Value
			if e.Style == "primary" {
				primary = e.ActionID
			}
		}
	}
	return values, primary
}

// clickCard presses a button of the agent's card (ephemeral, in the work
// channel); Slack's later updates of the card go to the hook's
// response_url.
func (s *slackE2E) clickCard(actionID, value, hook string) {
	s.t.Helper()
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "team": map[string]any{"id": sTeam}, "user": map[string]any{"id": sAgent, "name": "alice"},
		"container": map[string]any{"type": "message", "message_ts": "1700000000.000001", "channel_id": sWork, "is_ephemeral": true},
		"channel":   map[string]any{"id": sWork}, "response_url": s.fake.ResponseURL(hook),
		"actions": []map[string]any{{"action_id": actionID, "block_id": "remote.card", "value": value, "type": "button"}},
	})
	if code, body := s.post("/slack/interactions", "application/x-www-form-urlencoded", url.Values{"payload": {string(payload)}}.Encode()); code != http.StatusOK {
		s.t.Fatalf("click %s: %d %s", actionID, code, body)
	}
}

func slashForm(text, responseURL string) string {
	return url.Values{"token": {"legacy"}, "team_id": {sTeam}, "team_domain": {"example"}, "channel_id": {sWork},
		"channel_name": {"support"}, "user_id": {sAgent}, "user_name": {"alice"}, "command": {"/remote"},
		"text": {text}, "api_app_id": {"A0APP"}, "response_url": {responseURL}, "trigger_id": {"1.2.3"}}.Encode()
}

// TestSlackEndToEnd walks the Slack flow through the real Main: /remote
// @customer answers with the card; "Send desktop link" DMs the customer
// the link with previews off; the customer presses Start on the portal;
// the desk channel gets a thread saying the customer is waiting, with the
// start buttons.
func TestSlackEndToEnd(t *testing.T) {
	s := startSlack(t, &Main{PINs: coretest.NewPINs("012345")})

	code, body := s.post("/slack/commands", "application/x-www-form-urlencoded", slashForm("<@"+sCustomer+"|pat>", s.fake.ResponseURL("cmd")))
	if code != http.StatusOK || !strings.Contains(body, `"PIN 012345"`) || !strings.Contains(body, `"response_type":"ephemeral"`) {
		t.Fatalf("card: %d %s", code, body)
	}
	values, _ := cardButtons(t, body)
	s.clickCard("remote.send_desktop", values["remote.send_desktop"], "click")
	dm := s.fake.Wait(t, "chat.postMessage", 5*time.Second, func(c slackfake.Call) bool { return c.Field("channel") == sCustomer })
	if !strings.Contains(dm.Field("text"), "https://support.example.com/?code=012345") || dm.Field("unfurl_links") != "false" || dm.Field("unfurl_media") != "false" {
		t.Fatalf("customer DM %v", dm.Form)
	}

	// The customer opens the link and presses Start.
	form := url.Values{"code": {"012345"}}
	req, _ := http.NewRequest("POST", s.url+"/join", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36")
	resp, err := browser(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d", resp.StatusCode)
	}
	header := s.fake.Wait(t, "chat.postMessage", 5*time.Second, func(c slackfake.Call) bool {
		return c.Field("channel") == sDesk && c.Field("thread_ts") == ""
	})
	alert := s.fake.Wait(t, "chat.postMessage", 5*time.Second, func(c slackfake.Call) bool {
		return c.Field("channel") == sDesk && c.Field("thread_ts") == header.TS
	})
	if alert.Field("text") != "Customer is waiting (computer)." || !strings.Contains(alert.Field("blocks"), "remote.start_view") {
		t.Errorf("alert %v", alert.Form)
	}
	// And the agent's card follows: it now offers to start.
	s.fake.Wait(t, "response_url", 5*time.Second, func(c slackfake.Call) bool {
		return c.Hook == "click" && strings.Contains(c.Field("blocks"), "remote.start_view")
	})
}

// TestSlackRefusals sends, through Main, what must not be served.
func TestSlackRefusals(t *testing.T) {
	s := startSlack(t, &Main{})
	body := slashForm("<@"+sCustomer+">", s.fake.ResponseURL("x"))
	req, _ := http.NewRequest("POST", s.url+"/slack/commands", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned: %v %v", resp.StatusCode, err)
	}
	foreign := strings.Replace(body, "team_id="+sTeam, "team_id=T0OTHER", 1)
	if code, b := s.post("/slack/commands", "application/x-www-form-urlencoded", foreign); code != http.StatusOK || !strings.Contains(b, "workspace is not allowed") {
		t.Errorf("foreign team: %d %s", code, b)
	}
	var list struct {
		Sessions []apiSession `json:"sessions"`
	}
	s.api("GET", "/api/v1/sessions", "", &list)
	if len(list.Sessions) != 0 {
		t.Errorf("%d sessions", len(list.Sessions))
	}
}

// TestSlackManifestCommand prints the app manifest for a public URL.
func TestSlackManifestCommand(t *testing.T) {
	code, out, errOut := runCLI(t, map[string]string{"ASSISTBOT_SLACK_COMMAND": "/helpdesk"}, "slack", "manifest", "--url", "https://help.example.org")
	if code != exitOK || !strings.Contains(out, "command: /helpdesk") || !strings.Contains(out, "url: https://help.example.org/slack/commands") ||
		!strings.Contains(out, "request_url: https://help.example.org/slack/interactions") || !strings.Contains(out, "socket_mode_enabled: false") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	// The server runs Socket Mode whenever slack.app_token is set, a
	// signing secret or not: so does the manifest.
	for name, env := range map[string]map[string]string{
		"app token":                    {"ASSISTBOT_SLACK_APP_TOKEN": "xapp-1"},
		"app token and signing secret": {"ASSISTBOT_SLACK_APP_TOKEN": "xapp-1", "ASSISTBOT_SLACK_SIGNING_SECRET": "secret"},
		"app token, secret and --url":  {"ASSISTBOT_SLACK_APP_TOKEN": "xapp-1", "ASSISTBOT_SLACK_SIGNING_SECRET": "secret", "ASSISTBOT_SERVER_PUBLIC_URL": "https://help.example.org"},
	} {
		code, out, errOut := runCLI(t, env, "slack", "manifest")
		if code != exitOK || !strings.Contains(out, "socket_mode_enabled: true") || strings.Contains(out, "url:") {
			t.Errorf("%s: exit %d\n%s\n%s", name, code, out, errOut)
		}
	}
	code, out, _ = runCLI(t, map[string]string{"ASSISTBOT_SLACK_SIGNING_SECRET": "secret"}, "slack", "manifest", "--url", "https://help.example.org")
	if code != exitOK || !strings.Contains(out, "socket_mode_enabled: false") || !strings.Contains(out, "url: https://help.example.org/slack/commands") {
		t.Errorf("signing secret only: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, nil, "slack"); code != exitUsage {
		t.Errorf("slack without a subcommand: exit %d", code)
	}
}

// BenchmarkSlashCommand runs signed /remote commands through the real
// HTTP handler (the web server's middleware included) of a Main with the
// SQLite store in a temporary directory: signature check, PIN, durable
// session, card. Each command names the same Slack customer, so each
// adds a session to one open conversation, as an agent's /remote in a
// busy conversation would. go test -bench SlashCommand -cpu 1 runs it on
// one processor.
func BenchmarkSlashCommand(b *testing.B) {
	fake := slackfake.New(b)
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Store.DSN = filepath.Join(b.TempDir(), "assistbot.db")
	cfg.PIN.Digits = 10 // a million live PINs would crowd six digits
	cfg.Slack = config.Slack{Enabled: true, BotToken: fake.BotToken, SigningSecret: sSecret, Command: "/remote", APIURL: fake.APIURL()}
	m := &Main{Config: cfg}
	if err := m.Open(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	body := []byte(slashForm("<@"+sCustomer+"|pat>", "https://hooks.slack.com/commands/T0E2E/1/x"))
	// Signed once, as a load generator would: the timestamp stays inside
	// Slack's five minutes for the benchmark's length.
	header := slackfake.Sign(sSecret, time.Now(), body)
	header.Set("Content-Type", "application/x-www-form-urlencoded")
	target, _ := url.Parse("http://assistbot.test/slack/commands")
	var failed atomic.Int64
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := &http.Request{Method: http.MethodPost, URL: target, Host: target.Host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: header, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), RemoteAddr: "192.0.2.1:1234"}
			req = req.WithContext(b.Context())
			w := httptest.NewRecorder()
			m.web.ServeHTTP(w, req)
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"PIN `) {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d commands failed", n)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
}

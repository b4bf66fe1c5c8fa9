package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// The workspace the tests run in.
const (
	testSecret  = "8f742231b10e8888abcd99yyyzzz85a5"
	testTeam    = "T0TEAM"
	testDesk    = "C0DESK"
	testAgent   = "U0AGENT"
	testChannel = "C0WORK"
	stranger    = "U0STRANGER"
	customerID  = "U0CUSTOMER"
	wait        = 5 * time.Second
)

var ctx = context.Background()

// rig is an Adapter serving HTTP in front of an engine with an in-memory
// store, talking to a fake Slack.
type rig struct {
	t        testing.TB
	fake     *slackfake.Server
	a        *Adapter
	engine   *core.Engine
	store    *coretest.MemStore
	provider *coretest.Provider
	sms      *coretest.Channel
	clock    *coretest.Clock
	srv      *httptest.Server
}

func newRig(t testing.TB, edit ...func(*Options)) *rig {
	t.Helper()
	r := unstartedRig(t, edit...)
	r.start()
	return r
}

// unstartedRig is newRig before its engine and adapter run, for a test
// that must set the fake up before the adapter's first call to it.
func unstartedRig(t testing.TB, edit ...func(*Options)) *rig {
	t.Helper()
	cat, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, fake: slackfake.New(t), store: coretest.NewMemStore(),
		provider: &coretest.Provider{}, sms: &coretest.Channel{ChannelName: core.ChannelSMS},
		clock: coretest.NewClock(time.Now().Truncate(time.Second))}
	r.fake.SetMembers(testDesk, testAgent, "U0OTHER")
	r.fake.SetGroup("S0AGENTS", "U0GROUPIE") // for tests that set Options.AgentGroup
	r.fake.SetUser(customerID, User("Pat", "ko-KR"))
	r.fake.SetUser(testAgent, User("alice", "en-US"))
	r.engine = core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: r.store, Provider: r.provider, Channels: []core.Channel{r.sms}, Clock: r.clock,
		Addresses: map[string]func(string) (string, error){core.ChannelSMS: northAmerican}})
	o := Options{
		Engine: r.engine, Bot: remote.New(r.engine, cat), BotToken: r.fake.BotToken, SigningSecret: testSecret,
		Command: "/remote", DeskChannel: testDesk, APIURL: r.fake.APIURL(), SMS: true,
	}
	for _, e := range edit {
		e(&o)
	}
	if r.a, err = New(o); err != nil {
		t.Fatal(err)
	}
	if err := r.engine.AddChannel(r.a.Channels()[0]); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	r.a.Mount(mux)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

// start runs the engine and the adapter until the test ends.
func (r *rig) start() {
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { r.engine.Run(runCtx); done <- struct{}{} }()
	go func() { r.a.Run(runCtx); done <- struct{}{} }()
	r.t.Cleanup(func() {
		cancel()
		<-done
		<-done
	})
	// An update published before the adapter subscribed would be missed.
	select {
	case <-r.a.watching:
	case <-time.After(10 * time.Second):
		r.t.Fatal("the adapter did not start following the engine's updates")
	}
}

// northAmerican stands in for libphonenumber (adapters/twilio, which this
// adapter must not import): it accepts 10-digit North American numbers
// whose exchange is not 555-01XX's reserved neighbour 555-XXXX.
func northAmerican(s string) (string, error) {
	var d []byte
	for _, c := range []byte(s) {
		if c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	if len(d) != 10 || d[0] < '2' || d[3] < '2' {
		return "", errors.New("not a North American number")
	}
	return "+1" + string(d), nil
}

// User is a fake Slack profile.
func User(name, locale string) slackfake.User {
	return slackfake.User{Name: strings.ToLower(name), DisplayName: name, Locale: locale}
}

// post sends body to route signed as Slack signs it, and returns the
// status and the body of the answer.
func (r *rig) post(route, contentType string, body []byte) (int, []byte) {
	r.t.Helper()
	return r.do(slackfake.Request(r.srv.URL+route, testSecret, contentType, body))
}

func (r *rig) do(req *http.Request) (int, []byte) {
	r.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// commandForm is a slash command as Slack posts it.
func commandForm(text, responseURL string) url.Values {
	return url.Values{
		"token": {"gIkuvaNzQIHg97ATvDxqgjtO"}, "team_id": {testTeam}, "team_domain": {"example"},
		"channel_id": {testChannel}, "channel_name": {"support"}, "user_id": {testAgent}, "user_name": {"alice"},
		"command": {"/remote"}, "text": {text}, "api_app_id": {"A0APP"}, "is_enterprise_install": {"false"},
		"response_url": {responseURL}, "trigger_id": {"13345224609.738474920.8088930838d88f008e0"},
	}
}

// command runs a slash command and decodes Slack's answer.
func (r *rig) command(form url.Values) (int, answer) {
	r.t.Helper()
	code, body := r.post("/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()))
	var a answer
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &a); err != nil {
			r.t.Fatalf("answer %s: %v", body, err)
		}
	}
	a.raw = string(body)
	return code, a
}

// answer is a message as the tests read it.
type answer struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
	Blocks       []struct {
		Type     string                 `json:"type"`
		BlockID  string                 `json:"block_id"`
		Text     *struct{ Text string } `json:"text"`
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Style    string `json:"style"`
			Text     any    `json:"text"`
		} `json:"elements"`
	} `json:"blocks"`
	raw string
}

// button returns the value of the button actionID, or "".
func (a answer) button(actionID string) string {
	for _, b := range a.Blocks {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return e.Value
			}
		}
	}
	return ""
}

// click posts a block_actions payload: user pressed actionID with value
// on a message in channel (ephemeral for a card).
func (r *rig) click(user, actionID, value, channel, responseURL string, ephemeral bool) int {
	r.t.Helper()
	return r.interact(clickPayload(user, actionID, value, channel, responseURL, ephemeral))
}

// clickPayload is the block_actions payload of r.click, for tests that
// change it before sending.
func clickPayload(user, actionID, value, channel, responseURL string, ephemeral bool) map[string]any {
	blockID := blockCard
	if !ephemeral {
		blockID = blockAlert
	}
	payload := map[string]any{
		"type": "block_actions", "team": map[string]any{"id": testTeam, "domain": "example"},
		"user":       map[string]any{"id": user, "username": "alice", "name": "alice", "team_id": testTeam},
		"api_app_id": "A0APP", "token": "legacy", "trigger_id": "1.2.3",
		"container":    map[string]any{"type": "message", "message_ts": "1700000000.000001", "channel_id": channel, "is_ephemeral": ephemeral},
		"channel":      map[string]any{"id": channel, "name": "support"},
		"response_url": responseURL,
		"actions": []map[string]any{{"action_id": actionID, "block_id": blockID, "value": value, "type": "button",
			"text": map[string]any{"type": "plain_text", "text": "x"}, "action_ts": "1700000001.000001"}},
	}
	return payload
}

func (r *rig) interact(payload any) int {
	r.t.Helper()
	raw, err := json.Marshal(payload)
	if err != nil {
		r.t.Fatal(err)
	}
	code, _ := r.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(raw)}}.Encode()))
	return code
}

// event posts an Events API callback.
func (r *rig) event(id string, inner map[string]any) int {
	r.t.Helper()
	return r.eventFrom(testTeam, id, inner, nil)
}

// eventFrom posts an Events API callback from workspace team, with extra
// headers (Slack's X-Slack-Retry-Num on a retry).
func (r *rig) eventFrom(team, id string, inner map[string]any, header http.Header) int {
	r.t.Helper()
	body, _ := json.Marshal(map[string]any{"token": "legacy", "team_id": team, "api_app_id": "A0APP",
		"type": "event_callback", "event_id": id, "event_time": 1700000000, "event": inner})
	req := slackfake.Request(r.srv.URL+"/slack/events", testSecret, "application/json", body)
	for k, v := range header {
		req.Header[k] = v
	}
	code, _ := r.do(req)
	return code
}

// sessions returns every session in the store.
func (r *rig) sessions() []*core.Session {
	r.t.Helper()
	ss, err := r.engine.Sessions(ctx, core.SessionFilter{})
	if err != nil {
		r.t.Fatal(err)
	}
	return ss
}

// slowProvider makes the provider hold every PIN (246810) until the
// returned function is called, or the test ends: a test that fails before
// it releases the provider must not leave the command waiting until the
// test binary times out.
func (r *rig) slowProvider() (release func()) {
	held := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	r.t.Cleanup(release) // before the rig stops, which waits for the work
	r.provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		<-held
		return core.Ticket{PIN: "246810", DesktopURL: "https://support.example.com/?code=246810",
			MobileURL: "https://support.example.com/m/246810", ManualURL: "https://support.example.com/"}, nil
	}
	return release
}

// eventually polls cond until it holds or the test's patience runs out.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

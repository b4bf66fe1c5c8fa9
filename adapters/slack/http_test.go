package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// TestSlashCommandCard runs /remote @customer as Slack sends it and reads
// the card Slack shows the agent: the answer itself, ephemeral, with the
// PIN, the links, the expiry and the buttons, made without any Web API
// call.
func TestSlashCommandCard(t *testing.T) {
	r := newRig(t)
	eventually(t, "agents loaded", func() bool { return len(r.fake.Calls("conversations.members")) > 0 })
	before := len(r.fake.Calls(""))
	code, a := r.command(commandForm("<@"+customerID+"|pat>", r.fake.ResponseURL("cmd1")))
	if code != http.StatusOK || a.ResponseType != "ephemeral" {
		t.Fatalf("answer %d: %s", code, a.raw)
	}
	ss := r.sessions()
	if len(ss) != 1 {
		t.Fatalf("%d sessions", len(ss))
	}
	s := ss[0]
	for _, want := range []string{"PIN " + s.PIN, s.DesktopURL, s.MobileURL, "Customer: pat", "<!date^" + strconv.FormatInt(s.PINExpiresAt.Unix(), 10) + "^{time}|"} {
		if !strings.Contains(a.raw, want) {
			t.Errorf("card lacks %q: %s", want, a.raw)
		}
	}
	for _, id := range []string{"remote.send_desktop", "remote.send_mobile", "remote.regenerate", "remote.close"} {
		if v := a.button(id); !strings.HasPrefix(v, s.ID+".") {
			t.Errorf("button %s value %q does not name the session", id, v)
		}
	}
	if n := len(r.fake.Calls("")); n != before {
		t.Errorf("the command made %d Web API calls before answering", n-before)
	}
	c, err := r.engine.Conversation(ctx, s.ConversationID)
	if err != nil || c.Customer != (core.Endpoint{Channel: core.ChannelSlack, Address: customerID}) || c.CustomerName != "pat" ||
		c.Desk != (core.Endpoint{Channel: core.ChannelSlack, Address: testDesk}) || s.Agent != "alice" {
		t.Errorf("conversation %+v, agent %q", c, s.Agent)
	}
}

// TestSlashCommandAnswers covers the command's grammar: every answer but
// the card is an ephemeral sentence, and nothing is issued.
func TestSlashCommandAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, text, channel string
		edit                func(*Options)
		conv                *slackfake.Conversation // what conversations.info says of testChannel
		fault               *slackfake.Fault        // of conversations.info
		want                string
	}{
		{name: "help", text: "help", want: "/remote starts remote support"},
		{name: "nonsense", text: "please fix it", want: "Use /remote @customer"},
		{name: "unlinked name", text: "@pat", want: "Slack did not link @pat to a person"},
		{name: "sms disabled", text: "+12015550123", edit: func(o *Options) { o.SMS = false }, want: "Text messages are not set up here"},
		{name: "invalid number", text: "+1 555 123 4567", want: "is not a valid phone number"},
		{name: "alone in a DM", text: "", channel: "D0DM", want: "In a direct message, say who the customer is"},
		{name: "alone in the desk", text: "", channel: testDesk, want: "use the Remote support button"},
		// Alone in a channel, the channel is the customer only when it is
		// shared with another organisation and the app can post in it.
		{name: "alone in an agents' channel", text: "", conv: &slackfake.Conversation{IsMember: true}, want: "Use /remote @customer"},
		{name: "alone in a private agents' channel", text: "", conv: &slackfake.Conversation{IsPrivate: true, IsMember: true}, want: "Use /remote @customer"},
		{name: "alone in a channel shared within the organisation", text: "", conv: &slackfake.Conversation{IsShared: true, IsOrgShared: true, IsMember: true}, want: "Use /remote @customer"},
		{name: "alone in a shared channel without the app", text: "", conv: &slackfake.Conversation{IsExtShared: true}, want: "assistbot is not in that conversation"},
		{name: "alone in a private channel without the app", text: "", want: "assistbot is not in that conversation"},
		{name: "alone, Slack unreachable", text: "", conv: &slackfake.Conversation{IsExtShared: true, IsMember: true},
			fault: &slackfake.Fault{Status: http.StatusServiceUnavailable}, want: "assistbot cannot tell whether this channel is shared with a customer because Slack did not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var edits []func(*Options)
			if tc.edit != nil {
				edits = append(edits, tc.edit)
			}
			r := newRig(t, edits...)
			if tc.conv != nil {
				r.fake.SetConversation(testChannel, *tc.conv)
			}
			if tc.fault != nil {
				r.fake.Fail("conversations.info", *tc.fault)
			}
			form := commandForm(tc.text, r.fake.ResponseURL("cmd"))
			if tc.channel != "" {
				form.Set("channel_id", tc.channel)
			}
			code, a := r.command(form)
			if code != http.StatusOK || a.ResponseType != "ephemeral" || !strings.Contains(a.Text, tc.want) || len(a.Blocks) != 0 {
				t.Errorf("answer %d %s, want %q", code, a.raw, tc.want)
			}
			if n := len(r.sessions()); n != 0 {
				t.Errorf("%d sessions issued", n)
			}
		})
	}
}

// TestSlashCommandSMS issues for a customer typed as a phone number and
// sends the mobile link at once when the agent says "mobile".
func TestSlashCommandSMS(t *testing.T) {
	r := newRig(t)
	code, a := r.command(commandForm("(201) 555-0123 mobile", r.fake.ResponseURL("cmd")))
	if code != http.StatusOK || !strings.Contains(a.raw, "Link sent") {
		t.Fatalf("answer %d: %s", code, a.raw)
	}
	eventually(t, "sms delivered", func() bool { return len(r.sms.Delivered()) == 1 })
	d := r.sms.Delivered()[0]
	if d.To.Address != "+12015550123" || d.Notice.LinkKind != core.LinkMobile {
		t.Errorf("delivered %+v", d)
	}
}

// TestSlashCommandChannelCustomer issues for the channel itself when the
// command names nobody in a channel shared with the customer's
// organisation (Slack Connect) that the app is in. Slack is asked once:
// the next command in the same channel needs no lookup.
func TestSlashCommandChannelCustomer(t *testing.T) {
	r := newRig(t)
	r.fake.SetConversation(testChannel, slackfake.Conversation{IsExtShared: true, IsMember: true})
	for range 2 {
		if code, a := r.command(commandForm("", r.fake.ResponseURL("cmd"))); code != http.StatusOK || !strings.Contains(a.raw, "PIN ") {
			t.Fatalf("answer %d: %s", code, a.raw)
		}
	}
	c, _ := r.engine.Conversation(ctx, r.sessions()[0].ConversationID)
	if c.Customer != (core.Endpoint{Channel: core.ChannelSlack, Address: testChannel}) || c.CustomerName != "#support" {
		t.Errorf("conversation %+v", c)
	}
	if calls := r.fake.Calls("conversations.info"); len(calls) != 1 || calls[0].Field("channel") != testChannel {
		t.Errorf("conversations.info calls: %v", calls)
	}
	if c.Desk != (core.Endpoint{Channel: core.ChannelSlack, Address: testDesk}) {
		t.Errorf("desk %v, want the desk channel", c.Desk)
	}
}

// TestChannelCustomerWithoutDesk: with no desk channel, the alerts of a
// conversation whose customer is a shared channel go to the agent's DM,
// never into the channel the customer's organisation reads.
func TestChannelCustomerWithoutDesk(t *testing.T) {
	r := newRig(t, func(o *Options) { o.DeskChannel = "" })
	r.fake.SetConversation(testChannel, slackfake.Conversation{IsExtShared: true, IsMember: true})
	if code, a := r.command(commandForm("", r.fake.ResponseURL("cmd"))); code != http.StatusOK || !strings.Contains(a.raw, "PIN ") {
		t.Fatalf("answer %d: %s", code, a.raw)
	}
	c, _ := r.engine.Conversation(ctx, r.sessions()[0].ConversationID)
	if c.Customer.Address != testChannel || c.Desk != (core.Endpoint{Channel: core.ChannelSlack, Address: testAgent}) {
		t.Errorf("customer %v, desk %v: want the alerts in the agent's DM", c.Customer, c.Desk)
	}
}

// TestSlashCommandSlowChannelLookup: when Slack is slow to say what the
// channel is, the agent is answered "Getting a PIN…" in time, and the
// explanation replaces it through the response_url.
func TestSlashCommandSlowChannelLookup(t *testing.T) {
	r := newRig(t)
	r.a.budget = 50 * time.Millisecond
	r.fake.SetConversation(testChannel, slackfake.Conversation{IsMember: true})
	release := r.fake.Hold("conversations.info")
	t.Cleanup(release)
	code, a := r.command(commandForm("", r.fake.ResponseURL("slow-lookup")))
	if code != http.StatusOK || !strings.Contains(a.Text, "Getting a PIN") {
		t.Fatalf("first answer %d: %s", code, a.raw)
	}
	release()
	c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "slow-lookup" })
	if c.Field("replace_original") != "true" || !strings.HasPrefix(c.Field("text"), "Use /remote @customer") || c.Field("blocks") != "" {
		t.Errorf("late answer %v", c.JSON)
	}
	if n := len(r.sessions()); n != 0 {
		t.Errorf("%d sessions issued", n)
	}
}

// TestSlashCommandColdAgentList: the first command after a start waits
// for the list of agents; that wait counts against Slack's 3 seconds, so
// when it used the ack budget up the agent is answered "Getting a PIN…"
// at once and the card follows, rather than the card coming late.
func TestSlashCommandColdAgentList(t *testing.T) {
	r := unstartedRig(t)
	r.a.budget = 200 * time.Millisecond
	release := r.fake.Hold("conversations.members") // before the adapter's first load
	t.Cleanup(release)
	r.start()
	r.provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		time.Sleep(100 * time.Millisecond) // within a budget of its own
		return core.Ticket{PIN: "246810", DesktopURL: "https://support.example.com/?code=246810",
			MobileURL: "https://support.example.com/m/246810", ManualURL: "https://support.example.com/"}, nil
	}
	// The list loads well after the budget and well before the cold
	// wait (agentsColdWait) gives up.
	time.AfterFunc(agentsColdWait/2, release)
	code, a := r.command(commandForm("<@"+customerID+">", r.fake.ResponseURL("cold")))
	if code != http.StatusOK || !strings.Contains(a.Text, "Getting a PIN") {
		t.Fatalf("first answer %d: %s", code, a.raw)
	}
	c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "cold" })
	if !strings.Contains(c.Field("blocks"), "PIN 246810") {
		t.Errorf("late card %v", c.JSON)
	}
}

// TestRefusedRequests sends what Slack would never send: each is refused
// before anything is parsed or done, with the status that says why.
func TestRefusedRequests(t *testing.T) {
	r := newRig(t)
	body := []byte(commandForm("<@"+customerID+">", r.fake.ResponseURL("x")).Encode())
	signed := func(secret string, at time.Time, b []byte) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/slack/commands", bytes.NewReader(b))
		for k, v := range slackfake.Sign(secret, at, b) {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	tampered := signed(testSecret, time.Now(), body)
	tampered.Body = http.NoBody
	tampered.ContentLength = 0
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
	}{
		{"unsigned", func() *http.Request {
			q := signed(testSecret, time.Now(), body)
			q.Header.Del("X-Slack-Signature")
			return q
		}(), http.StatusUnauthorized},
		{"stale timestamp", signed(testSecret, time.Now().Add(-6*time.Minute), body), http.StatusUnauthorized},
		{"future timestamp", signed(testSecret, time.Now().Add(6*time.Minute), body), http.StatusUnauthorized},
		{"wrong secret", signed("not-the-secret", time.Now(), body), http.StatusUnauthorized},
		{"body changed after signing", tampered, http.StatusUnauthorized},
		{"oversize", signed(testSecret, time.Now(), bytes.Repeat([]byte("a"), maxCommandBody+1)), http.StatusRequestEntityTooLarge},
		{"malformed form", signed(testSecret, time.Now(), []byte("team_id=T0TEAM&text=%zz&user_id=U1&channel_id=C1&command=/remote")), http.StatusBadRequest},
		{"missing fields", signed(testSecret, time.Now(), []byte("text=hello")), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, b := r.do(tc.req); code != tc.want {
				t.Errorf("status %d (%s), want %d", code, b, tc.want)
			}
		})
	}
	for _, route := range []string{"/slack/interactions", "/slack/events"} {
		req := signed("not-the-secret", time.Now(), []byte(`{"type":"url_verification","challenge":"x"}`))
		req.URL, _ = url.Parse(r.srv.URL + route)
		if code, _ := r.do(req); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong secret: %d", route, code)
		}
	}
	for name, body := range map[string]string{
		"interaction without payload": "nothing=here",
		"interaction not JSON":        "payload=%7Bnot+json",
	} {
		if code, _ := r.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(body)); code != http.StatusBadRequest {
			t.Errorf("%s: %d", name, code)
		}
	}
	for name, body := range map[string]string{
		"event not JSON":              "{",
		"event without type":          `{"team_id":"T0TEAM"}`,
		"callback without event":      `{"type":"event_callback","team_id":"T0TEAM"}`,
		"verification without string": `{"type":"url_verification"}`,
	} {
		if code, _ := r.post("/slack/events", "application/json", []byte(body)); code != http.StatusBadRequest {
			t.Errorf("%s: %d", name, code)
		}
	}
	if n := len(r.sessions()); n != 0 {
		t.Errorf("%d sessions issued by refused requests", n)
	}
}

// TestRefusalLoggedOnce checks the operator's side of a refusal: one
// line, saying why, without the signature.
func TestRefusalLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	r := newRig(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&buf, nil)) })
	req := slackfake.Request(r.srv.URL+"/slack/commands", "wrong", "application/x-www-form-urlencoded", []byte("a=b"))
	if code, _ := r.do(req); code != http.StatusUnauthorized {
		t.Fatalf("status %d", code)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if strings.Contains(l, "refused") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "signature does not match") || strings.Contains(lines[0], req.Header.Get("X-Slack-Signature")[3:]) {
		t.Errorf("log lines: %q", lines)
	}
}

// TestResponseURLNotLogged: a response_url that fails (the connection
// drops) is logged by its host alone: its path lets anyone post to the
// agent's card for half an hour.
func TestResponseURLNotLogged(t *testing.T) {
	var buf bytes.Buffer
	r := newRig(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&buf, nil)) })
	r.fake.Fail("response_url", slackfake.Fault{Drop: true}, slackfake.Fault{Drop: true})
	hook := r.fake.ResponseURL("SECRET-HOOK-TOKEN")
	r.click(stranger, "remote.close", "x.y", testChannel, hook, true)
	eventually(t, "the failed answer logged", func() bool { return strings.Contains(buf.String(), "answer a click") })
	if strings.Contains(buf.String(), "SECRET-HOOK-TOKEN") {
		t.Errorf("the response_url is in the log:\n%s", buf.String())
	}
}

// TestSSLCheck answers Slack's certificate check of the command URL,
// which may come unsigned, and does nothing else.
func TestSSLCheck(t *testing.T) {
	r := newRig(t)
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/slack/commands", strings.NewReader("ssl_check=1&token=legacy"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, b := r.do(req); code != http.StatusOK || len(b) != 0 {
		t.Errorf("ssl_check: %d %q", code, b)
	}
	// Only the exact value: anything else must still be signed.
	req, _ = http.NewRequest(http.MethodPost, r.srv.URL+"/slack/commands", strings.NewReader("ssl_check=true&"+commandForm("", "").Encode()))
	if code, _ := r.do(req); code != http.StatusUnauthorized {
		t.Errorf("ssl_check=true unsigned: %d", code)
	}
}

// TestForeignTeamAndStranger: a workspace not allowed, and a member who
// is not an agent, get an ephemeral refusal and nothing is issued.
func TestForeignTeamAndStranger(t *testing.T) {
	r := newRig(t, func(o *Options) { o.AllowedTeams = []string{testTeam} })
	form := commandForm("<@"+customerID+">", r.fake.ResponseURL("x"))
	form.Set("team_id", "T0OTHER")
	if code, a := r.command(form); code != http.StatusOK || !strings.Contains(a.Text, "workspace is not allowed") {
		t.Errorf("foreign team: %d %s", code, a.raw)
	}
	form = commandForm("<@"+customerID+">", r.fake.ResponseURL("x"))
	form.Set("user_id", stranger)
	if code, a := r.command(form); code != http.StatusOK || a.Text != "Only support agents can do that here." {
		t.Errorf("stranger: %d %s", code, a.raw)
	}
	if n := len(r.sessions()); n != 0 {
		t.Errorf("%d sessions issued", n)
	}
}

// TestAgentGroup lets members of the configured user group act, besides
// the desk channel's.
func TestAgentGroup(t *testing.T) {
	r := newRig(t, func(o *Options) { o.AgentGroup = "S0AGENTS" })
	form := commandForm("<@"+customerID+">", r.fake.ResponseURL("x"))
	form.Set("user_id", "U0GROUPIE")
	if code, a := r.command(form); code != http.StatusOK || !strings.Contains(a.raw, "PIN ") {
		t.Errorf("group member: %d %s", code, a.raw)
	}
}

// TestSlowProvider: when the provider takes longer than Slack waits, the
// agent is answered at once and the card replaces that answer.
func TestSlowProvider(t *testing.T) {
	r := newRig(t)
	r.a.budget = 50 * time.Millisecond
	unblock := r.slowProvider()
	code, a := r.command(commandForm("<@"+customerID+">", r.fake.ResponseURL("slow")))
	if code != http.StatusOK || !strings.Contains(a.Text, "Getting a PIN") {
		t.Fatalf("first answer %d: %s", code, a.raw)
	}
	unblock()
	c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "slow" })
	if c.Field("replace_original") != "true" || !strings.Contains(c.Field("blocks"), "PIN 246810") {
		t.Errorf("late card %v", c.JSON)
	}
}

// TestForeignTeamInteractions: with slack.allowed_teams set, a card click
// and the message shortcut from another workspace are refused, even when
// the user's ID is on the desk's member list (user IDs are only unique
// within a workspace), and change nothing. Unlike the slash command, a
// click has no workspace check of its own: agents.allowed is the only one.
func TestForeignTeamInteractions(t *testing.T) {
	r := newRig(t, func(o *Options) { o.AllowedTeams = []string{testTeam} })
	card, s := r.issueCard("cmd")
	foreign := func(p map[string]any) map[string]any {
		p["team"] = map[string]any{"id": "T0OTHER", "domain": "other"}
		p["user"] = map[string]any{"id": testAgent, "name": "alice", "team_id": "T0OTHER"}
		return p
	}
	const refused = "This Slack workspace is not allowed to use remote support."

	click := clickPayload(testAgent, remote.ActionSendDesktop, card.button(remote.ActionSendDesktop), testChannel, r.fake.ResponseURL("foreign-click"), true)
	if code := r.interact(foreign(click)); code != http.StatusOK {
		t.Fatalf("click: %d", code)
	}
	c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "foreign-click" })
	if c.Field("response_type") != "ephemeral" || c.Field("replace_original") != "false" || c.Field("text") != refused {
		t.Errorf("click answered %v", c.JSON)
	}

	shortcut := map[string]any{
		"type": "message_action", "callback_id": ShortcutID, "channel": map[string]any{"id": testChannel},
		"message":      map[string]any{"type": "message", "user": customerID, "text": "my screen is black", "ts": "1700000000.000500"},
		"response_url": r.fake.ResponseURL("foreign-shortcut"), "trigger_id": "1.2.3", "action_ts": "1700000001.1",
	}
	if code := r.interact(foreign(shortcut)); code != http.StatusOK {
		t.Fatalf("shortcut: %d", code)
	}
	c = r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "foreign-shortcut" })
	if c.Field("text") != refused || strings.Contains(c.Field("blocks"), "remote.send_desktop") {
		t.Errorf("shortcut answered %v", c.JSON)
	}

	if got, _ := r.engine.Session(ctx, s.ID); got.State != core.StateIssued {
		t.Errorf("state %s after a foreign click", got.State)
	}
	if ss := r.sessions(); len(ss) != 1 {
		t.Errorf("%d sessions, want only the command's", len(ss))
	}
	if n := len(r.fake.Calls("chat.postMessage")); n != 0 {
		t.Errorf("%d messages posted", n)
	}
}

// TestOversizePayloads: an interaction or an event over the 1 MB limit is
// refused with 413 before it is verified or read further, whether the
// request says its length or is sent in chunks, and nothing is done,
// although the payload is otherwise one that would be acted on.
func TestOversizePayloads(t *testing.T) {
	r := newRig(t)
	card, s := r.issueCard("cmd")
	pad := strings.Repeat("a", maxPayloadBody)
	click := clickPayload(testAgent, remote.ActionSendDesktop, card.button(remote.ActionSendDesktop), testChannel, r.fake.ResponseURL("big"), true)
	click["message"] = map[string]any{"type": "message", "text": pad, "ts": "1700000000.000001"}
	rawClick, _ := json.Marshal(click)
	rawEvent, _ := json.Marshal(map[string]any{"token": "legacy", "team_id": testTeam, "api_app_id": "A0APP",
		"type": "event_callback", "event_id": "EvBig", "event_time": 1700000000,
		"event": map[string]any{"type": "message", "channel": "D0CUST", "channel_type": "im", "user": customerID, "text": pad, "ts": "1700000000.000700"}})
	for _, tc := range []struct {
		route, contentType string
		body               []byte
	}{
		{"/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(rawClick)}}.Encode())},
		{"/slack/events", "application/json", rawEvent},
	} {
		for _, chunked := range []bool{false, true} {
			req := slackfake.Request(r.srv.URL+tc.route, testSecret, tc.contentType, tc.body)
			if chunked {
				req.ContentLength = -1 // no length: the limit applies while reading
			}
			if code, b := r.do(req); code != http.StatusRequestEntityTooLarge {
				t.Errorf("%s (%d bytes, chunked %v): %d %s", tc.route, len(tc.body), chunked, code, b)
			}
		}
	}
	if got, _ := r.engine.Session(ctx, s.ID); got.State != core.StateIssued {
		t.Errorf("state %s after an oversize click", got.State)
	}
	if convs, _ := r.engine.Conversations(ctx, core.ConversationFilter{}); len(convs) != 1 {
		t.Errorf("%d conversations after an oversize event", len(convs))
	}
	if n := len(r.fake.Calls("chat.postMessage")) + len(r.fake.Calls("response_url")); n != 0 {
		t.Errorf("%d messages posted", n)
	}
}

// A signed request whose Content-Type is not what Slack sends that route
// is refused with 415 and changes nothing: a command sent as JSON is not
// read as a form.
func TestUnsupportedContentType(t *testing.T) {
	r := newRig(t)
	form := []byte(commandForm("<@U0CUSTOMER|pat>", "https://hooks.slack.com/commands/T0TEAM/1/x").Encode())
	for _, tc := range []struct{ route, contentType string }{
		{"/slack/commands", "application/json"},
		{"/slack/commands", "text/plain"},
		{"/slack/commands", ""},
		{"/slack/interactions", "application/json"},
		{"/slack/events", "application/x-www-form-urlencoded"},
	} {
		code, body := r.post(tc.route, tc.contentType, form)
		if code != http.StatusUnsupportedMediaType {
			t.Errorf("%s as %q: status %d (%s), want 415", tc.route, tc.contentType, code, body)
		}
	}
	if n := len(r.sessions()); n != 0 {
		t.Errorf("%d sessions were issued from refused requests", n)
	}
	// What Slack does send still works, parameters included.
	if code, _ := r.post("/slack/commands", "application/x-www-form-urlencoded; charset=utf-8", form); code != http.StatusOK {
		t.Errorf("a form command with a charset: status %d", code)
	}
}

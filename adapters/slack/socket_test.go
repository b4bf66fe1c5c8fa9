package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// newSocketRig is a rig in Socket Mode (an app-level token, no signing
// secret), connected to the fake.
func newSocketRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t, func(o *Options) { o.SigningSecret, o.AppToken = "", "xapp-test-token" })
	r.fake.WaitConnected(t, wait)
	return r
}

// socketCommand is a slash command's Socket Mode payload.
func socketCommand(text, responseURL string) map[string]any {
	return map[string]any{"token": "legacy", "team_id": testTeam, "team_domain": "example", "channel_id": testChannel,
		"channel_name": "support", "user_id": testAgent, "user_name": "alice", "command": "/remote",
		"text": text, "api_app_id": "A0APP", "is_enterprise_install": "false",
		"response_url": responseURL, "trigger_id": "1.2.3"}
}

// TestSocketMode runs the app with an app-level token and no signing
// secret: it opens a connection through apps.connections.open (the fake
// points it at its own WebSocket), and a slash command, a click and an
// event arriving there go through the same handlers as over HTTP, each
// acknowledged; the command's card travels in the acknowledgement.
func TestSocketMode(t *testing.T) {
	r := newSocketRig(t)
	if c := r.fake.Calls("apps.connections.open"); len(c) == 0 {
		t.Fatal("no apps.connections.open")
	}

	cmd := socketCommand("<@"+customerID+"|pat>", r.fake.ResponseURL("sock-cmd"))
	ack := r.fake.WaitAck(t, r.fake.Send(t, "slash_commands", cmd), wait)
	var card answer
	if err := json.Unmarshal(ack, &card); err != nil || card.ResponseType != "ephemeral" || card.button(remote.ActionSendMobile) == "" {
		t.Fatalf("command ack %s (%v)", ack, err)
	}
	ss := r.sessions()
	if len(ss) != 1 || !strings.Contains(string(ack), "PIN "+ss[0].PIN) {
		t.Fatalf("sessions %v, ack %s", ss, ack)
	}

	click := map[string]any{
		"type": "block_actions", "team": map[string]any{"id": testTeam}, "user": map[string]any{"id": testAgent, "name": "alice"},
		"container": map[string]any{"type": "message", "message_ts": "1700000000.000001", "channel_id": testChannel, "is_ephemeral": true},
		"channel":   map[string]any{"id": testChannel}, "response_url": r.fake.ResponseURL("sock-click"),
		"actions": []map[string]any{{"action_id": remote.ActionSendMobile, "block_id": blockCard, "value": card.button(remote.ActionSendMobile), "type": "button"}},
	}
	r.fake.WaitAck(t, r.fake.Send(t, "interactive", click), wait)
	r.fake.Wait(t, "chat.postMessage", wait, func(c slackfake.Call) bool {
		return c.Field("channel") == customerID && strings.Contains(c.Field("text"), ss[0].MobileURL)
	})

	conv := r.smsConversation("1700000000.000100")
	ev := map[string]any{"token": "legacy", "team_id": testTeam, "type": "event_callback", "event_id": "EvSock",
		"event": threadReply(testAgent, "hello from the desk", "1700000000.000200", "1700000000.000100")}
	r.fake.WaitAck(t, r.fake.Send(t, "events_api", ev), wait)
	eventually(t, "relayed", func() bool {
		msgs, _ := r.engine.Messages(ctx, core.MessageFilter{ConversationID: conv.ID})
		return len(msgs) == 1
	})
}

// TestSocketEventAckedEarly: an event whose work outlasts the ack budget
// (here the customer's profile, from a users.info that Slack is slow to
// answer) is acknowledged before the work is done, as over HTTP, so that
// Slack does not send it again; the work then completes.
func TestSocketEventAckedEarly(t *testing.T) {
	r := newSocketRig(t)
	r.a.budget = 50 * time.Millisecond
	release := r.fake.Hold("users.info")
	t.Cleanup(release) // before the rig stops, which waits for the work
	ev := map[string]any{"token": "legacy", "team_id": testTeam, "type": "event_callback", "event_id": "EvSlow",
		"event": map[string]any{"type": "message", "channel": "D0CUST", "channel_type": "im", "user": customerID, "text": "it still crashes", "ts": "1700000000.000700"}}
	r.fake.WaitAck(t, r.fake.Send(t, "events_api", ev), wait)
	if convs, _ := r.engine.Conversations(ctx, core.ConversationFilter{}); len(convs) != 0 {
		t.Fatalf("the work was done before the ack (%d conversations): the test proves nothing", len(convs))
	}
	release()
	msg := r.fake.Wait(t, "chat.postMessage", wait, func(c slackfake.Call) bool { return c.Field("thread_ts") != "" })
	if msg.Field("channel") != testDesk || msg.Field("text") != "Pat: it still crashes" {
		t.Errorf("desk got %v", msg.Form)
	}
	if n := len(r.fake.Calls("socket_ack")); n != 1 {
		t.Errorf("%d acknowledgements, want 1", n)
	}
}

// TestSocketSlowProvider: over Socket Mode too, a slash command whose PIN
// takes longer than Slack waits is acknowledged at once with "Getting a
// PIN…", and the card replaces that through the command's response_url.
func TestSocketSlowProvider(t *testing.T) {
	r := newSocketRig(t)
	r.a.budget = 50 * time.Millisecond
	unblock := r.slowProvider()
	ack := r.fake.WaitAck(t, r.fake.Send(t, "slash_commands", socketCommand("<@"+customerID+">", r.fake.ResponseURL("sock-slow"))), wait)
	var first answer
	if err := json.Unmarshal(ack, &first); err != nil || first.ResponseType != "ephemeral" || !strings.Contains(first.Text, "Getting a PIN") {
		t.Fatalf("ack %s (%v)", ack, err)
	}
	unblock()
	c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "sock-slow" })
	if c.Field("replace_original") != "true" || !strings.Contains(c.Field("blocks"), "PIN 246810") {
		t.Errorf("late card %v", c.JSON)
	}
	if n := len(r.fake.Calls("socket_ack")); n != 1 {
		t.Errorf("%d acknowledgements, want 1", n)
	}
}

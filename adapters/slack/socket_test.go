package slack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// TestSocketMode runs the app with an app-level token and no signing
// secret: it opens a connection through apps.connections.open (the fake
// points it at its own WebSocket), and a slash command, a click and an
// event arriving there go through the same handlers as over HTTP, each
// acknowledged; the command's card travels in the acknowledgement.
func TestSocketMode(t *testing.T) {
	r := newRig(t, func(o *Options) { o.SigningSecret, o.AppToken = "", "xapp-test-token" })
	r.fake.WaitConnected(t, wait)
	if c := r.fake.Calls("apps.connections.open"); len(c) == 0 {
		t.Fatal("no apps.connections.open")
	}

	cmd := map[string]any{"token": "legacy", "team_id": testTeam, "team_domain": "example", "channel_id": testChannel,
		"channel_name": "support", "user_id": testAgent, "user_name": "alice", "command": "/remote",
		"text": "<@" + customerID + "|pat>", "api_app_id": "A0APP", "is_enterprise_install": "false",
		"response_url": r.fake.ResponseURL("sock-cmd"), "trigger_id": "1.2.3"}
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

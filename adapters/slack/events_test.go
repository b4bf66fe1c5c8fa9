package slack

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/core"
)

// TestURLVerification answers Slack's check of the events URL.
func TestURLVerification(t *testing.T) {
	r := newRig(t)
	code, body := r.post("/slack/events", "application/json", []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`))
	if code != http.StatusOK || string(body) != `{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}` {
		t.Errorf("%d %s", code, body)
	}
}

// smsConversation opens an SMS customer's conversation whose desk thread
// is root in the desk channel, as the relay leaves it.
func (r *rig) smsConversation(root string) *core.Conversation {
	r.t.Helper()
	_, conv, err := r.engine.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"},
		Desk: core.Endpoint{Channel: core.ChannelSlack, Address: testDesk}, Agent: "alice"})
	if err != nil {
		r.t.Fatal(err)
	}
	conv.DeskThread = root
	if err := r.store.UpdateConversation(ctx, conv); err != nil {
		r.t.Fatal(err)
	}
	return conv
}

func threadReply(user, text, ts, thread string) map[string]any {
	return map[string]any{"type": "message", "channel": testDesk, "channel_type": "channel", "user": user,
		"text": text, "ts": ts, "thread_ts": thread, "event_ts": ts}
}

// TestAgentReplyRelayed: an agent's reply in a conversation's desk thread
// goes to the customer once, however often Slack delivers the event, in
// plain words; chatter that is not a relayed conversation's stays put.
func TestAgentReplyRelayed(t *testing.T) {
	r := newRig(t)
	conv := r.smsConversation("1700000000.000100")
	r.fake.SetUser(testAgent, User("Alice", "en-US"))
	ev := threadReply(testAgent, "Please open <https://support.example.com/|our page> &amp; press Start", "1700000000.000200", "1700000000.000100")
	for range 2 { // Slack's retry carries the same event_id
		if code := r.event("Ev01", ev); code != http.StatusOK {
			t.Fatalf("event: %d", code)
		}
	}
	eventually(t, "relayed", func() bool { return len(r.sms.Delivered()) >= 1 })
	msgs, _ := r.engine.Messages(ctx, core.MessageFilter{ConversationID: conv.ID})
	if len(msgs) != 1 || msgs[0].Text != "Please open our page (https://support.example.com/) & press Start" || msgs[0].Author != "Alice" || msgs[0].Direction != core.FromAgent {
		t.Fatalf("transcript %+v", msgs)
	}
	// The same message under another event ID (another subscription).
	r.event("Ev02", ev)
	for _, tc := range []struct {
		name string
		ev   map[string]any
	}{
		{"from a bot", map[string]any{"type": "message", "channel": testDesk, "bot_id": "B1", "text": "beep", "ts": "1700000000.000300", "thread_ts": "1700000000.000100"}},
		{"an edit", map[string]any{"type": "message", "subtype": "message_changed", "channel": testDesk, "ts": "1700000000.000400", "message": map[string]any{"user": testAgent, "text": "x"}}},
		{"another thread", threadReply(testAgent, "lunch?", "1700000000.000500", "1700000000.000099")},
		{"the root itself", threadReply(testAgent, "root", "1700000000.000100", "1700000000.000100")},
		{"not an agent", threadReply(stranger, "hi", "1700000000.000600", "1700000000.000100")},
	} {
		if code := r.event("Ev-"+tc.name, tc.ev); code != http.StatusOK {
			t.Errorf("%s: %d", tc.name, code)
		}
	}
	msgs, _ = r.engine.Messages(ctx, core.MessageFilter{ConversationID: conv.ID})
	if len(msgs) != 1 {
		t.Errorf("%d messages relayed", len(msgs))
	}
}

// TestReplyNotRelayed tells the agent when a reply cannot reach the
// customer.
func TestReplyNotRelayed(t *testing.T) {
	r := newRig(t)
	conv := r.smsConversation("1700000000.000100")
	if _, err := r.engine.CloseConversation(ctx, conv.ID, core.Actor{Kind: core.ActorAgent}); err != nil {
		t.Fatal(err)
	}
	r.event("Ev1", threadReply(testAgent, "still there?", "1700000000.000200", "1700000000.000100"))
	c := r.fake.Wait(t, "chat.postEphemeral", wait, nil)
	if c.Field("user") != testAgent || c.Field("thread_ts") != "1700000000.000100" ||
		c.Field("text") != "Your reply was not sent to the customer. That request is not valid: the conversation is closed" {
		t.Errorf("told %v", c.Form)
	}
}

// TestCustomerDM relays a Slack customer's DM to the app into the desk.
func TestCustomerDM(t *testing.T) {
	r := newRig(t)
	r.event("Ev1", map[string]any{"type": "message", "channel": "D0CUST", "channel_type": "im", "user": customerID, "text": "it still crashes", "ts": "1700000000.000700"})
	msg := r.fake.Wait(t, "chat.postMessage", wait, func(c slackfake.Call) bool { return c.Field("thread_ts") != "" })
	if msg.Field("channel") != testDesk || msg.Field("text") != "Pat: it still crashes" {
		t.Errorf("desk got %v", msg.Form)
	}
	// An agent writing to the app is not a customer.
	r.event("Ev2", map[string]any{"type": "message", "channel": "D0AGENT", "channel_type": "im", "user": testAgent, "text": "test", "ts": "1700000000.000800"})
	convs, _ := r.engine.Conversations(ctx, core.ConversationFilter{})
	if len(convs) != 1 {
		t.Errorf("%d conversations", len(convs))
	}
}

// TestMembershipEvents lets a new member of the desk act at once.
// TestMembershipEventDuringALoad: someone who joins the desk channel while
// the list of agents is being read is an agent once it is read, though
// Slack's list was made before they joined.
func TestMembershipEventDuringALoad(t *testing.T) {
	r := unstartedRig(t)
	release := r.fake.Hold("conversations.members")
	t.Cleanup(release)
	r.start()
	eventually(t, "the load under way", func() bool {
		r.a.agents.mu.RLock()
		defer r.a.agents.mu.RUnlock()
		return r.a.agents.loading != nil
	})
	r.event("Ev1", map[string]any{"type": "member_joined_channel", "user": "U0NEW", "channel": testDesk, "channel_type": "C", "team": testTeam})
	release()
	form := commandForm("<@"+customerID+">", r.fake.ResponseURL("x"))
	form.Set("user_id", "U0NEW")
	if _, a := r.command(form); !strings.Contains(a.raw, "PIN ") {
		t.Errorf("joined during the load: %s", a.raw)
	}
}

func TestMembershipEvents(t *testing.T) {
	r := newRig(t)
	form := commandForm("<@"+customerID+">", r.fake.ResponseURL("x"))
	form.Set("user_id", "U0NEW")
	if _, a := r.command(form); !strings.HasPrefix(a.Text, "Only support agents") {
		t.Fatalf("before joining: %s", a.raw)
	}
	r.event("Ev1", map[string]any{"type": "member_joined_channel", "user": "U0NEW", "channel": testDesk, "channel_type": "C", "team": testTeam})
	if _, a := r.command(form); !strings.Contains(a.raw, "PIN ") {
		t.Errorf("after joining: %s", a.raw)
	}
	r.event("Ev2", map[string]any{"type": "member_left_channel", "user": "U0NEW", "channel": testDesk, "channel_type": "C", "team": testTeam})
	if _, a := r.command(form); !strings.HasPrefix(a.Text, "Only support agents") {
		t.Errorf("after leaving: %s", a.raw)
	}
}

// TestForeignTeamEvents: with slack.allowed_teams set, events from
// another workspace are ignored: a DM to the app opens no conversation,
// a member joining a channel with the desk's ID makes nobody an agent,
// and a thread reply is not relayed.
func TestForeignTeamEvents(t *testing.T) {
	r := newRig(t, func(o *Options) { o.AllowedTeams = []string{testTeam} })
	conv := r.smsConversation("1700000000.000100")
	for i, ev := range []map[string]any{
		{"type": "message", "channel": "D0CUST", "channel_type": "im", "user": customerID, "text": "it still crashes", "ts": "1700000000.000700"},
		{"type": "member_joined_channel", "user": "U0NEW", "channel": testDesk, "channel_type": "C", "team": "T0OTHER"},
		threadReply(testAgent, "hello from elsewhere", "1700000000.000200", "1700000000.000100"),
	} {
		if code := r.eventFrom("T0OTHER", "EvForeign"+strconv.Itoa(i), ev, nil); code != http.StatusOK {
			t.Fatalf("%v: %d", ev, code)
		}
	}
	if convs, _ := r.engine.Conversations(ctx, core.ConversationFilter{}); len(convs) != 1 {
		t.Errorf("%d conversations, want only the SMS one", len(convs))
	}
	if msgs, _ := r.engine.Messages(ctx, core.MessageFilter{ConversationID: conv.ID}); len(msgs) != 0 {
		t.Errorf("relayed %+v", msgs)
	}
	if n := len(r.fake.Calls("chat.postMessage")); n != 0 {
		t.Errorf("%d messages posted", n)
	}
	form := commandForm("<@"+customerID+">", r.fake.ResponseURL("x"))
	form.Set("user_id", "U0NEW")
	if _, a := r.command(form); a.Text != "Only support agents can do that here." {
		t.Errorf("a foreign membership event made U0NEW an agent: %s", a.raw)
	}
}

// TestEventRetryIgnored: Slack delivers an event again (X-Slack-Retry-Num)
// when it did not see the first answer in time; the retry carries the
// same event_id and is not handled twice. The observable is one that only
// the adapter's de-duplication guards, as nothing is written to the
// transcript: a reply to a closed conversation tells the agent once.
func TestEventRetryIgnored(t *testing.T) {
	r := newRig(t)
	conv := r.smsConversation("1700000000.000100")
	if _, err := r.engine.CloseConversation(ctx, conv.ID, core.Actor{Kind: core.ActorAgent}); err != nil {
		t.Fatal(err)
	}
	ev := threadReply(testAgent, "still there?", "1700000000.000200", "1700000000.000100")
	if code := r.eventFrom(testTeam, "EvRetried", ev, nil); code != http.StatusOK {
		t.Fatalf("first delivery: %d", code)
	}
	retry := http.Header{"X-Slack-Retry-Num": {"1"}, "X-Slack-Retry-Reason": {"http_timeout"}}
	if code := r.eventFrom(testTeam, "EvRetried", ev, retry); code != http.StatusOK {
		t.Fatalf("retry: %d", code)
	}
	// Each request is answered after its work (well within the budget),
	// so both have been handled by now.
	if calls := r.fake.Calls("chat.postEphemeral"); len(calls) != 1 {
		t.Errorf("the agent was told %d times, want once: %v", len(calls), calls)
	}
}

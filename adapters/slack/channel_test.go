package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// buttonsOf reads the buttons of a posted message's blocks: action ID to
// value.
func buttonsOf(t *testing.T, blocksJSON string) map[string]string {
	t.Helper()
	var bs []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(blocksJSON), &bs); err != nil {
		t.Fatalf("blocks %s: %v", blocksJSON, err)
	}
	out := map[string]string{}
	for _, b := range bs {
		for _, e := range b.Elements {
			out[e.ActionID] = e.Value
		}
	}
	return out
}

// waitingThread issues a card for the Slack customer, who then presses
// Start: it returns the session and the header of the desk thread that
// opens, once the conversation has recorded the thread.
func (r *rig) waitingThread() (*core.Session, slackfake.Call) {
	r.t.Helper()
	_, s := r.issueCard("cmd")
	if _, _, err := r.engine.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		r.t.Fatal(err)
	}
	header := r.fake.Wait(r.t, "chat.postMessage", wait, func(c slackfake.Call) bool {
		return c.Field("channel") == testDesk && c.Field("thread_ts") == ""
	})
	eventually(r.t, "desk thread recorded", func() bool {
		c, _ := r.engine.Conversation(ctx, s.ConversationID)
		return c.DeskThread == header.TS
	})
	return s, header
}

// TestDeskThread follows a session on the desk: the customer presses
// Start, the desk channel gets a thread (header with "Remote support",
// then "Customer is waiting" broadcast to the channel); starting from the
// alert edits it in place; the header's button issues a new PIN for the
// same conversation, shown in the thread to the one who pressed it.
func TestDeskThread(t *testing.T) {
	r := newRig(t)
	s, header := r.waitingThread()
	if header.Field("text") != "Slack DM conversation with pat (English)" || !strings.Contains(header.Field("blocks"), remote.ActionIssue) {
		t.Errorf("header %v", header.Form)
	}
	alert := r.fake.Wait(t, "chat.postMessage", wait, func(c slackfake.Call) bool { return c.Field("thread_ts") == header.TS })
	if alert.Field("text") != "Customer is waiting (computer)." || alert.Field("reply_broadcast") != "true" {
		t.Errorf("alert %v", alert.Form)
	}
	buttons := buttonsOf(t, alert.Field("blocks"))
	if _, ok := buttons[remote.ActionStartControl]; !ok || buttons[remote.ActionEnd] == "" {
		t.Fatalf("alert buttons %v", buttons)
	}

	// Start (view only) from the alert: the alert changes in place.
	r.click(testAgent, remote.ActionStartView, buttons[remote.ActionStartView], testDesk, r.fake.ResponseURL("start"), false)
	edit := r.fake.Wait(t, "chat.update", wait, nil)
	if edit.Field("ts") != alert.TS || edit.Field("channel") != testDesk || !strings.Contains(edit.Field("text"), "started the session (view only)") {
		t.Errorf("edit %v", edit.Form)
	}
	if got, _ := r.engine.Session(ctx, s.ID); got.State != core.StateActive || got.Mode != core.ModeView || got.Technician != "alice" {
		t.Errorf("session %+v", got)
	}

	// The same alert button clicked elsewhere is refused.
	r.click(testAgent, remote.ActionEnd, buttons[remote.ActionEnd], testChannel, r.fake.ResponseURL("elsewhere"), false)
	r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool {
		return c.Hook == "elsewhere" && strings.HasPrefix(c.Field("text"), "This button does not work here.")
	})

	// "Remote support" on the header: a new PIN for this conversation.
	issue := buttonsOf(t, header.Field("blocks"))[remote.ActionIssue]
	payload := map[string]any{
		"type": "block_actions", "team": map[string]any{"id": testTeam}, "user": map[string]any{"id": testAgent, "name": "alice"},
		"container": map[string]any{"type": "message", "message_ts": header.TS, "channel_id": testDesk, "is_ephemeral": false},
		"channel":   map[string]any{"id": testDesk}, "response_url": r.fake.ResponseURL("issue"),
		"message": map[string]any{"ts": header.TS, "text": "header"},
		"actions": []map[string]any{{"action_id": remote.ActionIssue, "block_id": blockThread, "value": issue, "type": "button"}},
	}
	r.interact(payload)
	card := r.fake.Wait(t, "chat.postEphemeral", wait, nil)
	if card.Field("channel") != testDesk || card.Field("user") != testAgent || card.Field("thread_ts") != header.TS || !strings.Contains(card.Field("blocks"), "remote.send_desktop") {
		t.Errorf("card in thread %v", card.Form)
	}
	ss, _ := r.engine.Sessions(ctx, core.SessionFilter{ConversationID: s.ConversationID})
	if len(ss) != 2 {
		t.Errorf("%d sessions in the conversation", len(ss))
	}
}

// TestCloseConversationFromThread closes a relayed conversation from its
// desk thread: the header loses its buttons and says who closed it, the
// conversation is closed, and the same button on another channel's
// message is refused.
func TestCloseConversationFromThread(t *testing.T) {
	r := newRig(t)
	s, header := r.waitingThread()
	closeKey := buttonsOf(t, header.Field("blocks"))[remote.ActionCloseConversation]
	if closeKey == "" {
		t.Fatalf("the header has no Close conversation button: %s", header.Field("blocks"))
	}
	click := func(channel, hook string) {
		r.interact(map[string]any{
			"type": "block_actions", "team": map[string]any{"id": testTeam}, "user": map[string]any{"id": testAgent, "name": "alice"},
			"container": map[string]any{"type": "message", "message_ts": header.TS, "channel_id": channel, "is_ephemeral": false},
			"channel":   map[string]any{"id": channel}, "response_url": r.fake.ResponseURL(hook),
			"message": map[string]any{"ts": header.TS, "text": "header"},
			"actions": []map[string]any{{"action_id": remote.ActionCloseConversation, "block_id": blockThread, "value": closeKey, "type": "button"}},
		})
	}
	click(testChannel, "elsewhere")
	r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool {
		return c.Hook == "elsewhere" && strings.HasPrefix(c.Field("text"), "This button does not work here.")
	})
	if c, _ := r.engine.Conversation(ctx, s.ConversationID); c.State != core.ConversationOpen {
		t.Fatalf("a click outside the thread closed the conversation")
	}

	click(testDesk, "close")
	closed := func(b string) bool {
		return !strings.Contains(b, remote.ActionIssue) && !strings.Contains(b, remote.ActionCloseConversation)
	}
	edit := r.fake.Wait(t, "chat.update", wait, func(c slackfake.Call) bool { return c.Field("ts") == header.TS })
	if b := edit.Field("blocks"); edit.Field("channel") != testDesk || !strings.Contains(b, "Conversation closed by alice") || !closed(b) {
		t.Errorf("header after closing %v", edit.Form)
	}
	if c, _ := r.engine.Conversation(ctx, s.ConversationID); c.State != core.ConversationClosed {
		t.Errorf("conversation is %s, want closed", c.State)
	}

	// A header whose conversation was closed elsewhere (the console, the
	// API, another click) loses its buttons without naming the clicker.
	click(testDesk, "again")
	again := r.fake.Wait(t, "chat.update", wait, func(c slackfake.Call) bool {
		return c.Field("ts") == header.TS && strings.Contains(c.Field("blocks"), "This conversation is closed.")
	})
	if b := again.Field("blocks"); strings.Contains(b, "closed by") || !closed(b) {
		t.Errorf("header of a conversation closed before the click %v", again.Form)
	}
	for _, c := range r.fake.Calls("response_url") {
		if c.Hook == "close" || c.Hook == "again" {
			t.Errorf("the header was also answered through the click's response_url: %v", c.JSON)
		}
	}
}

// TestHeaderFollowsClose: a conversation closed away from its thread
// (the console, the API) has its thread's first message rewritten: no
// buttons, and who closed it.
func TestHeaderFollowsClose(t *testing.T) {
	r := newRig(t)
	s, header := r.waitingThread()
	if _, err := r.engine.CloseConversation(ctx, s.ConversationID, core.Actor{Kind: core.ActorAgent, Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	edit := r.fake.Wait(t, "chat.update", wait, func(c slackfake.Call) bool { return c.Field("ts") == header.TS })
	if b := edit.Field("blocks"); edit.Field("channel") != testDesk || !strings.Contains(b, "Conversation closed by bob") ||
		strings.Contains(b, remote.ActionIssue) || strings.Contains(b, remote.ActionCloseConversation) {
		t.Errorf("header edit %v", edit.Form)
	}
}

// TestDeliverErrors maps Slack's failures to what the outbox does: retry
// (with Slack's Retry-After) or give up with a reason for the agent.
func TestDeliverErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  slackfake.Fault
		code   core.Code
		retry  time.Duration
		reason string
	}{
		{"rate limited", slackfake.Fault{Status: 429, RetryAfter: 7}, core.CodeUnavailable, 7 * time.Second, "slow down"},
		{"server error", slackfake.Fault{Status: 503}, core.CodeUnavailable, 0, "could not be reached"},
		{"slack busy", slackfake.Fault{Error: "service_unavailable"}, core.CodeUnavailable, 0, "could not be reached"},
		{"not in channel", slackfake.Fault{Error: "channel_not_found"}, core.CodeInvalid, 0, "not in that conversation"},
		{"token revoked", slackfake.Fault{Error: "token_revoked"}, core.CodeInvalid, 0, "refused assistbot's token (token_revoked)"},
		{"other", slackfake.Fault{Error: "msg_too_long"}, core.CodeInvalid, 0, "refused the message (msg_too_long)"},
		// Slack never answers: the HTTP client's timeout, or the outbox's
		// deadline for the attempt, ends the call.
		{"client timeout", slackfake.Fault{Delay: 5 * time.Second}, core.CodeUnavailable, 0, "could not be reached"},
		{"attempt deadline", slackfake.Fault{Delay: 5 * time.Second}, core.CodeUnavailable, 0, "could not be reached"},
		{"connection dropped", slackfake.Fault{Drop: true}, core.CodeUnavailable, 0, "could not be reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(o *Options) {
				if tc.name == "client timeout" {
					o.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
				}
			})
			r.fake.Fail("chat.postMessage", tc.fault)
			ctx := ctx
			if tc.name == "attempt deadline" {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
				defer cancel()
			}
			_, err := r.a.Channels()[0].Deliver(ctx, &core.Delivery{To: core.Endpoint{Channel: core.ChannelSlack, Address: "U0NOLOCALE"},
				Notice: core.Notice{Kind: core.NoticeText, Text: "hello"}})
			retry, _ := core.RetryAfter(err)
			if core.ErrorCode(err) != tc.code || retry != tc.retry || !strings.Contains(core.ErrorMessage(err), tc.reason) {
				t.Errorf("err = %v (code %s, retry %s)", err, core.ErrorCode(err), retry)
			}
		})
	}
}

// TestCustomerTextEscaped relays an agent's words to a Slack customer as
// written: Slack must not read them as markup.
func TestCustomerTextEscaped(t *testing.T) {
	r := newRig(t)
	rc, err := r.a.Channels()[0].Deliver(ctx, &core.Delivery{To: core.Endpoint{Channel: core.ChannelSlack, Address: customerID},
		Notice: core.Notice{Kind: core.NoticeText, Text: "Press <Ctrl> & <Alt> & <Del>"}})
	if err != nil || rc.ExternalID == "" || rc.Status != core.DeliveryDelivered {
		t.Fatalf("deliver: %+v, %v", rc, err)
	}
	if got := r.fake.Calls("chat.postMessage")[0].Field("text"); got != "Press &lt;Ctrl&gt; &amp; &lt;Alt&gt; &amp; &lt;Del&gt;" {
		t.Errorf("text %q", got)
	}
}

// TestCardUpdateRateLimited: Slack answers a card's post to the
// response_url with 429 and Retry-After; the post is made again once that
// wait is over, and the card arrives. The card is the late one of a slow
// provider, posted once: nothing else would bring it.
func TestCardUpdateRateLimited(t *testing.T) {
	r := newRig(t)
	r.a.budget = 50 * time.Millisecond
	unblock := r.slowProvider()
	r.fake.Fail("response_url", slackfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1})
	if code, a := r.command(commandForm("<@"+customerID+">", r.fake.ResponseURL("limited"))); code != http.StatusOK || !strings.Contains(a.Text, "Getting a PIN") {
		t.Fatalf("first answer %d: %s", code, a.raw)
	}
	unblock()
	limited := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Status == http.StatusTooManyRequests })
	card := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Status == http.StatusOK })
	// Measured by the fake, between its two answers: a slow test
	// goroutine cannot shorten it.
	if waited := card.At.Sub(limited.At); waited < time.Second {
		t.Errorf("posted again %s after the 429, not after Slack's Retry-After (1s)", waited)
	}
	if card.Hook != "limited" || card.Field("replace_original") != "true" || card.Field("blocks") != limited.Field("blocks") ||
		!strings.Contains(card.Field("blocks"), "PIN 246810") {
		t.Errorf("card %v, after the 429 %v", card.JSON, limited.JSON)
	}
}

// A provider with a link of its own (MeshCentral's device share) hands it
// to the technician who pressed Start, privately, and nowhere else.
func TestTechnicianLinkIsPrivate(t *testing.T) {
	r := newRig(t)
	r.provider.StartFunc = func(ctx context.Context, s *core.Session, mode core.Mode, technician string) (string, error) {
		return "https://mesh.example.com/sharing?c=secret-" + string(mode), nil
	}
	_, header := r.waitingThread()
	alert := r.fake.Wait(t, "chat.postMessage", wait, func(c slackfake.Call) bool { return c.Field("thread_ts") == header.TS })
	buttons := buttonsOf(t, alert.Field("blocks"))
	r.click(testAgent, remote.ActionStartControl, buttons[remote.ActionStartControl], testDesk, r.fake.ResponseURL("start"), false)
	private := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "start" })
	if !strings.Contains(private.Field("text"), "https://mesh.example.com/sharing?c=secret-control") ||
		private.Field("response_type") != "ephemeral" {
		t.Errorf("the technician's answer %v", private.Form)
	}
	edit := r.fake.Wait(t, "chat.update", wait, nil)
	if strings.Contains(edit.Field("text")+edit.Field("blocks"), "secret-") {
		t.Errorf("the desk alert every agent sees carries the link: %v", edit.Form)
	}
}

// TestEscalationReminder: a reminder about a waiting customer is a new
// message in the conversation's desk thread (Slack notifies about posts,
// not edits), naming the agent; the last escalation mentions the
// escalation group, or the channel without one.
func TestEscalationReminder(t *testing.T) {
	for _, tc := range []struct {
		group string
		final bool
		want  string
	}{
		{"", false, "*alice* · Pat has waited 1 min for a technician."},
		{"", true, "*alice* · Pat has waited 3 min for a technician. <!here>"},
		{"S0ESCALATE", true, "*alice* · Pat has waited 3 min for a technician. <!subteam^S0ESCALATE>"},
	} {
		r := newRig(t, func(o *Options) { o.EscalationGroup = tc.group })
		s, header := r.waitingThread()
		conv, _ := r.engine.Conversation(ctx, s.ConversationID)
		waited, level := time.Minute, 1
		if tc.final {
			waited, level = 3*time.Minute, 2
		}
		d := &core.Delivery{ID: 99, To: conv.Desk, SessionID: s.ID, ConversationID: conv.ID, Notice: core.Notice{
			Kind: core.NoticeReminder, Action: core.ActionEscalate, SessionID: s.ID, Level: level, Final: tc.final,
			Actor: "alice", Customer: "Pat", Waited: waited, Thread: header.TS}}
		if _, err := r.a.Channels()[0].Deliver(ctx, d); err != nil {
			t.Fatal(err)
		}
		got := r.fake.Wait(t, "chat.postMessage", wait, func(c slackfake.Call) bool {
			return c.Field("thread_ts") == header.TS && strings.Contains(c.Field("text"), "waited")
		})
		if got.Field("text") != tc.want {
			t.Errorf("group %q, final %v: reminder %q, want %q", tc.group, tc.final, got.Field("text"), tc.want)
		}
	}
}

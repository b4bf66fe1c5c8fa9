package slack

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// issueCard runs /remote @customer and returns the card and its session.
func (r *rig) issueCard(hook string) (answer, *core.Session) {
	r.t.Helper()
	code, a := r.command(commandForm("<@"+customerID+"|pat>", r.fake.ResponseURL(hook)))
	if code != http.StatusOK || a.button(remote.ActionSendDesktop) == "" {
		r.t.Fatalf("no card: %d %s", code, a.raw)
	}
	ss := r.sessions()
	return a, ss[0]
}

// TestSendDesktopLink clicks "Send desktop link": the customer gets a DM
// with the link and the PIN, link previews off, in their own language;
// the card is replaced in place and then shows that the link arrived.
func TestSendDesktopLink(t *testing.T) {
	r := newRig(t)
	card, s := r.issueCard("cmd")
	if code := r.click(testAgent, remote.ActionSendDesktop, card.button(remote.ActionSendDesktop), testChannel, r.fake.ResponseURL("click1"), true); code != http.StatusOK {
		t.Fatalf("click: %d", code)
	}
	dm := r.fake.Wait(t, "chat.postMessage", wait, func(c slackfake.Call) bool { return c.Field("channel") == customerID })
	if dm.Field("unfurl_links") != "false" || dm.Field("unfurl_media") != "false" {
		t.Errorf("previews not off: %v", dm.Form)
	}
	want := r.a.render.t("ko", "customer.link", "link", s.DesktopURL, "pin", s.PIN)
	if text := dm.Field("text"); text != want || !strings.Contains(text, s.DesktopURL) || !strings.Contains(text, s.PIN) {
		t.Errorf("customer text = %q, want %q (the customer's Slack is Korean)", text, want)
	}
	// The card is replaced through the click's response_url, or through
	// the command's when the delivery's update came first: both replace
	// the same ephemeral card.
	card1 := func(c slackfake.Call) bool { return c.Hook == "click1" || c.Hook == "cmd" }
	first := r.fake.Wait(t, "response_url", wait, card1)
	if first.Field("replace_original") != "true" || !strings.Contains(first.Field("blocks"), "Link sent") {
		t.Errorf("card after the click: %v", first.JSON)
	}
	r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool {
		return card1(c) && strings.Contains(c.Field("blocks"), "Customer link — Delivered")
	})
	got, _ := r.engine.Session(ctx, s.ID)
	if got.State != core.StateSent {
		t.Errorf("state %s", got.State)
	}
}

// TestDeliveryFailureOnCard shows why a link did not arrive.
func TestDeliveryFailureOnCard(t *testing.T) {
	r := newRig(t)
	r.fake.Fail("chat.postMessage", slackfake.Fault{Error: "user_not_found"})
	card, _ := r.issueCard("cmd")
	r.click(testAgent, remote.ActionSendMobile, card.button(remote.ActionSendMobile), testChannel, r.fake.ResponseURL("c"), true)
	r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool {
		return strings.Contains(c.Field("blocks"), "Not delivered: Slack could not find that person or channel.")
	})
}

// TestCloseDeletesCard closes the session: the PIN is revoked and the card
// goes away.
func TestCloseDeletesCard(t *testing.T) {
	r := newRig(t)
	card, s := r.issueCard("cmd")
	r.click(testAgent, remote.ActionClose, card.button(remote.ActionClose), testChannel, r.fake.ResponseURL("close"), true)
	c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "close" })
	if c.Field("delete_original") != "true" {
		t.Errorf("close answered %v", c.JSON)
	}
	if got, _ := r.engine.Session(ctx, s.ID); got.State != core.StateClosed || len(r.provider.Revoked()) != 1 {
		t.Errorf("state %s, revoked %v", got.State, r.provider.Revoked())
	}
}

// TestRegenerate makes another code: the card shows the new PIN.
func TestRegenerate(t *testing.T) {
	r := newRig(t)
	card, s := r.issueCard("cmd")
	r.click(testAgent, remote.ActionRegenerate, card.button(remote.ActionRegenerate), testChannel, r.fake.ResponseURL("regen"), true)
	got, _ := r.engine.Session(ctx, s.ID)
	if got.PIN == s.PIN {
		t.Fatalf("the PIN is still %s", s.PIN)
	}
	// The card is replaced through either of its response_urls (the
	// command's or the click's: both lead to the same message), whichever
	// the update reached first; never with the old PIN again.
	r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool {
		return strings.Contains(c.Field("blocks"), "PIN "+got.PIN)
	})
	for _, c := range r.fake.Calls("response_url") {
		if strings.Contains(c.Field("blocks"), "PIN "+s.PIN) {
			t.Errorf("the card was posted again with the old PIN through %s", c.Hook)
		}
	}
}

// TestCardNotPostedTwice: the engine's update for the command's own
// issue, arriving after the command answered, does not post the same card
// again through the response_url (a response_url takes five posts, and a
// repost could land after a newer card).
func TestCardNotPostedTwice(t *testing.T) {
	r := newRig(t)
	_, s := r.issueCard("cmd")
	r.a.update(ctx, core.Update{Session: s, Event: &core.Event{SessionID: s.ID, Action: core.ActionIssue, To: core.StateIssued}})
	time.Sleep(50 * time.Millisecond) // let the hub's own update post, if it would
	r.a.cards.Wait()
	if calls := r.fake.Calls("response_url"); len(calls) != 0 {
		t.Errorf("the card shown by the command was posted again %d times", len(calls))
	}
}

// TestDeskAlertInTheAgentsDM: without slack.desk_channel, the alerts go
// to the agent's direct messages with the app (posted to their user ID);
// Slack reports a click there with the DM's own ID, and Start works from
// it. In a channel, the same button does nothing.
func TestDeskAlertInTheAgentsDM(t *testing.T) {
	r := newRig(t, func(o *Options) { o.DeskChannel = "" })
	const dm = "D0AGENTDM" // the agent's DM with the app, as clicks name it
	form := commandForm("<@"+customerID+"|pat>", r.fake.ResponseURL("cmd"))
	form.Set("channel_id", dm)
	form.Set("channel_name", "directmessage")
	if code, a := r.command(form); code != http.StatusOK || a.button(remote.ActionSendDesktop) == "" {
		t.Fatalf("no card: %d %s", code, a.raw)
	}
	s := r.sessions()[0]
	if _, _, err := r.engine.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	alert := r.fake.Wait(t, "chat.postMessage", wait, func(c slackfake.Call) bool {
		return c.Field("channel") == testAgent && strings.Contains(c.Field("blocks"), remote.ActionStartView)
	})
	var value string
	for _, part := range strings.Split(alert.Field("blocks"), `"value":"`)[1:] {
		if v := part[:strings.IndexByte(part, '"')]; strings.HasPrefix(v, s.ID+".") {
			value = v
			break
		}
	}
	// Sealed for the agent's DMs, the button does nothing in a channel.
	r.click(testAgent, remote.ActionStartView, value, testChannel, r.fake.ResponseURL("channel"), false)
	r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "channel" })
	if got, _ := r.engine.Session(ctx, s.ID); got.State != core.StateWaiting {
		t.Fatalf("the DM's button worked in a channel: %s", got.State)
	}
	r.click(testAgent, remote.ActionStartView, value, dm, r.fake.ResponseURL("alert"), false)
	eventually(t, "the session started from the alert in the DM", func() bool {
		got, _ := r.engine.Session(ctx, s.ID)
		return got.State == core.StateActive && got.Technician == "alice"
	})
}

// TestDeskInTheAgentsDMFollowsChanges: alerts and the thread's header in
// an agent's DM are posted to their user ID, but Slack edits a DM's
// messages only by the DM's own ID: the alert loses its Start buttons
// once the session starts, and the header its buttons once the
// conversation closes.
func TestDeskInTheAgentsDMFollowsChanges(t *testing.T) {
	r := newRig(t, func(o *Options) { o.DeskChannel = "" })
	form := commandForm("<@"+customerID+"|pat>", r.fake.ResponseURL("cmd"))
	form.Set("channel_id", "D0AGENTDM")
	form.Set("channel_name", "directmessage")
	if code, a := r.command(form); code != http.StatusOK {
		t.Fatalf("no card: %d %s", code, a.raw)
	}
	s := r.sessions()[0]
	if _, _, err := r.engine.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	isAlert := func(c slackfake.Call) bool {
		return c.Field("channel") == testAgent && strings.Contains(c.Field("blocks"), remote.ActionStartView)
	}
	alert := r.fake.Wait(t, "chat.postMessage", wait, isAlert)
	header := r.fake.Wait(t, "chat.postMessage", wait, func(c slackfake.Call) bool {
		return c.Field("channel") == testAgent && c.Field("thread_ts") == ""
	})
	if _, err := r.engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, core.ModeView); err != nil {
		t.Fatal(err)
	}
	edit := r.fake.Wait(t, "chat.update", wait, func(c slackfake.Call) bool {
		return c.Field("channel") == slackfake.DM(testAgent) && c.Field("ts") == alert.TS
	})
	if strings.Contains(edit.Field("blocks"), remote.ActionStartView) {
		t.Errorf("the alert still offers Start: %s", edit.Field("blocks"))
	}
	if _, err := r.engine.CloseConversation(ctx, s.ConversationID, core.Actor{Kind: core.ActorAgent, Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	closed := r.fake.Wait(t, "chat.update", wait, func(c slackfake.Call) bool {
		return c.Field("channel") == slackfake.DM(testAgent) && c.Field("ts") == header.TS
	})
	if b := closed.Field("blocks"); !strings.Contains(b, "Conversation closed by bob") || strings.Contains(b, remote.ActionCloseConversation) {
		t.Errorf("header edit %v", closed.Form)
	}
	n := 0
	for _, c := range r.fake.Calls("chat.postMessage") {
		if isAlert(c) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d alerts with Start buttons, want the one, edited", n)
	}
}

// TestClicksRefused: a stranger's click, and a button value moved to
// another channel, are refused with an ephemeral message and change
// nothing.
func TestClicksRefused(t *testing.T) {
	r := newRig(t)
	card, s := r.issueCard("cmd")
	value := card.button(remote.ActionSendDesktop)
	for _, tc := range []struct {
		name, user, value, channel, want string
	}{
		{"stranger", stranger, value, testChannel, "Only support agents can do that here."},
		{"value from another channel", testAgent, value, "C0ELSEWHERE", "This button does not work here."},
		{"bare session id", testAgent, s.ID, testChannel, "This button does not work here."},
		{"forged tag", testAgent, s.ID + ".AAAAAAAAAAAAAAAA", testChannel, "This button does not work here."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := strings.ReplaceAll(tc.name, " ", "-")
			r.click(tc.user, remote.ActionSendDesktop, tc.value, tc.channel, r.fake.ResponseURL(hook), true)
			c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == hook })
			if c.Field("response_type") != "ephemeral" || c.Field("replace_original") != "false" || !strings.HasPrefix(c.Field("text"), tc.want) {
				t.Errorf("answer %v", c.JSON)
			}
		})
	}
	if got, _ := r.engine.Session(ctx, s.ID); got.State != core.StateIssued {
		t.Errorf("state %s after refused clicks", got.State)
	}
	if n := len(r.fake.Calls("chat.postMessage")); n != 0 {
		t.Errorf("%d messages posted", n)
	}
}

// TestRefusedTransition explains a click the session no longer allows.
func TestRefusedTransition(t *testing.T) {
	r := newRig(t)
	card, s := r.issueCard("cmd")
	if _, err := r.engine.Close(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	r.click(testAgent, remote.ActionSendDesktop, card.button(remote.ActionSendDesktop), testChannel, r.fake.ResponseURL("late"), true)
	c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "late" && c.Field("response_type") == "ephemeral" })
	if c.Field("text") != "This session is Closed, so that is not possible now." {
		t.Errorf("answer %v", c.JSON)
	}
}

// TestShortcut starts remote support for the author of a message.
func TestShortcut(t *testing.T) {
	r := newRig(t)
	payload := map[string]any{
		"type": "message_action", "callback_id": ShortcutID, "team": map[string]any{"id": testTeam},
		"user": map[string]any{"id": testAgent, "name": "alice"}, "channel": map[string]any{"id": testChannel},
		"message":      map[string]any{"type": "message", "user": customerID, "text": "my screen is black", "ts": "1700000000.000500"},
		"response_url": r.fake.ResponseURL("shortcut"), "trigger_id": "1.2.3", "action_ts": "1700000001.1",
	}
	if code := r.interact(payload); code != http.StatusOK {
		t.Fatalf("shortcut: %d", code)
	}
	c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "shortcut" })
	if c.Field("response_type") != "ephemeral" || !strings.Contains(c.Field("blocks"), "remote.send_desktop") {
		t.Errorf("shortcut answer %v", c.JSON)
	}
	conv, _ := r.engine.Conversation(ctx, r.sessions()[0].ConversationID)
	if conv.Customer.Address != customerID {
		t.Errorf("customer %v", conv.Customer)
	}
	t.Run("on an app's message", func(t *testing.T) {
		payload["message"] = map[string]any{"type": "message", "bot_id": "B1", "text": "hi", "ts": "1700000000.000600"}
		payload["response_url"] = r.fake.ResponseURL("shortcut-bot")
		r.interact(payload)
		c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "shortcut-bot" })
		if c.Field("text") != "Use this on a message the customer wrote." {
			t.Errorf("answer %v", c.JSON)
		}
	})
}

// TestCardFollowsSession: the card on the agent's screen changes with the
// session, through the command's response_url: the customer waits, then
// (for another card) the PIN expires.
func TestCardFollowsSession(t *testing.T) {
	r := newRig(t)
	_, s := r.issueCard("follow")
	if _, _, err := r.engine.Join(ctx, s.PIN, core.DeviceMobile); err != nil {
		t.Fatal(err)
	}
	c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "follow" })
	if c.Field("replace_original") != "true" || !strings.Contains(c.Field("blocks"), "Customer is waiting") ||
		!strings.Contains(c.Field("blocks"), remote.ActionStartView) || strings.Contains(c.Field("blocks"), remote.ActionStartControl) {
		t.Errorf("card after the join: %v", c.JSON)
	}

	code, _ := r.command(commandForm("<@U0SECOND>", r.fake.ResponseURL("expire")))
	if code != http.StatusOK {
		t.Fatal(code)
	}
	r.clock.Add(21 * time.Minute)
	if n, err := r.engine.ExpireDue(ctx); err != nil || n != 1 {
		t.Fatalf("expired %d, %v", n, err)
	}
	c = r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "expire" })
	if !strings.Contains(c.Field("blocks"), "The PIN expired before the customer joined.") || !strings.Contains(c.Field("blocks"), remote.ActionRegenerate) {
		t.Errorf("card after expiry: %v", c.JSON)
	}
	if n := len(r.fake.Calls("response_url")); n != 2 {
		t.Errorf("%d card updates, want one per change", n)
	}
}

// TestLinkRetried: Slack answers 503, then 429 with Retry-After; the
// outbox tries again when told, and the link arrives.
func TestLinkRetried(t *testing.T) {
	r := newRig(t)
	r.fake.Fail("chat.postMessage", slackfake.Fault{Status: 503}, slackfake.Fault{Status: 429, RetryAfter: 30})
	card, s := r.issueCard("cmd")
	r.click(testAgent, remote.ActionSendDesktop, card.button(remote.ActionSendDesktop), testChannel, r.fake.ResponseURL("retry"), true)
	// The clock moves on only once the outbox has recorded each answer
	// (its reason): moved while the attempt is in flight, the retry would
	// be scheduled from the later time and never come due. Attempts and
	// the next attempt's time do not tell: claiming a delivery sets them.
	const unreachable, slowDown = "Slack could not be reached; assistbot will try again.", "Slack asked assistbot to slow down; it will try again shortly."
	var ds []*core.Delivery
	recorded := func(what, reason string) {
		t.Helper()
		eventually(t, what, func() bool {
			ds, _ = r.engine.Deliveries(ctx, s.ID)
			return len(ds) == 1 && ds[0].Reason == reason && ds[0].NextAttemptAt.After(r.clock.Now())
		})
	}
	recorded("the 503 recorded", unreachable)
	if ds[0].Attempts != 1 || ds[0].Status != core.DeliveryQueued {
		t.Errorf("after the 503: %+v", ds[0])
	}
	r.clock.Add(2 * time.Second) // past the first backoff
	recorded("the 429 recorded", slowDown)
	if ds[0].Attempts != 2 || ds[0].Status != core.DeliveryQueued || ds[0].NextAttemptAt.Sub(r.clock.Now()) < 29*time.Second {
		t.Errorf("after the 429: %+v (now %s)", ds[0], r.clock.Now())
	}
	if n := len(r.fake.Calls("chat.postMessage")); n != 2 {
		t.Errorf("%d attempts so far, want 2", n)
	}
	r.clock.Add(31 * time.Second)
	r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool {
		return c.Hook == "retry" && strings.Contains(c.Field("blocks"), "Customer link — Delivered")
	})
}

// TestAlertButtonOutsideDesk: a click that passes the seal (the value was
// made for the channel it is clicked in) but comes as a desk alert's
// button from a channel that is not the session's desk is refused. The
// session's card, shown to the agent in another channel, carries such a
// value; only the desk check tells a card from an alert posted elsewhere.
func TestAlertButtonOutsideDesk(t *testing.T) {
	r := newRig(t)
	card, s := r.issueCard("cmd") // shown in testChannel; the desk is testDesk
	if _, _, err := r.engine.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	value := card.button(remote.ActionSendDesktop)
	if _, ok := r.a.render.keys.open(value, testChannel); !ok {
		t.Fatal("the card's value is not sealed for the channel it was shown in")
	}
	// As an alert's button (a channel message, the alert's block), in the
	// card's channel.
	r.click(testAgent, remote.ActionStartControl, value, testChannel, r.fake.ResponseURL("not-desk"), false)
	c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == "not-desk" })
	if c.Field("response_type") != "ephemeral" || !strings.HasPrefix(c.Field("text"), "This button does not work here.") {
		t.Errorf("answer %v", c.JSON)
	}
	if got, _ := r.engine.Session(ctx, s.ID); got.State != core.StateWaiting || got.Technician != "" {
		t.Errorf("session %s, technician %q after a refused click", got.State, got.Technician)
	}
}

// TestShortcutInDeskThread: "Start remote support" on a message of a
// conversation's desk thread (the relayed customer message the app
// posted, an agent's reply, the thread's first message) starts remote
// support for that conversation's customer, not for the message's author.
func TestShortcutInDeskThread(t *testing.T) {
	r := newRig(t)
	const root = "1700000000.000100"
	conv := r.smsConversation(root)
	for _, tc := range []struct {
		name    string
		message map[string]any
	}{
		{"relayed message", map[string]any{"type": "message", "subtype": "bot_message", "bot_id": "BBOT", "text": "+12015550123: it crashed", "ts": "1700000000.000200", "thread_ts": root}},
		{"agent's reply", map[string]any{"type": "message", "user": testAgent, "text": "on it", "ts": "1700000000.000300", "thread_ts": root}},
		{"thread root", map[string]any{"type": "message", "bot_id": "BBOT", "text": "SMS conversation", "ts": root}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := strings.ReplaceAll(tc.name, " ", "-")
			r.interact(map[string]any{
				"type": "message_action", "callback_id": ShortcutID, "team": map[string]any{"id": testTeam},
				"user": map[string]any{"id": testAgent, "name": "alice"}, "channel": map[string]any{"id": testDesk},
				"message": tc.message, "response_url": r.fake.ResponseURL(hook), "trigger_id": "1.2.3", "action_ts": "1700000001.1",
			})
			c := r.fake.Wait(t, "response_url", wait, func(c slackfake.Call) bool { return c.Hook == hook })
			if c.Field("response_type") != "ephemeral" || !strings.Contains(c.Field("blocks"), "remote.send_mobile") {
				t.Fatalf("answer %v", c.JSON)
			}
			ss, _ := r.engine.Sessions(ctx, core.SessionFilter{})
			for _, s := range ss {
				if s.ConversationID != conv.ID {
					t.Errorf("session %s is for conversation %s, want the thread's %s", s.ID, s.ConversationID, conv.ID)
				}
			}
		})
	}
	if ss, _ := r.engine.Sessions(ctx, core.SessionFilter{ConversationID: conv.ID}); len(ss) != 4 {
		t.Errorf("%d sessions in the thread's conversation, want 4 (smsConversation's and one per shortcut)", len(ss))
	}
}

package discord

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// issue runs /remote customer:@pat as alice and returns the session.
func (r *rig) issue() *core.Session {
	r.t.Helper()
	r.decodeResponse(r.post(r.remoteCommand(agent(), supportC, customerOption(patID)).json()))
	return r.sessions()[0]
}

// TestCardActions presses the card's buttons: each answer updates the
// card in place (type 7) with the session as it now stands.
func TestCardActions(t *testing.T) {
	r := newRig(t)
	s := r.issue()
	press := func(action string) response {
		t.Helper()
		w := r.post(r.click(agent(), supportC, action+":"+s.ID, "card-1", 64).json())
		resp := r.decodeResponse(w)
		if resp.Type != 7 {
			t.Fatalf("%s: type %d, want 7 (update the card): %s", action, resp.Type, w.Body)
		}
		golden(t, "card_after_"+strings.TrimPrefix(action, "remote."), w.Body.Bytes(), s.ID, "SESSION")
		return resp
	}
	resp := press(remote.ActionSendDesktop)
	if d := resp.Data.Embeds[0].Description; !strings.Contains(d, "Link sent") || !strings.Contains(d, "Link to the customer: Sending…") {
		t.Errorf("after send: %q", d)
	}
	resp = press(remote.ActionSendMobile)
	if d := resp.Data.Embeds[0].Description; !strings.Contains(d, "Link sent") || !strings.Contains(d, "Link to the customer: Sending…") {
		t.Errorf("after send mobile: %q", d)
	}
	press(remote.ActionRegenerate)
	if got := r.sessions()[0]; got.PIN != "123456" || got.State != core.StateIssued {
		t.Errorf("after regenerate: %s %s", got.PIN, got.State)
	}
	resp = press(remote.ActionClose)
	if len(customIDs(resp.Data.Components)) != 0 || !strings.Contains(resp.Data.Embeds[0].Description, "no longer works") {
		t.Errorf("closed card still has buttons or no note: %+v", resp)
	}
}

// TestClickChecks: a button's key is checked against the session, never
// trusted alone.
func TestClickChecks(t *testing.T) {
	r := newRig(t)
	s := r.issue()
	bob := map[string]any{"user": map[string]any{"id": "510000000000000051", "username": "bob"}, "roles": []string{roleID}}
	// The same agent, with the same role id, pressing from another guild:
	// discord.guild_id names the only guild whose members may act.
	foreign := r.click(agent(), supportC, remote.ActionClose+":"+s.ID, "card-1", 64)
	foreign["guild_id"] = "999999999999999999"
	for _, tc := range []struct {
		name, golden string
		in           interaction
	}{
		{"another guild", "refused_not_agent", foreign},
		// Another agent cannot act on alice's card: the session is not
		// theirs and the button is not in the conversation's thread.
		{"another agent's session", "refused_unauthorized", r.click(bob, supportC, remote.ActionClose+":"+s.ID, "card-1", 64)},
		{"a public message naming the session", "refused_unauthorized", r.click(agent(), supportC, remote.ActionClose+":"+s.ID, "msg-1", 0)},
		{"member without the role", "refused_not_agent", r.click(stranger(), supportC, remote.ActionClose+":"+s.ID, "card-1", 64)},
		{"unknown session", "refused_not_found", r.click(agent(), supportC, remote.ActionClose+":zzzzzzzzzzzzzzzzzzzzzzzzzz", "card-1", 64)},
		{"unknown action", "refused_unknown_button", r.click(agent(), supportC, "remote.teleport:"+s.ID, "card-1", 64)},
		{"no key", "refused_unknown_button", r.click(agent(), supportC, remote.ActionClose, "card-1", 64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := r.post(tc.in.json())
			resp := r.decodeResponse(w)
			if resp.Type != 4 || resp.Data.Flags != 64 {
				t.Errorf("want an ephemeral refusal, got %s", w.Body)
			}
			golden(t, tc.golden, w.Body.Bytes())
		})
	}
	if got, _ := r.engine.Session(context.Background(), s.ID); got.State != core.StateIssued {
		t.Errorf("a refused click changed the session to %s", got.State)
	}
}

// TestRefusedTransition explains a button the session's state no longer
// allows, without changing anything.
func TestRefusedTransition(t *testing.T) {
	r := newRig(t)
	s := r.issue()
	w := r.post(r.click(agent(), supportC, remote.ActionStartView+":"+s.ID, "card-1", 64).json())
	resp := r.decodeResponse(w)
	if resp.Type != 4 || resp.Data.Content != "This session is PIN issued, so that is not possible now." {
		t.Errorf("response %s", w.Body)
	}
	golden(t, "refused_transition", w.Body.Bytes())
}

// TestThreadAlertButtons presses "Start (view only)" on the waiting alert
// in a conversation's desk thread: the alert updates in place, and any
// agent of the thread may press it.
func TestThreadAlertButtons(t *testing.T) {
	r := newRig(t)
	s := r.issue()
	thread := "320000000000000032"
	r.setThread(s.ConversationID, thread)
	if _, _, err := r.engine.Join(context.Background(), s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	bob := map[string]any{"user": map[string]any{"id": "510000000000000051", "username": "bob"}, "roles": []string{roleID}}
	w := r.post(r.click(bob, thread, remote.ActionStartView+":"+s.ID, "alert-1", 0).json())
	if resp := r.decodeResponse(w); resp.Type != 7 {
		t.Fatalf("type %d: %s", resp.Type, w.Body)
	}
	golden(t, "alert_started", w.Body.Bytes(), s.ID, "SESSION")
	got, _ := r.engine.Session(context.Background(), s.ID)
	if got.State != core.StateActive || got.Mode != core.ModeView || got.Technician != "bob" {
		t.Errorf("session %s %s %s", got.State, got.Mode, got.Technician)
	}
	// The same button from another conversation's thread is refused.
	w = r.post(r.click(bob, "330000000000000033", remote.ActionEnd+":"+s.ID, "alert-2", 0).json())
	if resp := r.decodeResponse(w); resp.Type != 4 || resp.Data.Flags != 64 {
		t.Errorf("end from a foreign thread: %s", w.Body)
	}
	golden(t, "refused_unauthorized", w.Body.Bytes())
	if got, _ := r.engine.Session(context.Background(), s.ID); got.State != core.StateActive {
		t.Errorf("a refused end left the session %s", got.State)
	}
}

// patWrote relays a DM from Pat to the desk. A non-empty thread is set
// as the conversation's desk thread, whose header is in the desk channel;
// an empty one leaves the desk to start its own.
func (r *rig) patWrote(thread string) *core.Conversation {
	r.t.Helper()
	conv, _, err := r.engine.CustomerMessage(context.Background(), core.Inbound{
		Customer: core.Endpoint{Channel: "discord", Address: patID}, Name: "Pat", Text: "hello", Desk: r.a.Desk()})
	if err != nil {
		r.t.Fatal(err)
	}
	if thread != "" {
		r.setThread(conv.ID, thread)
	}
	return conv
}

// TestThreadHeaderButton presses "Remote support" on a conversation's
// thread header: a new ephemeral card for that conversation.
func TestThreadHeaderButton(t *testing.T) {
	r := newRig(t)
	thread := "340000000000000034"
	conv := r.patWrote(thread)
	// The header is in the desk channel; the thread has its id.
	w := r.post(r.click(agent(), deskID, remote.ActionIssue+":"+conv.ID, thread, 0).json())
	resp := r.decodeResponse(w)
	if resp.Type != 4 || resp.Data.Flags != 64 || len(resp.Data.Embeds) != 1 {
		t.Fatalf("response %+v", resp)
	}
	ss := r.sessions()
	if len(ss) != 1 || ss[0].ConversationID != conv.ID {
		t.Fatalf("sessions %v", ss)
	}
	golden(t, "card_thread_header", w.Body.Bytes(), ss[0].ID, "SESSION")
	// A header button naming a conversation from somewhere else is refused.
	w = r.post(r.click(agent(), deskID, remote.ActionIssue+":"+conv.ID, "350000000000000035", 0).json())
	if resp = r.decodeResponse(w); resp.Type != 4 || len(resp.Data.Embeds) != 0 {
		t.Errorf("foreign header: %+v", resp)
	}
	golden(t, "refused_unauthorized", w.Body.Bytes())
	if n := len(r.sessions()); n != 1 {
		t.Errorf("%d sessions after a refused header button", n)
	}
}

// TestCloseConversationButton presses "Close conversation" on a thread
// header: the conversation closes. From another thread the button is
// refused and closes nothing.
func TestCloseConversationButton(t *testing.T) {
	r := newRig(t)
	thread := "340000000000000034"
	conv := r.patWrote(thread)
	resp := r.decodeResponse(r.post(r.click(agent(), deskID, remote.ActionCloseConversation+":"+conv.ID, "350000000000000035", 0).json()))
	if got, _ := r.engine.Conversation(context.Background(), conv.ID); resp.Type != 4 || got.State != core.ConversationOpen {
		t.Fatalf("foreign header: %+v, conversation %s", resp, got.State)
	}
	// Answered with a deferred update: the engine's update of the
	// closing rewrites the header (TestHeaderFollowsClose).
	w := r.post(r.click(agent(), deskID, remote.ActionCloseConversation+":"+conv.ID, thread, 0).json())
	if resp := r.decodeResponse(w); resp.Type != 6 {
		t.Fatalf("type %d, want 6 (deferred update): %s", resp.Type, w.Body)
	}
	if got, _ := r.engine.Conversation(context.Background(), conv.ID); got.State != core.ConversationClosed {
		t.Errorf("conversation %s, want closed", got.State)
	}
	// Pressed again (its header shown elsewhere, or closed from the
	// console meanwhile), which makes no update: the answer itself takes
	// the buttons away, and credits nobody.
	w = r.post(r.click(agent(), deskID, remote.ActionCloseConversation+":"+conv.ID, thread, 0).json())
	if resp := r.decodeResponse(w); resp.Type != 7 || !strings.Contains(resp.Data.Content, "This conversation is closed.") || strings.Contains(resp.Data.Content, "closed by") {
		t.Errorf("a closed conversation's header: %s", w.Body)
	}
	golden(t, "thread_closed", w.Body.Bytes())
}

// testOver returns a channel closed when the test ends, before the rig's
// own cleanup waits for the adapter's work: a fake held until the test
// releases it must not keep a test that failed early from ending.
func testOver(t *testing.T) <-chan struct{} {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	return stop
}

// TestClickDeferred: a button whose action waits on a slow provider is
// acknowledged with a deferred update; the card is then edited through
// the interaction token, and an error arrives as an ephemeral follow-up.
func TestClickDeferred(t *testing.T) {
	r := newRig(t, func(o *Options) { o.DeferAfter = 20 * time.Millisecond })
	s := r.issue()
	release := make(chan struct{})
	stop := testOver(t)
	fail := false
	r.provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		select {
		case <-release:
		case <-stop:
			return core.Ticket{}, core.Errorf(core.CodeUnavailable, "the test is over")
		}
		if fail {
			return core.Ticket{}, core.Errorf(core.CodeUnavailable, "provider down")
		}
		return core.Ticket{PIN: "999999", DesktopURL: "https://support.example.com/?code=999999", MobileURL: "https://support.example.com/m/999999", ManualURL: "https://support.example.com/"}, nil
	}
	in := r.click(agent(), supportC, remote.ActionRegenerate+":"+s.ID, "card-1", 64)
	w := r.post(in.json())
	if resp := r.decodeResponse(w); resp.Type != 6 {
		t.Fatalf("type %d, want 6 (deferred update): %s", resp.Type, w.Body)
	}
	golden(t, "deferred_update", w.Body.Bytes())
	release <- struct{}{}
	eventually(t, "the card edited with the new PIN", func() bool {
		m, ok := r.fake.Webhook(in["token"].(string))
		return ok && strings.Contains(string(m.Embeds), "999999")
	})

	fail = true
	in = r.click(agent(), supportC, remote.ActionRegenerate+":"+s.ID, "card-1", 64)
	r.decodeResponse(r.post(in.json()))
	release <- struct{}{}
	var followUp []byte
	eventually(t, "the error as an ephemeral follow-up", func() bool {
		for _, q := range r.fake.Requests() {
			if q.Method == "POST" && q.Path == "webhooks/"+appID+"/"+in["token"].(string) {
				var m struct {
					Content string
					Flags   int
				}
				json.Unmarshal(q.Body, &m)
				followUp = q.Body
				return m.Flags == 64 && strings.HasPrefix(m.Content, "The remote support service is unavailable")
			}
		}
		return false
	})
	golden(t, "deferred_update_error", followUp)
}

// A provider with a link of its own (MeshCentral's device share) hands it
// to the technician who pressed Start and to nobody else: with their own
// card, which only they see, or, from a desk alert every agent sees, in a
// message only they see.
func TestTechnicianLinkIsPrivate(t *testing.T) {
	r := newRig(t)
	r.provider.StartFunc = func(ctx context.Context, s *core.Session, mode core.Mode, technician string) (string, error) {
		return "https://mesh.example.com/sharing?c=secret-" + technician, nil
	}
	s := r.issue()
	thread := "320000000000000032"
	r.setThread(s.ConversationID, thread)
	if _, _, err := r.engine.Join(context.Background(), s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	bob := map[string]any{"user": map[string]any{"id": "510000000000000051", "username": "bob"}, "roles": []string{roleID}}
	w := r.post(r.click(bob, thread, remote.ActionStartControl+":"+s.ID, "alert-1", 0).json())
	resp := r.decodeResponse(w)
	if resp.Type != 4 || resp.Data.Flags != 64 || !strings.Contains(w.Body.String(), "https://mesh.example.com/sharing?c=secret-bob") {
		t.Errorf("from the desk alert the technician got %s, want a message only they see with the link", w.Body)
	}
	if got, _ := r.engine.Session(context.Background(), s.ID); got.State != core.StateActive || got.Mode != core.ModeControl {
		t.Errorf("session %s %s", got.State, got.Mode)
	}
}

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

// TestRemoteCustomer runs /remote customer:@pat: the agent gets an
// ephemeral card within the request, with the PIN, the links, the expiry
// in their own time zone and buttons carrying the session.
func TestRemoteCustomer(t *testing.T) {
	r := newRig(t)
	w := r.post(r.remoteCommand(agent(), supportC, customerOption(patID)).json())
	resp := r.decodeResponse(w)
	ss := r.sessions()
	if len(ss) != 1 {
		t.Fatalf("%d sessions", len(ss))
	}
	s := ss[0]
	golden(t, "card_issued", w.Body.Bytes(), s.ID, "SESSION")
	if resp.Type != 4 || resp.Data.Flags != 64 {
		t.Errorf("type %d flags %d, want an ephemeral message (4, 64)", resp.Type, resp.Data.Flags)
	}
	ids := customIDs(resp.Data.Components)
	want := []string{remote.ActionSendDesktop + ":" + s.ID, remote.ActionSendMobile + ":" + s.ID, remote.ActionRegenerate + ":" + s.ID, remote.ActionClose + ":" + s.ID,
		remote.ActionHandoff + ":" + s.ID}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("buttons %v, want %v", ids, want)
	}
	conv, _ := r.engine.Conversation(context.Background(), s.ConversationID)
	if conv.Customer != (core.Endpoint{Channel: "discord", Address: patID}) || conv.CustomerName != "Pat" || conv.Desk != r.a.Desk() || s.Agent != "alice" {
		t.Errorf("conversation %+v, session agent %q", conv, s.Agent)
	}
	if len(r.fake.Requests()) != 0 {
		t.Errorf("the card needed %d REST calls; it is the response itself", len(r.fake.Requests()))
	}
}

// TestRemoteRefusals: members who may not act, and commands that cannot
// be understood, get an ephemeral explanation and issue nothing.
func TestRemoteRefusals(t *testing.T) {
	r := newRig(t)
	dm := r.remoteCommand(nil, supportC, customerOption(patID))
	dm["user"] = map[string]any{"id": aliceID, "username": "alice"}
	foreign := r.remoteCommand(agent(), supportC, customerOption(patID))
	foreign["guild_id"] = "999999999999999999"
	bot := r.remoteCommand(agent(), supportC, customerOption(patID))
	bot["data"].(map[string]any)["resolved"].(map[string]any)["users"] = map[string]any{patID: map[string]any{"id": patID, "username": "helper", "bot": true}}
	for _, tc := range []struct {
		name, golden string
		in           interaction
	}{
		{"member without the role", "refused_not_agent", r.remoteCommand(stranger(), supportC, customerOption(patID))},
		{"another guild", "refused_not_agent", foreign},
		{"in a DM", "refused_not_agent", dm},
		{"alone outside a conversation thread", "usage", r.remoteCommand(agent(), supportC)},
		{"unknown device", "usage", r.remoteCommand(agent(), supportC, customerOption(patID), map[string]any{"name": "device", "type": 3, "value": "fridge"})},
		{"a bot as customer", "refused_bot", bot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := r.post(tc.in.json())
			resp := r.decodeResponse(w)
			if resp.Type != 4 || resp.Data.Flags != 64 || len(resp.Data.Embeds) != 0 {
				t.Errorf("want an ephemeral sentence, got %s", w.Body)
			}
			golden(t, tc.golden, w.Body.Bytes())
		})
	}
	if n := len(r.sessions()); n != 0 {
		t.Errorf("%d sessions issued", n)
	}
}

// TestRemoteInThread runs /remote alone in a relayed conversation's desk
// thread: the PIN is for that conversation's customer.
func TestRemoteInThread(t *testing.T) {
	r := newRig(t)
	conv, _, err := r.engine.CustomerMessage(context.Background(), core.Inbound{
		Customer: core.Endpoint{Channel: "discord", Address: patID}, Name: "Pat", Text: "my printer", Desk: r.a.Desk()})
	if err != nil {
		t.Fatal(err)
	}
	r.setThread(conv.ID, "310000000000000031")
	w := r.post(r.remoteCommand(agent(), "310000000000000031").json())
	resp := r.decodeResponse(w)
	ss := r.sessions()
	if len(ss) != 1 || ss[0].ConversationID != conv.ID || len(resp.Data.Embeds) != 1 || !strings.Contains(resp.Data.Embeds[0].Description, "Customer: Pat") {
		t.Fatalf("sessions %v, response %+v", ss, resp)
	}
	golden(t, "card_remote_in_thread", w.Body.Bytes(), ss[0].ID, "SESSION")
}

// TestRemoteWithDevice sends the named link at once: the card says so.
func TestRemoteWithDevice(t *testing.T) {
	r := newRig(t)
	w := r.post(r.remoteCommand(agent(), supportC, customerOption(patID), map[string]any{"name": "device", "type": 3, "value": "mobile"}).json())
	resp := r.decodeResponse(w)
	s := r.sessions()[0]
	golden(t, "card_remote_device", w.Body.Bytes(), s.ID, "SESSION")
	if s.State != core.StateSent || !strings.Contains(resp.Data.Embeds[0].Description, "Link sent") {
		t.Errorf("state %s, card %q", s.State, resp.Data.Embeds[0].Description)
	}
	ds, _ := r.engine.Deliveries(context.Background(), s.ID)
	if len(ds) != 1 || ds[0].Notice.Link != s.MobileURL {
		t.Errorf("deliveries %+v", ds)
	}
}

// TestRemoteDeferred: when the provider is slower than Discord's three
// seconds allow, the answer is a deferred ephemeral response, and the
// card arrives as an edit of it.
func TestRemoteDeferred(t *testing.T) {
	release := make(chan struct{})
	r := newRig(t, func(o *Options) { o.DeferAfter = 20 * time.Millisecond })
	r.provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		<-release
		return core.Ticket{PIN: "012345", DesktopURL: "https://support.example.com/?code=012345", MobileURL: "https://support.example.com/m/012345", ManualURL: "https://support.example.com/"}, nil
	}
	in := r.remoteCommand(agent(), supportC, customerOption(patID))
	w := r.post(in.json())
	close(release)
	golden(t, "deferred_command", w.Body.Bytes())
	var got json.RawMessage
	eventually(t, "the card as an edit of the deferred response", func() bool {
		m, ok := r.fake.Webhook(in["token"].(string))
		if ok {
			got, _ = json.Marshal(m)
		}
		return ok
	})
	golden(t, "deferred_card", got, r.sessions()[0].ID, "SESSION")
	req := r.fake.Requests()[0]
	if req.Method != "PATCH" || req.Path != "webhooks/"+appID+"/"+in["token"].(string)+"/messages/@original" {
		t.Errorf("follow-up %s %s", req.Method, req.Path)
	}
}

// setThread records thread as conversation id's desk thread, as the
// outbox does after the thread's first delivery.
func (r *rig) setThread(id, thread string) {
	r.t.Helper()
	st := r.store
	c, err := st.FindConversation(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	c.DeskThread = thread
	if err := st.UpdateConversation(context.Background(), c); err != nil {
		r.t.Fatal(err)
	}
}

// Discord's window for an interaction's first answer, and the part of it
// left for that answer to travel back.
const (
	responseWindow = 3 * time.Second
	travelMargin   = 750 * time.Millisecond
)

// TestDefaultDeferAfter: without Options.DeferAfter, a slow provider's
// command is answered with a deferred response comfortably inside
// Discord's three seconds, or the agent sees "The application did not
// respond".
func TestDefaultDeferAfter(t *testing.T) {
	t.Parallel()
	if DefaultDeferAfter <= 0 || DefaultDeferAfter+travelMargin > responseWindow {
		t.Fatalf("DefaultDeferAfter = %v, want it to leave at least %v of Discord's %v", DefaultDeferAfter, travelMargin, responseWindow)
	}
	release := make(chan struct{})
	r := newRig(t, func(o *Options) { o.DeferAfter = 0 })
	if r.a.deferAfter != DefaultDeferAfter {
		t.Errorf("deferAfter = %v with Options.DeferAfter zero, want DefaultDeferAfter", r.a.deferAfter)
	}
	r.provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		<-release
		return core.Ticket{PIN: "012345", DesktopURL: "https://support.example.com/?code=012345"}, nil
	}
	defer close(release)
	// The provider never answers until the test ends: only the default
	// timer can produce this answer.
	resp := r.decodeResponse(r.post(r.remoteCommand(agent(), supportC, customerOption(patID)).json()))
	if resp.Type != 5 {
		t.Errorf("answered with type %d, want a deferred response (5)", resp.Type)
	}
}

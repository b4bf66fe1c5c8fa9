package core_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

var (
	ctx   = context.Background()
	t0    = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	alice = core.Actor{Kind: core.ActorAgent, Name: "alice"}
	tech  = core.Actor{Kind: core.ActorTechnician, Name: "tom"}
	pat   = core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"}
	desk  = core.Endpoint{Channel: core.ChannelSlack, Address: "C0DESK/1700000000.000100"}
)

// rig is an engine over fakes.
type rig struct {
	*core.Engine
	store    *coretest.MemStore
	provider *coretest.Provider
	clock    *coretest.Clock
	sms      *coretest.Channel
	slack    *coretest.Channel
}

func newRig(t *testing.T, pins ...string) *rig {
	t.Helper()
	if len(pins) == 0 {
		pins = []string{"123456", "234567", "345678", "456789", "567890"}
	}
	r := &rig{
		store:    coretest.NewMemStore(),
		provider: &coretest.Provider{Pins: coretest.NewPINs(pins...)},
		clock:    coretest.NewClock(t0),
		sms:      &coretest.Channel{ChannelName: core.ChannelSMS},
		slack:    &coretest.Channel{ChannelName: core.ChannelSlack},
	}
	r.Engine = core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}),
		Store: r.store, Provider: r.provider, Clock: r.clock,
		Channels: []core.Channel{r.sms, r.slack},
		Addresses: map[string]func(string) (string, error){
			core.ChannelSMS: func(s string) (string, error) {
				s = strings.ReplaceAll(s, " ", "")
				if !strings.HasPrefix(s, "+") {
					return "", errors.New("not an E.164 number")
				}
				return s, nil
			},
		},
	})
	return r
}

func (r *rig) issue(t *testing.T) *core.Session {
	t.Helper()
	s, _, err := r.Issue(ctx, core.Request{Customer: pat, Desk: desk, Agent: "alice", Locale: "ko"})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return s
}

func (r *rig) events(t *testing.T, id string) []string {
	t.Helper()
	evs, err := r.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Action)+":"+string(e.From)+">"+string(e.To))
	}
	return out
}

func wantCode(t *testing.T, err error, code core.Code) {
	t.Helper()
	if got := core.ErrorCode(err); got != code {
		t.Fatalf("err = %v (code %q), want code %q", err, got, code)
	}
}

func TestIssue(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	if s.State != core.StateIssued || s.PIN != "123456" || s.Agent != "alice" || s.Locale != "ko" {
		t.Errorf("session = %+v", s)
	}
	if s.DesktopURL != "https://support.example.com/?code=123456" || s.MobileURL != "https://support.example.com/m/123456" || s.ManualURL != "https://support.example.com/" {
		t.Errorf("links = %q %q %q", s.DesktopURL, s.MobileURL, s.ManualURL)
	}
	if want := t0.Add(core.DefaultPINTTL); !s.PINExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", s.PINExpiresAt, want)
	}
	c, err := r.Conversation(ctx, s.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Customer != pat || c.Desk != desk || c.State != core.ConversationOpen {
		t.Errorf("conversation = %+v", c)
	}
	if got := r.events(t, s.ID); len(got) != 1 || got[0] != "issue:>issued" {
		t.Errorf("events = %v", got)
	}

	t.Run("same customer, same conversation", func(t *testing.T) {
		s2 := r.issue(t)
		if s2.ConversationID != s.ConversationID {
			t.Errorf("second session in conversation %s, want %s", s2.ConversationID, s.ConversationID)
		}
		if s2.PIN == s.PIN {
			t.Error("two live sessions share a pin")
		}
	})
	t.Run("no customer", func(t *testing.T) {
		s, _, err := r.Issue(ctx, core.Request{Agent: "api"})
		if err != nil {
			t.Fatal(err)
		}
		if s.Locale != "en" {
			t.Errorf("locale = %q, want the default en", s.Locale)
		}
	})
}

func TestIssueRefusesBadCustomer(t *testing.T) {
	r := newRig(t)
	for name, ep := range map[string]core.Endpoint{
		"unknown channel": {Channel: "pigeon", Address: "coop 4"},
		"no channel":      {Address: "+12015550123"},
		"no address":      {Channel: core.ChannelSMS},
		"bad number":      {Channel: core.ChannelSMS, Address: "2015550123"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := r.Issue(ctx, core.Request{Customer: ep})
			wantCode(t, err, core.CodeInvalid)
		})
	}
	t.Run("closed conversation", func(t *testing.T) {
		s := r.issue(t)
		c, _ := r.store.FindConversation(ctx, s.ConversationID)
		c.State = core.ConversationClosed
		if err := r.store.UpdateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		_, _, err := r.Issue(ctx, core.Request{ConversationID: c.ID})
		wantCode(t, err, core.CodeInvalid)
	})
	t.Run("unknown conversation", func(t *testing.T) {
		_, _, err := r.Issue(ctx, core.Request{ConversationID: "nope"})
		wantCode(t, err, core.CodeNotFound)
	})
}

func TestIssuePINCollision(t *testing.T) {
	r := newRig(t, "111111", "111111", "111111", "222222")
	a, b := r.issue(t), r.issue(t)
	if a.PIN != "111111" || b.PIN != "222222" {
		t.Errorf("pins %s %s, want 111111 then a fresh one", a.PIN, b.PIN)
	}
	t.Run("no free pin", func(t *testing.T) {
		r := newRig(t, "333333")
		r.issue(t)
		_, _, err := r.Issue(ctx, core.Request{Customer: pat})
		wantCode(t, err, core.CodeConflict)
	})
}

func TestIssueProviderFailure(t *testing.T) {
	r := newRig(t)
	r.provider.IssueFunc = func(context.Context, core.IssueRequest) (core.Ticket, error) {
		return core.Ticket{}, core.Errorf(core.CodeUnavailable, "rescue api is down")
	}
	_, _, err := r.Issue(ctx, core.Request{Customer: pat})
	wantCode(t, err, core.CodeUnavailable)

	r.provider.IssueFunc = func(context.Context, core.IssueRequest) (core.Ticket, error) {
		return core.Ticket{PIN: "12ab56"}, nil
	}
	_, _, err = r.Issue(ctx, core.Request{Customer: pat})
	wantCode(t, err, core.CodeUnavailable)
}

func TestProviderExpiryWins(t *testing.T) {
	r := newRig(t)
	r.provider.IssueFunc = func(context.Context, core.IssueRequest) (core.Ticket, error) {
		return core.Ticket{PIN: "987654", DesktopURL: "https://x.example/987654", MobileURL: "https://x.example/m/987654", ManualURL: "https://x.example/", ExpiresAt: t0.Add(5 * time.Minute)}, nil
	}
	s := r.issue(t)
	if !s.PINExpiresAt.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("expires %v, want the provider's earlier deadline", s.PINExpiresAt)
	}
}

func TestRegenerate(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	if _, _, err := r.Send(ctx, s.ID, alice, core.LinkMobile); err != nil {
		t.Fatal(err)
	}
	n, err := r.Regenerate(ctx, s.ID, alice)
	if err != nil {
		t.Fatal(err)
	}
	if n.State != core.StateIssued || n.PIN == s.PIN || n.PIN != "234567" || !strings.Contains(n.DesktopURL, n.PIN) {
		t.Errorf("after regenerate: %+v", n)
	}
	if _, err := r.SessionByPIN(ctx, s.PIN); !errors.Is(err, core.ErrUnknownPIN) {
		t.Errorf("old pin still usable: %v", err)
	}
	if _, _, err := r.Join(ctx, s.PIN, core.DeviceDesktop); !errors.Is(err, core.ErrUnknownPIN) {
		t.Errorf("join with the old pin: %v", err)
	}
	if got := r.provider.Revoked(); len(got) != 1 || got[0] != s.PIN {
		t.Errorf("revoked %v, want the old pin", got)
	}
	if got := strings.Join(r.events(t, s.ID), " "); got != "issue:>issued send:issued>sent regenerate:sent>issued" {
		t.Errorf("events = %s", got)
	}

	t.Run("after expiry", func(t *testing.T) {
		r.clock.Add(core.DefaultPINTTL)
		n2, err := r.Regenerate(ctx, s.ID, alice)
		if err != nil {
			t.Fatal(err)
		}
		if n2.State != core.StateIssued || !n2.PINExpiresAt.Equal(r.clock.Now().Add(core.DefaultPINTTL)) {
			t.Errorf("after regenerate: %+v", n2)
		}
		evs := r.events(t, s.ID)
		if got := strings.Join(evs[len(evs)-2:], " "); got != "expire:issued>expired regenerate:expired>issued" {
			t.Errorf("last events = %s; the expiry must be recorded before the new pin", got)
		}
	})
	t.Run("not after join", func(t *testing.T) {
		s := r.issue(t)
		if _, _, err := r.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
			t.Fatal(err)
		}
		_, err := r.Regenerate(ctx, s.ID, alice)
		wantCode(t, err, core.CodeInvalidTransition)
		if !strings.Contains(core.ErrorMessage(err), "waiting") {
			t.Errorf("message %q does not name the state", core.ErrorMessage(err))
		}
	})
}

func TestSend(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	got, d, err := r.Send(ctx, s.ID, alice, core.LinkMobile)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != core.StateSent {
		t.Errorf("state %s", got.State)
	}
	if d.ID == 0 || d.Status != core.DeliveryQueued || d.To != pat {
		t.Errorf("delivery = %+v", d)
	}
	n := d.Notice
	if n.Kind != core.NoticeLink || n.Link != s.MobileURL || n.PIN != s.PIN || n.Locale != "ko" || !n.ExpiresAt.Equal(s.PINExpiresAt) {
		t.Errorf("notice = %+v", n)
	}
	evs, _ := r.Events(ctx, s.ID)
	if detail := evs[len(evs)-1].Detail; strings.Contains(detail, pat.Address) || !strings.Contains(detail, "…0123") {
		t.Errorf("event detail %q must mask the number", detail)
	}
	if _, _, err := r.Send(ctx, s.ID, alice, core.LinkDesktop); err != nil {
		t.Errorf("sending again: %v", err)
	}

	t.Run("bad link kind", func(t *testing.T) {
		_, _, err := r.Send(ctx, s.ID, alice, "carrier-pigeon")
		wantCode(t, err, core.CodeInvalid)
	})
	t.Run("no customer", func(t *testing.T) {
		s, _, _ := r.Issue(ctx, core.Request{})
		_, _, err := r.Send(ctx, s.ID, alice, core.LinkDesktop)
		if !errors.Is(err, core.ErrNoCustomer) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("channel not enabled", func(t *testing.T) {
		s, _, _ := r.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelDiscord, Address: "123"}})
		_, _, err := r.Send(ctx, s.ID, alice, core.LinkDesktop)
		wantCode(t, err, core.CodeUnavailable)
		if got, _ := r.Session(ctx, s.ID); got.State != core.StateIssued {
			t.Errorf("a refused send changed the state to %s", got.State)
		}
	})
	t.Run("expired", func(t *testing.T) {
		r := newRig(t)
		s := r.issue(t)
		r.clock.Add(core.DefaultPINTTL)
		_, _, err := r.Send(ctx, s.ID, alice, core.LinkDesktop)
		wantCode(t, err, core.CodeExpired)
	})
	t.Run("unknown session", func(t *testing.T) {
		_, _, err := r.Send(ctx, "nope", alice, core.LinkDesktop)
		wantCode(t, err, core.CodeNotFound)
	})
}

// optOut is a channel that refuses an endpoint before anything is queued.
type optOut struct{ coretest.Channel }

func (o *optOut) Check(ctx context.Context, to core.Endpoint) error {
	return core.Errorf(core.CodeInvalid, "the customer opted out")
}

func TestSendCheckedEndpoint(t *testing.T) {
	ch := &optOut{coretest.Channel{ChannelName: core.ChannelSMS}}
	e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: coretest.NewMemStore(), Provider: &coretest.Provider{}, Channels: []core.Channel{ch}})
	s, _, err := e.Issue(ctx, core.Request{Customer: pat})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.Send(ctx, s.ID, alice, core.LinkMobile)
	if core.ErrorMessage(err) != "the customer opted out" {
		t.Errorf("err = %v", err)
	}
	if ds, _ := e.Deliveries(ctx, s.ID); len(ds) != 0 {
		t.Errorf("%d deliveries queued for an opted-out customer", len(ds))
	}
}

func TestClose(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	c, err := r.Close(ctx, s.ID, alice)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != core.StateClosed {
		t.Errorf("state %s", c.State)
	}
	if _, err := r.SessionByPIN(ctx, s.PIN); !errors.Is(err, core.ErrUnknownPIN) {
		t.Errorf("closed pin still usable: %v", err)
	}
	if got := r.provider.Revoked(); len(got) != 1 || got[0] != s.PIN {
		t.Errorf("revoked %v", got)
	}
	_, err = r.Close(ctx, s.ID, alice)
	wantCode(t, err, core.CodeInvalidTransition)

	t.Run("revoke failure keeps it open", func(t *testing.T) {
		s := r.issue(t)
		r.provider.RevokeFunc = func(context.Context, *core.Session) error {
			return core.Errorf(core.CodeUnavailable, "rescue api is down")
		}
		defer func() { r.provider.RevokeFunc = nil }()
		_, err := r.Close(ctx, s.ID, alice)
		wantCode(t, err, core.CodeUnavailable)
		if got, _ := r.Session(ctx, s.ID); got.State != core.StateIssued {
			t.Errorf("state %s after a failed close", got.State)
		}
	})
	t.Run("while waiting", func(t *testing.T) {
		s := r.issue(t)
		if _, _, err := r.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
			t.Fatal(err)
		}
		if c, err := r.Close(ctx, s.ID, alice); err != nil || c.State != core.StateClosed {
			t.Errorf("close while waiting: %v", err)
		}
	})
}

func TestJoin(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	r.clock.Add(time.Minute)
	j, secret, err := r.Join(ctx, s.PIN, core.DeviceMobile)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != core.StateWaiting || j.Device != core.DeviceMobile || !j.JoinedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("joined session = %+v", j)
	}
	if secret == "" || core.SecretKey(secret) != j.CustomerKey {
		t.Error("the secret does not match the stored key")
	}
	ds, _ := r.Deliveries(ctx, s.ID)
	if len(ds) != 1 || ds[0].To != desk || ds[0].Notice.Action != core.ActionJoin || ds[0].Notice.Device != core.DeviceMobile {
		t.Errorf("desk alert = %+v", ds)
	}
	t.Run("pin is consumed", func(t *testing.T) {
		_, _, err := r.Join(ctx, s.PIN, core.DeviceDesktop)
		if !errors.Is(err, core.ErrUnknownPIN) {
			t.Errorf("second join: %v", err)
		}
	})
	t.Run("one answer for every bad pin", func(t *testing.T) {
		expired := r.issue(t)
		r.clock.Add(core.DefaultPINTTL)
		closed := r.issue(t)
		if _, err := r.Close(ctx, closed.ID, alice); err != nil {
			t.Fatal(err)
		}
		for name, pin := range map[string]string{"unknown": "999999", "malformed": "12ab", "expired": expired.PIN, "closed": closed.PIN, "used": s.PIN} {
			_, _, err := r.Join(ctx, pin, core.DeviceDesktop)
			if err != core.ErrUnknownPIN {
				t.Errorf("%s: err = %v, want exactly ErrUnknownPIN", name, err)
			}
		}
	})
	t.Run("unknown device", func(t *testing.T) {
		s := r.issue(t)
		j, _, err := r.Join(ctx, s.PIN, "toaster")
		if err != nil || j.Device != core.DeviceUnknown {
			t.Errorf("device = %v, %v", j, err)
		}
	})
}

func TestStartAndEnd(t *testing.T) {
	joined := func(r *rig, device core.Device) *core.Session {
		s := r.issue(t)
		j, _, err := r.Join(ctx, s.PIN, device)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	r := newRig(t)
	t.Run("control on desktop", func(t *testing.T) {
		s := joined(r, core.DeviceDesktop)
		a, err := r.Start(ctx, s.ID, tech, core.ModeControl)
		if err != nil {
			t.Fatal(err)
		}
		if a.State != core.StateActive || a.Mode != core.ModeControl || a.Technician != "tom" {
			t.Errorf("started = %+v", a)
		}
		e, err := r.End(ctx, s.ID, tech)
		if err != nil || e.State != core.StateEnded || e.EndedAt.IsZero() {
			t.Errorf("end = %+v, %v", e, err)
		}
		if got := strings.Join(r.events(t, s.ID), " "); got != "issue:>issued join:issued>waiting start:waiting>active end:active>ended" {
			t.Errorf("events = %s", got)
		}
	})
	t.Run("mobile is view only", func(t *testing.T) {
		s := joined(r, core.DeviceMobile)
		_, err := r.Start(ctx, s.ID, tech, core.ModeControl)
		wantCode(t, err, core.CodeInvalid)
		if !strings.Contains(core.ErrorMessage(err), "mobile") {
			t.Errorf("message %q", core.ErrorMessage(err))
		}
		if a, err := r.Start(ctx, s.ID, tech, core.ModeView); err != nil || a.Mode != core.ModeView {
			t.Errorf("view: %v", err)
		}
	})
	t.Run("provider without control", func(t *testing.T) {
		r := newRig(t)
		r.provider.ModeList = []core.Mode{core.ModeView}
		s := joined(r, core.DeviceDesktop)
		_, err := r.Start(ctx, s.ID, tech, core.ModeControl)
		wantCode(t, err, core.CodeInvalid)
		if !strings.Contains(core.ErrorMessage(err), "remote control needs") {
			t.Errorf("message %q", core.ErrorMessage(err))
		}
	})
	t.Run("bad mode", func(t *testing.T) {
		_, err := r.Start(ctx, "any", tech, "telepathy")
		wantCode(t, err, core.CodeInvalid)
	})
	t.Run("not before join", func(t *testing.T) {
		s := r.issue(t)
		_, err := r.Start(ctx, s.ID, tech, core.ModeView)
		wantCode(t, err, core.CodeInvalidTransition)
	})
	t.Run("end while waiting", func(t *testing.T) {
		s := joined(r, core.DeviceDesktop)
		if e, err := r.End(ctx, s.ID, tech); err != nil || e.State != core.StateEnded {
			t.Errorf("end = %v, %v", e, err)
		}
	})
}

// TestSessionsPageOfFinishedPastLiveOnes: the console's queue asks for
// the last few finished sessions. Newer live ones once filled the page
// the store returned, and were then dropped: in a busy hour the finished
// sessions vanished from the queue.
func TestSessionsPageOfFinishedPastLiveOnes(t *testing.T) {
	r := newRig(t)
	done := r.issue(t)
	if _, err := r.Close(ctx, done.ID, core.Actor{Kind: core.ActorAgent, Name: "ada"}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		r.clock.Add(time.Second)
		r.issue(t)
	}
	finished := []core.State{core.StateEnded, core.StateClosed, core.StateExpired}
	list, err := r.Sessions(ctx, core.SessionFilter{States: finished, Limit: 3})
	if err != nil || len(list) != 1 || list[0].ID != done.ID {
		t.Errorf("the last finished sessions, 3 a page, behind 5 live ones: %d found (%v), want the closed one", len(list), err)
	}
}

func TestExpireDue(t *testing.T) {
	r := newRig(t)
	a, b := r.issue(t), r.issue(t)
	if _, _, err := r.Join(ctx, b.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Session(ctx, a.ID); got.State != core.StateIssued {
		t.Fatalf("state %s before the lifetime passed", got.State)
	}
	r.clock.Add(core.DefaultPINTTL)
	if got, _ := r.Session(ctx, a.ID); got.State != core.StateExpired {
		t.Errorf("a session past its lifetime reads %s, want expired at once", got.State)
	}
	if list, _ := r.Sessions(ctx, core.SessionFilter{States: []core.State{core.StateExpired}}); len(list) != 1 || list[0].ID != a.ID {
		t.Errorf("expired filter found %d sessions", len(list))
	}
	if list, _ := r.Sessions(ctx, core.SessionFilter{States: []core.State{core.StateIssued}}); len(list) != 0 {
		t.Errorf("issued filter still lists the expired session")
	}
	n, err := r.ExpireDue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("ExpireDue = %d, %v; want 1", n, err)
	}
	if n, _ := r.ExpireDue(ctx); n != 0 {
		t.Errorf("second ExpireDue = %d, want 0", n)
	}
	if got := strings.Join(r.events(t, a.ID), " "); got != "issue:>issued expire:issued>expired" {
		t.Errorf("events = %s", got)
	}
	ds, _ := r.Deliveries(ctx, a.ID)
	if len(ds) != 1 || ds[0].Notice.Action != core.ActionExpire || ds[0].To != desk {
		t.Errorf("desk alert = %+v", ds)
	}
	if got, _ := r.Session(ctx, b.ID); got.State != core.StateWaiting {
		t.Errorf("a waiting session became %s", got.State)
	}
}

func TestReport(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	steps := []core.StatusReport{
		{SessionID: s.ID, Action: core.ActionJoin, Device: core.DeviceDesktop},
		{SessionID: s.ID, Action: core.ActionStart, Mode: core.ModeControl, Technician: "tom"},
		{SessionID: s.ID, Action: core.ActionEnd},
	}
	for _, st := range steps {
		if _, err := r.Report(ctx, st); err != nil {
			t.Fatalf("%s: %v", st.Action, err)
		}
	}
	got, _ := r.Session(ctx, s.ID)
	if got.State != core.StateEnded || got.Mode != core.ModeControl || got.Technician != "tom" {
		t.Errorf("session = %+v", got)
	}
	_, err := r.Report(ctx, core.StatusReport{SessionID: s.ID, Action: core.ActionSend})
	wantCode(t, err, core.CodeInvalid)
}

// TestReportAlertsDesk checks that a provider's report of a waiting
// customer (LogMeIn's status polling) alerts the agents' desk like the
// portal's Join does: the alert is queued with the change and the outbox
// hands it to the desk's channel.
func TestReportAlertsDesk(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	w, err := r.Report(ctx, core.StatusReport{SessionID: s.ID, Action: core.ActionJoin, Device: core.DeviceDesktop})
	if err != nil || w.State != core.StateWaiting {
		t.Fatalf("report join: %+v, %v", w, err)
	}
	ds, err := r.Deliveries(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("%d deliveries queued by the report, want the desk alert: %+v", len(ds), ds)
	}
	d := ds[0]
	if d.To != desk || d.Status != core.DeliveryQueued || d.Notice.Kind != core.NoticeSession || d.Notice.SessionID != s.ID ||
		d.Notice.Action != core.ActionJoin || d.Notice.State != core.StateWaiting || d.Notice.Device != core.DeviceDesktop {
		t.Errorf("desk alert = %+v, notice %+v", d, d.Notice)
	}
	if n, err := r.DeliverOnce(ctx); err != nil || n != 1 {
		t.Fatalf("DeliverOnce = %d, %v", n, err)
	}
	got := r.slack.Delivered()
	if len(got) != 1 || got[0].ID != d.ID || got[0].To != desk || got[0].Notice.Action != core.ActionJoin {
		t.Errorf("the desk channel got %+v", got)
	}
	if len(r.sms.Delivered()) != 0 {
		t.Errorf("the customer was sent %+v", r.sms.Delivered())
	}
}

// TestConcurrentIssue issues PINs from many goroutines out of a small
// pool: every session gets a PIN no other live session holds.
func TestConcurrentIssue(t *testing.T) {
	var pool []string
	for i := range 64 {
		pool = append(pool, strings.Repeat(string(rune('0'+i%10)), 5)+string(rune('0'+i/10)))
	}
	r := newRig(t, pool...)
	var wg sync.WaitGroup
	got := make(chan *core.Session, 48)
	for i := range 48 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _, err := r.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: string(rune('a' + i%26))}})
			if err != nil {
				t.Errorf("Issue: %v", err)
				return
			}
			got <- s
		}()
	}
	wg.Wait()
	close(got)
	seen := map[string]string{}
	for s := range got {
		if other, ok := seen[s.PIN]; ok {
			t.Errorf("sessions %s and %s share pin %s", s.ID, other, s.PIN)
		}
		seen[s.PIN] = s.ID
	}
	if len(seen) != 48 {
		t.Errorf("%d sessions issued, want 48", len(seen))
	}
}

func TestHub(t *testing.T) {
	r := newRig(t)
	updates, cancel := r.Subscribe(8)
	defer cancel()
	s := r.issue(t)
	u := <-updates
	if u.Session == nil || u.Session.ID != s.ID || u.Event == nil || u.Event.Action != core.ActionIssue {
		t.Errorf("update = %+v", u)
	}
	t.Run("slow subscriber is dropped, not waited for", func(t *testing.T) {
		slow, cancelSlow := r.Subscribe(1)
		defer cancelSlow()
		r.issue(t)
		r.issue(t)
		<-slow
		if _, ok := <-slow; ok {
			t.Error("the slow subscriber was not dropped")
		}
	})
}

// watcher is a provider that reports its sessions' progress itself.
type watcher struct {
	coretest.Provider
	reports chan core.StatusReport
}

func (w *watcher) Watch(ctx context.Context, live func(context.Context) ([]*core.Session, error), report func(context.Context, core.StatusReport) error) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-w.reports:
			sessions, err := live(ctx)
			if err != nil {
				return err
			}
			for _, s := range sessions {
				if s.ID == r.SessionID {
					if err := report(ctx, r); err != nil {
						return err
					}
				}
			}
		}
	}
}

func TestRunDrivesWatcher(t *testing.T) {
	w := &watcher{Provider: coretest.Provider{ProviderName: "rescue"}, reports: make(chan core.StatusReport)}
	e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: coretest.NewMemStore(), Provider: w})
	s, _, err := e.Issue(ctx, core.Request{})
	if err != nil {
		t.Fatal(err)
	}
	updates, cancel := e.Subscribe(8)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Run(runCtx); close(done) }()
	w.reports <- core.StatusReport{SessionID: s.ID, Action: core.ActionJoin, Device: core.DeviceDesktop}
	// The same report twice: ignored, the watch goes on.
	w.reports <- core.StatusReport{SessionID: s.ID, Action: core.ActionJoin, Device: core.DeviceDesktop}
	w.reports <- core.StatusReport{SessionID: s.ID, Action: core.ActionStart, Mode: core.ModeControl, Technician: "tom"}
	for u := range updates {
		if u.Event != nil && u.Event.Action == core.ActionStart {
			break
		}
	}
	stop()
	<-done
	got, _ := e.Session(ctx, s.ID)
	if got.State != core.StateActive || got.Technician != "tom" {
		t.Errorf("session = %+v", got)
	}
}

// TestProviderCredentialsRefused: a provider refusing assistbot's own
// credentials is an unavailable service for the caller, with the advice.
func TestProviderCredentialsRefused(t *testing.T) {
	r := newRig(t)
	r.provider.IssueFunc = func(context.Context, core.IssueRequest) (core.Ticket, error) {
		return core.Ticket{}, core.Errorf(core.CodeUnauthorized, "the Rescue authcode is invalid — ask an admin")
	}
	_, _, err := r.Issue(ctx, core.Request{Customer: pat})
	wantCode(t, err, core.CodeUnavailable)
	if got := core.ErrorMessage(err); got != "the Rescue authcode is invalid — ask an admin" {
		t.Errorf("message = %q", got)
	}
}

func TestRecord(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	j, _, _ := r.Join(ctx, s.PIN, core.DeviceDesktop)
	r.Start(ctx, j.ID, tech, core.ModeView)
	got, err := r.Record(ctx, j.ID, core.Actor{Kind: core.ActorCustomer}, core.ActionShareStart, "screen")
	if err != nil || got.State != core.StateActive {
		t.Fatalf("Record: %+v, %v", got, err)
	}
	evs, _ := r.Events(ctx, j.ID)
	last := evs[len(evs)-1]
	if last.Action != core.ActionShareStart || last.From != core.StateActive || last.To != core.StateActive || last.Detail != "screen" || last.Actor != "customer" {
		t.Errorf("recorded %+v", last)
	}
	if _, err := r.Record(ctx, j.ID, alice, core.ActionStart, ""); core.ErrorCode(err) != core.CodeInvalid {
		t.Errorf("a state action through Record: %v", err)
	}
	r.End(ctx, j.ID, tech)
	if _, err := r.Record(ctx, j.ID, alice, core.ActionShareStart, "screen"); core.ErrorCode(err) != core.CodeInvalidTransition {
		t.Errorf("a share starting on an ended session: %v", err)
	}
	// The end stops a share; that is recorded after it.
	if got, err := r.Record(ctx, j.ID, core.Actor{Kind: core.ActorCustomer}, core.ActionShareStop, "the session ended"); err != nil || got.State != core.StateEnded {
		t.Errorf("a share stopping with the session's end: %+v, %v", got, err)
	}
}

func TestHandoff(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	// Not joined: no key to hand over from.
	if _, _, err := r.Handoff(ctx, s.ID, "", core.DeviceMobile); !errors.Is(err, core.ErrUnknownPIN) {
		t.Errorf("handoff before the join: %v", err)
	}
	j, secret, err := r.Join(ctx, s.PIN, core.DeviceDesktop)
	if err != nil {
		t.Fatal(err)
	}
	key := core.SecretKey(secret)
	if _, _, err := r.Handoff(ctx, j.ID, core.SecretKey("not-the-secret"), core.DeviceMobile); !errors.Is(err, core.ErrUnknownPIN) {
		t.Errorf("handoff with another key: %v", err)
	}
	got, secret2, err := r.Handoff(ctx, j.ID, key, core.DeviceMobile)
	if err != nil {
		t.Fatalf("Handoff: %v", err)
	}
	if got.State != core.StateWaiting || got.Device != core.DeviceMobile || secret2 == "" || secret2 == secret ||
		got.CustomerKey != core.SecretKey(secret2) {
		t.Errorf("after the handoff: %+v (new secret %q)", got, secret2)
	}
	evs, _ := r.Events(ctx, j.ID)
	last := evs[len(evs)-1]
	if last.Action != core.ActionDevice || last.From != core.StateWaiting || last.To != core.StateWaiting || last.Detail != "to a mobile device" || last.Actor != "customer" {
		t.Errorf("recorded %+v", last)
	}
	// The old key was used up: the same handoff cannot run twice.
	if _, _, err := r.Handoff(ctx, j.ID, key, core.DeviceDesktop); !errors.Is(err, core.ErrUnknownPIN) {
		t.Errorf("a second handoff from the old key: %v", err)
	}

	// Under remote control a phone cannot take over; in view it can.
	r.Start(ctx, j.ID, tech, core.ModeView)
	back, secret3, err := r.Handoff(ctx, j.ID, core.SecretKey(secret2), core.DeviceDesktop)
	if err != nil || back.State != core.StateActive || back.Device != core.DeviceDesktop {
		t.Fatalf("handoff while active: %+v, %v", back, err)
	}
	r.End(ctx, j.ID, tech)
	if _, _, err := r.Handoff(ctx, j.ID, core.SecretKey(secret3), core.DeviceMobile); !errors.Is(err, core.ErrUnknownPIN) {
		t.Errorf("handoff after the end: %v", err)
	}

	c := r.issue(t)
	cj, csecret, _ := r.Join(ctx, c.PIN, core.DeviceDesktop)
	r.Start(ctx, cj.ID, tech, core.ModeControl)
	if _, _, err := r.Handoff(ctx, cj.ID, core.SecretKey(csecret), core.DeviceMobile); core.ErrorCode(err) != core.CodeInvalidTransition {
		t.Errorf("a phone taking over remote control: %v", err)
	}
}

func TestWatch(t *testing.T) {
	r := newRig(t)
	s := r.issue(t)
	j, _, _ := r.Join(ctx, s.PIN, core.DeviceDesktop)
	if _, err := r.Watch(ctx, j.ID, alice); core.ErrorCode(err) != core.CodeInvalidTransition {
		t.Errorf("watching a waiting session: %v", err)
	}
	r.Start(ctx, j.ID, core.Actor{Kind: core.ActorTechnician, Name: "U024BE7LH"}, core.ModeView)
	got, err := r.Watch(ctx, j.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"})
	if err != nil || got.Technician != "alice" || got.State != core.StateActive {
		t.Fatalf("Watch: %+v, %v", got, err)
	}
	evs, _ := r.Events(ctx, j.ID)
	last := evs[len(evs)-1]
	if last.Action != core.ActionWatch || last.Actor != "technician:alice" || last.Detail != "instead of U024BE7LH" || last.From != core.StateActive || last.To != core.StateActive {
		t.Errorf("recorded %+v", last)
	}
	// Again: nothing to record.
	if again, err := r.Watch(ctx, j.ID, alice); err != nil || again.Technician != "alice" {
		t.Errorf("watching again: %+v, %v", again, err)
	}
	if evs2, _ := r.Events(ctx, j.ID); len(evs2) != len(evs) {
		t.Errorf("watching again recorded %d more events", len(evs2)-len(evs))
	}
	if _, err := r.Watch(ctx, j.ID, core.Actor{Kind: core.ActorAgent}); core.ErrorCode(err) != core.CodeInvalid {
		t.Errorf("watching without a name: %v", err)
	}
	r.End(ctx, j.ID, tech)
	if _, err := r.Watch(ctx, j.ID, alice); core.ErrorCode(err) != core.CodeInvalidTransition {
		t.Errorf("watching an ended session: %v", err)
	}
}

// A platform built after the engine adds its channel before Run; once the
// engine runs, the set of channels is fixed and a late one is refused
// rather than raced with the outbox.
func TestAddChannelOnlyBeforeRun(t *testing.T) {
	r := newRig(t)
	web := &coretest.Channel{ChannelName: core.ChannelWeb}
	if err := r.AddChannel(web); err != nil {
		t.Fatalf("AddChannel before Run: %v", err)
	}
	s, _, err := r.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"}, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Send(ctx, s.ID, alice, core.LinkDesktop); err != nil {
		t.Fatalf("send through the channel added before Run: %v", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	// Run starts on its own goroutine: an add that wins the race is an
	// early one and accepted; once Run has begun every add is refused.
	late := &coretest.Channel{ChannelName: core.ChannelDiscord}
	deadline := time.Now().Add(5 * time.Second)
	for r.AddChannel(late) == nil {
		if time.Now().After(deadline) {
			t.Fatal("AddChannel is still accepted 5 s after Run started")
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	<-done
}

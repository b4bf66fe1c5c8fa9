package remote_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// TestIssue issues a PIN and, when the agent named a link, sends it at
// once; a link that cannot be sent leaves the session, and says why.
func TestIssue(t *testing.T) {
	r := newRig(t)
	is, err := r.bot.Issue(ctx, core.Request{Customer: pat, Agent: "alice"}, "")
	if err != nil || is.Session.State != core.StateIssued || is.Delivery != nil || is.SendErr != nil || is.Conversation.Customer != pat {
		t.Fatalf("issue: %+v, %v", is, err)
	}
	if card := r.bot.IssuedCard(is, "en"); card.Delivery != "" || card.PIN != is.Session.PIN {
		t.Errorf("card of a fresh session: %+v", card)
	}

	web := core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"}
	is, err = r.bot.Issue(ctx, core.Request{Customer: web, Agent: "alice"}, core.LinkMobile)
	if err != nil || is.Session.State != core.StateSent || is.Delivery == nil || is.Delivery.Notice.Link != is.Session.MobileURL {
		t.Fatalf("issue and send: %+v, %v", is, err)
	}
	if got, want := r.bot.IssuedCard(is, "en"), r.bot.Card(ctx, is.Session, is.Conversation, "en"); got.Delivery != "Sending…" || got.Delivery != want.Delivery || got.StateLabel != want.StateLabel {
		t.Errorf("card of a session sent at once: %+v, want %+v", got, want)
	}

	t.Run("the link cannot be sent", func(t *testing.T) {
		is, err := r.bot.Issue(ctx, core.Request{Agent: "alice"}, core.LinkDesktop) // nobody to send it to
		if err != nil || is.Session == nil || !errors.Is(is.SendErr, core.ErrNoCustomer) {
			t.Fatalf("issue: %+v, %v", is, err)
		}
		if got := r.bot.ErrorText(is.SendErr, "en"); got != "This session has no customer to send the link to." {
			t.Errorf("the agent reads %q", got)
		}
	})
	t.Run("no PIN", func(t *testing.T) {
		r.provider.IssueFunc = func(context.Context, core.IssueRequest) (core.Ticket, error) {
			return core.Ticket{}, core.Errorf(core.CodeUnavailable, "provider down")
		}
		defer func() { r.provider.IssueFunc = nil }()
		if is, err := r.bot.Issue(ctx, core.Request{Customer: pat, Agent: "alice"}, core.LinkMobile); err == nil || is.Session != nil {
			t.Errorf("issue with the provider down: %+v, %v", is, err)
		}
	})
}

// TestThreadAct presses the buttons of a conversation's desk thread:
// Remote support issues for its customer; Close conversation closes it,
// or, found closed already, gives the header without buttons; anywhere
// but the thread, both are refused.
func TestThreadAct(t *testing.T) {
	r := newRig(t)
	_, conv := r.issue(t, pat)
	here := func(*core.Conversation) bool { return true }
	elsewhere := func(*core.Conversation) bool { return false }

	for _, action := range []string{remote.ActionIssue, remote.ActionCloseConversation} {
		if _, err := r.bot.ThreadAct(ctx, alice, action, conv.ID, "en", elsewhere); !errors.Is(err, remote.ErrElsewhere) {
			t.Errorf("%s elsewhere: %v", action, err)
		}
	}
	th, err := r.bot.ThreadAct(ctx, alice, remote.ActionIssue, conv.ID, "en", here)
	if err != nil || th.Issued.Session == nil || th.Issued.Session.ConversationID != conv.ID || th.Header != nil {
		t.Fatalf("remote support: %+v, %v", th, err)
	}
	th, err = r.bot.ThreadAct(ctx, alice, remote.ActionCloseConversation, conv.ID, "en", here)
	if err != nil || th.Header != nil || th.Conversation.State != core.ConversationClosed {
		t.Fatalf("close: %+v, %v", th, err)
	}
	// Closed already (elsewhere): the header to show, crediting nobody.
	th, err = r.bot.ThreadAct(ctx, alice, remote.ActionCloseConversation, conv.ID, "de", here)
	if err != nil || th.Header == nil || len(th.Header.Buttons) != 0 || len(th.Header.Notes) != 1 || strings.Contains(th.Header.Notes[0], "alice") {
		t.Fatalf("close again: %+v, %v", th, err)
	}
	if _, err := r.bot.ThreadAct(ctx, alice, remote.ActionIssue, conv.ID, "en", here); core.ErrorCode(err) != core.CodeInvalid {
		t.Errorf("remote support on a closed conversation: %v", err)
	}
	if _, err := r.bot.ThreadAct(ctx, alice, remote.ActionIssue, "nosuchconversation", "en", here); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("an unknown conversation: %v", err)
	}
}

// TestPress presses card and alert buttons where they may and may not be.
func TestPress(t *testing.T) {
	r := newRig(t)
	s, conv := r.issue(t, pat)
	var sawHere bool
	p, err := r.bot.Press(ctx, alice, remote.ActionSendMobile, s.ID, func(gs *core.Session, gc *core.Conversation) bool {
		sawHere = gs.ID == s.ID && gc.ID == conv.ID
		return true
	})
	if err != nil || !sawHere || p.Session.State != core.StateSent || p.Delivery == nil || p.Conversation.ID != conv.ID {
		t.Fatalf("press: %+v, %v (here saw the session: %v)", p, err, sawHere)
	}
	p, err = r.bot.Press(ctx, alice, remote.ActionClose, s.ID, func(*core.Session, *core.Conversation) bool { return false })
	if !errors.Is(err, remote.ErrElsewhere) || p.Session == nil || p.Session.State != core.StateSent {
		t.Errorf("press elsewhere: %+v, %v", p, err)
	}
	p, err = r.bot.Press(ctx, alice, remote.ActionStartView, s.ID, func(*core.Session, *core.Conversation) bool { return true })
	if err == nil || p.Session == nil || p.Session.State != core.StateSent {
		t.Errorf("a refused press: %+v, %v", p, err)
	}
	r.engine.Close(ctx, s.ID, alice)
	p, err = r.bot.Press(ctx, alice, remote.ActionClose, s.ID, func(*core.Session, *core.Conversation) bool { return true })
	if err != nil || !p.Dismissed || p.Session == nil || p.Session.State != core.StateClosed {
		t.Errorf("close a closed session: %+v, %v", p, err)
	}
	if _, err := r.bot.Press(ctx, alice, remote.ActionClose, "nosuchsession", func(*core.Session, *core.Conversation) bool { return true }); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("an unknown session: %v", err)
	}
}

// TestPressedAlert is what a desk alert says after its button.
func TestPressedAlert(t *testing.T) {
	r := newRig(t)
	for _, tc := range []struct {
		s            *core.Session
		action, text string
	}{
		{&core.Session{ID: "s1", State: core.StateActive, Mode: core.ModeView, Technician: "bob"}, remote.ActionStartView, "bob started the session (view only)."},
		{&core.Session{ID: "s1", State: core.StateEnded}, remote.ActionEnd, "The remote support session ended."},
		{&core.Session{ID: "s1", State: core.StateWaiting, Device: core.DeviceMobile}, remote.ActionStartControl, ""},
	} {
		a := r.bot.PressedAlert(tc.s, tc.action)
		if tc.text != "" && a.Text != tc.text {
			t.Errorf("%s on %s: %q, want %q", tc.action, tc.s.State, a.Text, tc.text)
		}
	}
}

// TestRelayOutcome is what a relay's error means for whoever wrote the
// message: every platform (Slack, Discord, Twilio) acts on it.
func TestRelayOutcome(t *testing.T) {
	closed := core.Errorf(core.CodeInvalid, "the conversation is closed")
	off := core.Errorf(core.CodeUnavailable, "sms delivery is not enabled")
	for _, tc := range []struct {
		name string
		from core.Direction
		err  error
		want remote.Relay
	}{
		{"relayed", core.FromCustomer, nil, remote.Relayed},
		{"a platform's retry of a message recorded", core.FromCustomer, fmt.Errorf("append: %w", core.ErrDuplicate), remote.Relayed},
		{"a reply retried", core.FromAgent, core.ErrDuplicate, remote.Relayed},
		{"the store failed", core.FromCustomer, errors.New("disk I/O error"), remote.RelayRetry},
		{"a reply the store failed", core.FromAgent, errors.New("disk I/O error"), remote.RelayRetry},
		{"a concurrent change", core.FromCustomer, core.Errorf(core.CodeConflict, "the conversation is changing too often; try again"), remote.RelayRetry},
		{"the store unavailable", core.FromCustomer, core.Errorf(core.CodeUnavailable, "the database is unavailable"), remote.RelayRetry},
		{"the customer's channel off", core.FromAgent, off, remote.RelayRefused},
		{"a closed conversation", core.FromAgent, closed, remote.RelayRefused},
		{"opted out", core.FromAgent, core.Errorf(core.CodeInvalid, "the number opted out"), remote.RelayRefused},
		{"no customer", core.FromAgent, core.ErrNoCustomer, remote.RelayRefused},
		{"the conversation is gone", core.FromAgent, core.Errorf(core.CodeNotFound, "no conversation"), remote.RelayRefused},
		{"an empty message", core.FromCustomer, core.Errorf(core.CodeInvalid, "the message is empty"), remote.RelayRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := remote.RelayOutcome(tc.from, tc.err); got != tc.want {
				t.Errorf("RelayOutcome(%s, %v) = %v, want %v", tc.from, tc.err, got, tc.want)
			}
		})
	}
	r := newRig(t)
	if got := r.bot.RelayRefusal(closed, "en"); got != "Your reply was not sent to the customer. That request is not valid: the conversation is closed" {
		t.Errorf("refusal = %q", got)
	}
}

// TestUndelivered says which failed deliveries the desk hears about.
func TestUndelivered(t *testing.T) {
	r := newRig(t)
	conv := &core.Conversation{ID: "c1", Customer: pat, Desk: core.Endpoint{Channel: core.ChannelDiscord, Address: "desk"}}
	failed := func(kind core.NoticeKind, session string, to core.Endpoint) *core.Delivery {
		return &core.Delivery{ConversationID: "c1", SessionID: session, To: to, Notice: core.Notice{Kind: kind},
			Status: core.DeliveryFailed, Reason: "number opted out"}
	}
	for _, tc := range []struct {
		name string
		d    *core.Delivery
		want string
	}{
		{"a reply", failed(core.NoticeText, "", pat), "This reply was not delivered: number opted out"},
		{"a link", failed(core.NoticeLink, "s1", pat), "Link to the customer: Not delivered: number opted out"},
		{"a customer's message to the desk", failed(core.NoticeText, "", conv.Desk), ""},
		{"a desk alert", failed(core.NoticeSession, "s1", conv.Desk), ""},
		{"delivered", &core.Delivery{ConversationID: "c1", To: pat, Notice: core.Notice{Kind: core.NoticeText}, Status: core.DeliveryDelivered}, ""},
	} {
		note, ok := r.bot.Undelivered(tc.d, conv, "en")
		if note != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: %q, %v; want %q", tc.name, note, ok, tc.want)
		}
	}
}

// TestClosed picks the updates that close a conversation with a desk
// thread.
func TestClosed(t *testing.T) {
	withThread := &core.Conversation{ID: "c1", DeskThread: "t1"}
	if c, who, ok := remote.Closed(core.Update{Conversation: withThread, Closer: "alice"}); !ok || c != withThread || who != "alice" {
		t.Errorf("closed with a thread: %v %q %v", c, who, ok)
	}
	for name, u := range map[string]core.Update{
		"a message":       {Conversation: withThread, Message: &core.Message{}},
		"without thread":  {Conversation: &core.Conversation{ID: "c2"}, Closer: "alice"},
		"a session event": {Session: &core.Session{ID: "s1"}},
	} {
		if _, _, ok := remote.Closed(u); ok {
			t.Errorf("%s: closed", name)
		}
	}
}

// TestReminder: the desk's reminders say who waits and for how long, in
// the desk's language, rounded down to whole minutes and never "0 min".
func TestReminder(t *testing.T) {
	b := newRig(t).bot
	for _, tc := range []struct {
		n      core.Notice
		locale string
		want   string
	}{
		{core.Notice{Action: core.ActionEscalate, Level: 1, Customer: "Pat", Waited: 61 * time.Second}, "en", "Pat has waited 1 min for a technician."},
		{core.Notice{Action: core.ActionEscalate, Level: 2, Final: true, Customer: "Pat", Waited: 3 * time.Minute}, "de", "Pat wartet seit 3 Min. auf einen Techniker."},
		{core.Notice{Action: core.ActionRemind, Customer: "…0123", Waited: 5 * time.Minute}, "en", "…0123 has not opened the link sent 5 min ago."},
		{core.Notice{Action: core.ActionEscalate, Level: 1, Customer: "Pat", Waited: 30 * time.Second}, "ko", "Pat 고객이 기술자를 1분 기다렸습니다."},
	} {
		if got := b.Reminder(tc.n, tc.locale); got != tc.want {
			t.Errorf("Reminder(%+v, %s) = %q, want %q", tc.n, tc.locale, got, tc.want)
		}
	}
}

package core_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

var smsDesk = core.Endpoint{Channel: core.ChannelSlack, Address: "C0DESK"}

func (r *rig) customerSays(t *testing.T, text, source string) (*core.Conversation, *core.Message) {
	t.Helper()
	c, m, err := r.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: text, Source: source, Locale: "es", Desk: smsDesk})
	if err != nil {
		t.Fatalf("CustomerMessage: %v", err)
	}
	return c, m
}

func TestCustomerMessage(t *testing.T) {
	r := newRig(t)
	updates, cancel := r.Subscribe(8)
	defer cancel()
	c, m := r.customerSays(t, "  my screen is black  ", "sms:SM1")
	if c.Customer != pat || c.Desk != smsDesk || c.Locale != "es" || c.State != core.ConversationOpen {
		t.Errorf("conversation = %+v", c)
	}
	if m.Text != "my screen is black" || m.Direction != core.FromCustomer || m.ID == 0 {
		t.Errorf("message = %+v", m)
	}
	ds, _ := r.store.FindDeliveries(ctx, core.DeliveryFilter{ConversationID: c.ID})
	if len(ds) != 1 || ds[0].To != smsDesk || ds[0].Notice.Kind != core.NoticeText || ds[0].Notice.Text != m.Text ||
		ds[0].Notice.Customer != "…0123" || ds[0].Notice.CustomerChannel != core.ChannelSMS || ds[0].Notice.Locale != "es" {
		t.Errorf("desk delivery = %+v", ds)
	}
	if u := <-updates; u.Message == nil || u.Message.ID != m.ID || u.Conversation == nil || u.Conversation.ID != c.ID {
		t.Errorf("update = %+v", u)
	}

	t.Run("line breaks are text", func(t *testing.T) {
		_, m, err := r.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "line one\nline two\ttab", Desk: smsDesk})
		if err != nil || m.Text != "line one\nline two\ttab" {
			t.Errorf("message = %+v, %v", m, err)
		}
	})
	t.Run("same conversation", func(t *testing.T) {
		c2, _ := r.customerSays(t, "still black", "sms:SM2")
		if c2.ID != c.ID {
			t.Errorf("second message opened conversation %s", c2.ID)
		}
		msgs, _ := r.Messages(ctx, core.MessageFilter{ConversationID: c.ID})
		if len(msgs) != 3 {
			t.Errorf("%d messages, want 3", len(msgs))
		}
	})
	t.Run("platform retry", func(t *testing.T) {
		_, _, err := r.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "my screen is black", Source: "sms:SM1", Desk: smsDesk})
		if !errors.Is(err, core.ErrDuplicate) {
			t.Errorf("err = %v, want ErrDuplicate", err)
		}
		msgs, _ := r.Messages(ctx, core.MessageFilter{ConversationID: c.ID})
		if len(msgs) != 3 {
			t.Errorf("%d messages after a retry, want still 3", len(msgs))
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for name, in := range map[string]core.Inbound{
			"empty":       {Customer: pat, Text: "   "},
			"too long":    {Customer: pat, Text: strings.Repeat("é", core.MaxMessageRunes+1)},
			"bad utf-8":   {Customer: pat, Text: "\xff\xfe"},
			"nul":         {Customer: pat, Text: "hel\x00lo"},
			"escape":      {Customer: pat, Text: "\x1b[31mred"},
			"no customer": {Text: "hello"},
			"bad number":  {Customer: core.Endpoint{Channel: core.ChannelSMS, Address: "12"}, Text: "hello"},
		} {
			if _, _, err := r.CustomerMessage(ctx, in); core.ErrorCode(err) != core.CodeInvalid {
				t.Errorf("%s: err = %v", name, err)
			}
		}
	})
	t.Run("after close, a new conversation", func(t *testing.T) {
		closed, err := r.CloseConversation(ctx, c.ID, alice)
		if err != nil || closed.State != core.ConversationClosed {
			t.Fatalf("close: %+v, %v", closed, err)
		}
		if again, err := r.CloseConversation(ctx, c.ID, alice); err != nil || again.State != core.ConversationClosed {
			t.Errorf("closing twice: %v", err)
		}
		c3, _ := r.customerSays(t, "hello again", "sms:SM3")
		if c3.ID == c.ID {
			t.Error("a message after close went into the closed conversation")
		}
		if _, _, err := r.AgentMessage(ctx, c.ID, alice, "hi", ""); core.ErrorCode(err) != core.CodeInvalid {
			t.Errorf("reply into a closed conversation: %v", err)
		}
	})
}

func TestAgentMessage(t *testing.T) {
	r := newRig(t)
	c, _ := r.customerSays(t, "help", "sms:SM1")
	m, d, err := r.AgentMessage(ctx, c.ID, alice, "Try turning it off and on again.", "slack:Ev1")
	if err != nil {
		t.Fatal(err)
	}
	if m.Direction != core.FromAgent || m.Author != "alice" || d.To != pat || d.Notice.Text != m.Text || d.Notice.Author != "alice" {
		t.Errorf("message %+v, delivery %+v", m, d)
	}
	if _, _, err := r.AgentMessage(ctx, c.ID, alice, "Try turning it off and on again.", "slack:Ev1"); !errors.Is(err, core.ErrDuplicate) {
		t.Errorf("retried reply: %v", err)
	}
	if _, _, err := r.AgentMessage(ctx, "nope", alice, "hi", ""); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("unknown conversation: %v", err)
	}
	t.Run("channel not enabled", func(t *testing.T) {
		e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: coretest.NewMemStore(), Provider: &coretest.Provider{}})
		c, _, err := e.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "help"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.AgentMessage(ctx, c.ID, alice, "hi", ""); core.ErrorCode(err) != core.CodeUnavailable {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("opted out", func(t *testing.T) {
		ch := &optOut{coretest.Channel{ChannelName: core.ChannelSMS}}
		e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: coretest.NewMemStore(), Provider: &coretest.Provider{}, Channels: []core.Channel{ch}})
		c, _, _ := e.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "STOP"})
		if _, _, err := e.AgentMessage(ctx, c.ID, alice, "hi", ""); core.ErrorMessage(err) != "the customer opted out" {
			t.Errorf("err = %v", err)
		}
	})
}

// TestDeskThread delivers to a desk channel that starts a thread with the
// first notice: the outbox records it and hands it to later notices, and
// a session's later desk notices replace its first.
func TestDeskThread(t *testing.T) {
	r := newRig(t)
	var n int
	r.slack.DeliverFunc = func(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
		n++
		rc := core.Receipt{Status: core.DeliverySent, ExternalID: "ts-" + string(rune('0'+n))}
		if d.Notice.Thread == "" {
			rc.Thread = "root-1"
		}
		if d.Notice.Replace != "" {
			rc.ExternalID = d.Notice.Replace // edited in place: same message
		}
		return rc, nil
	}
	c, _ := r.customerSays(t, "help", "sms:SM1")
	r.deliverOnce(t)
	got, _ := r.Conversation(ctx, c.ID)
	if got.DeskThread != "root-1" {
		t.Fatalf("desk thread = %q", got.DeskThread)
	}
	if found, err := r.ConversationByThread(ctx, smsDesk, "root-1"); err != nil || found.ID != c.ID {
		t.Errorf("ConversationByThread: %v, %v", found, err)
	}

	s, _, err := r.Issue(ctx, core.Request{ConversationID: c.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	r.customerSays(t, "it asks for a code", "sms:SM2")
	if _, _, err := r.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	r.deliverOnce(t)
	if _, err := r.Start(ctx, s.ID, tech, core.ModeView); err != nil {
		t.Fatal(err)
	}
	r.deliverOnce(t)
	sent := r.slack.Delivered()
	if len(sent) != 4 {
		t.Fatalf("%d desk deliveries, want 4", len(sent))
	}
	for i, d := range sent[1:] {
		if d.Notice.Thread != "root-1" {
			t.Errorf("delivery %d went to thread %q", i+1, d.Notice.Thread)
		}
	}
	join, start := sent[2], sent[3]
	if join.Notice.Action != core.ActionJoin || join.Notice.Replace != "" {
		t.Errorf("join notice = %+v", join.Notice)
	}
	if start.Notice.Action != core.ActionStart || start.Notice.Replace == "" {
		t.Errorf("start notice should replace the join notice: %+v", start.Notice)
	}
	if got, _ := r.Conversation(ctx, c.ID); got.DeskThread != "root-1" {
		t.Errorf("desk thread changed to %q", got.DeskThread)
	}
}

func TestOptOutRecorded(t *testing.T) {
	r := newRig(t)
	if err := r.SetOptOut(ctx, pat, true); err != nil {
		t.Fatal(err)
	}
	if out, _ := r.store.OptedOut(ctx, pat); !out {
		t.Error("opt-out not recorded")
	}
}

// A conversation longer than anything read at once still shows its
// newest messages: the transcript once read the first 20,000 and kept
// their last 500, so such a conversation stopped changing on screen.
func TestTranscriptOfALongConversation(t *testing.T) {
	r := newRig(t)
	conv, _, err := r.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "line 0", Desk: smsDesk})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20_100
	for i := 1; i <= n; i++ {
		m := &core.Message{ConversationID: conv.ID, Direction: core.FromCustomer, Author: "Pat", Text: fmt.Sprint("line ", i), At: r.clock.Now()}
		if err := r.store.AppendMessage(ctx, &core.MessageChange{Message: m}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.Transcript(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != core.TranscriptLength || got[len(got)-1].Text != fmt.Sprint("line ", n) || got[0].Text != fmt.Sprint("line ", n-core.TranscriptLength+1) {
		t.Errorf("%d messages, from %q to %q", len(got), got[0].Text, got[len(got)-1].Text)
	}
}

// A transcript shows the newest messages, oldest first, across pages.
func TestTranscriptNewest(t *testing.T) {
	r := newRig(t)
	var conv *core.Conversation
	for i := range core.TranscriptLength + 10 {
		c, _, err := r.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: fmt.Sprint("line ", i), Desk: smsDesk})
		if err != nil {
			t.Fatal(err)
		}
		conv = c
	}
	got, err := r.Transcript(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != core.TranscriptLength || got[0].Text != "line 10" || got[len(got)-1].Text != fmt.Sprint("line ", core.TranscriptLength+9) {
		t.Errorf("%d messages, from %q to %q", len(got), got[0].Text, got[len(got)-1].Text)
	}
}

// closingStore closes a conversation just before the next message is
// saved: an agent's Close landing, on another replica, while the message
// was on its way.
type closingStore struct {
	*coretest.MemStore
	closeFirst func()
}

func (s *closingStore) AppendMessage(ctx context.Context, ch *core.MessageChange) error {
	if f := s.closeFirst; f != nil {
		s.closeFirst = nil
		f()
	}
	return s.MemStore.AppendMessage(ctx, ch)
}

// A customer's message that meets its conversation's close opens a new
// conversation, as one written a moment later would, rather than landing
// in the closed one, which the desk no longer follows; an agent's reply
// that meets it is refused, with nothing sent.
func TestMessageMeetsTheClose(t *testing.T) {
	st := &closingStore{MemStore: coretest.NewMemStore()}
	sms := &coretest.Channel{ChannelName: core.ChannelSMS}
	e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: st, Clock: coretest.NewClock(t0),
		Provider: &coretest.Provider{Pins: coretest.NewPINs("123456")}, Channels: []core.Channel{sms},
		Addresses: map[string]func(string) (string, error){core.ChannelSMS: func(s string) (string, error) { return s, nil }}})
	first, _, err := e.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "my screen is black", Desk: smsDesk})
	if err != nil {
		t.Fatal(err)
	}
	closeFirst := func() {
		if _, err := e.CloseConversation(ctx, first.ID, alice); err != nil {
			t.Error(err)
		}
	}

	st.closeFirst = closeFirst
	_, _, err = e.AgentMessage(ctx, first.ID, alice, "let me look", "")
	if core.ErrorCode(err) != core.CodeInvalid || !strings.Contains(core.ErrorMessage(err), "closed") {
		t.Errorf("a reply meeting the close: %v", err)
	}
	ds, _ := st.FindDeliveries(ctx, core.DeliveryFilter{ConversationID: first.ID})
	for _, d := range ds {
		if d.To == pat {
			t.Errorf("a text queued for the customer after the close: %q", d.Notice.Text)
		}
	}

	// Open again, for the customer's turn.
	again, err := st.FindConversation(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	again.State = core.ConversationOpen
	if err := st.UpdateConversation(ctx, again); err != nil {
		t.Fatal(err)
	}
	st.closeFirst = closeFirst
	second, m, err := e.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "hello?", Desk: smsDesk})
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID || second.State != core.ConversationOpen || m.ConversationID != second.ID {
		t.Errorf("the message went to conversation %s (%s), the closed one being %s", second.ID, second.State, first.ID)
	}
	if msgs, _ := e.Messages(ctx, core.MessageFilter{ConversationID: first.ID}); len(msgs) != 1 {
		t.Errorf("%d messages in the closed conversation, want its first alone", len(msgs))
	}
}

package twilio_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/twilio"
	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
	"github.com/assistbot/assistbot/core"
)

// TestStopWhileWaitingItsTurn: a reply waits its turn under twilio.mps;
// the customer texts STOP meanwhile: it is not sent.
func TestStopWhileWaitingItsTurn(t *testing.T) {
	h := newHarness(t, func(o *twilio.Options) { o.MPS = 1 })
	h.text("SM00000000000000000000000000000900", customer, "hello")
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	stopped := false
	twilio.SetPaceClock(h.sms, func() time.Time { return now }, func(ctx context.Context, d time.Duration) error {
		// While this message waits for its turn, the customer says STOP.
		if !stopped {
			stopped = true
			h.text("SM00000000000000000000000000000901", customer, "STOP")
		}
		now = now.Add(d)
		return nil
	})
	ep := core.Endpoint{Channel: core.ChannelSMS, Address: customer}
	d := func(text string) *core.Delivery {
		return &core.Delivery{To: ep, Notice: core.Notice{Kind: core.NoticeText, Author: "alice", Text: text}}
	}
	ctx := context.Background()
	if _, err := h.ch.Deliver(ctx, d("first")); err != nil {
		t.Fatal(err)
	}
	_, err := h.ch.Deliver(ctx, d("second, queued behind the first"))
	if !h.optedOut(customer) {
		t.Fatal("the STOP was not recorded")
	}
	for _, m := range h.fake.Calls() {
		if strings.HasPrefix(m.Form.Get("Body"), "second") {
			t.Errorf("texted an opted-out number (STOP arrived while the message waited its turn); Deliver err=%v", err)
		}
	}
}

// TestLongReplyRefused: a reply longer than Twilio's 1,600 characters
// (which Twilio refuses, error 21617) is refused before it is queued,
// saying how long it may be; one of 1,600 goes.
func TestLongReplyRefused(t *testing.T) {
	h := newHarness(t, nil)
	h.run()
	ctx := context.Background()
	h.text("SM00000000000000000000000000000910", customer, "hello")
	conv := h.conversation(customer)
	alice := core.Actor{Kind: core.ActorAgent, Name: "alice"}
	long := strings.Repeat("Please restart the router and wait. ", 60) // 2,160 characters
	_, _, err := h.engine.AgentMessage(ctx, conv.ID, alice, long, "")
	if core.ErrorCode(err) != core.CodeInvalid || !strings.Contains(core.ErrorMessage(err), "at most 1600 characters") {
		t.Errorf("a 2,160-character reply: %v", err)
	}
	_, d, err := h.engine.AgentMessage(ctx, conv.ID, alice, strings.Repeat("é", 1600), "")
	if err != nil {
		t.Fatalf("a 1,600-character reply: %v", err)
	}
	h.awaitDelivery(d.ID, func(d *core.Delivery) bool { return d.Status != core.DeliveryQueued })
	for _, m := range h.fake.Calls() {
		if n := len([]rune(m.Form.Get("Body"))); n > 1600 {
			t.Errorf("sent a Body of %d characters; Twilio refuses more than 1600", n)
		}
	}
	if n := len(h.fake.Sent()); n != 1 {
		t.Errorf("%d texts sent, want the 1,600-character reply", n)
	}
}

// TestPictureWithACaption: a picture with a caption reaches the desk with
// the note that a picture came, which the relay cannot show.
func TestPictureWithACaption(t *testing.T) {
	h := newHarness(t, nil)
	f := twiliotest.Incoming("MM00000000000000000000000000000920", customer, ourNumber, "this is the error I get")
	f.Set("NumMedia", "1")
	f.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1")
	if code, body := h.post(twilio.PathSMS, f); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	ms := h.messages(h.conversation(customer).ID)
	if len(ms) != 1 {
		t.Fatalf("%d messages, want the one", len(ms))
	}
	if got := ms[0].Text; !strings.HasPrefix(got, "this is the error I get") || !strings.Contains(got, h.catalog().T("en", "twilio.media")) {
		t.Errorf("the desk got %q: the caption, and that a picture came with it, were wanted", got)
	}
}

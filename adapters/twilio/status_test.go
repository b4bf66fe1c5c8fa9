package twilio_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/twilio"
	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
	"github.com/assistbot/assistbot/core"
)

// sentReply sends an agent's reply through the outbox and returns its
// delivery once Twilio accepted it.
func sentReply(h *harness) *core.Delivery {
	h.t.Helper()
	h.text("SM00000000000000000000000000000300", customer, "hello")
	_, d, err := h.engine.AgentMessage(context.Background(), h.conversation(customer).ID, alice, "Hi!", "")
	if err != nil {
		h.t.Fatal(err)
	}
	return h.awaitDelivery(d.ID, func(d *core.Delivery) bool { return d.Status == core.DeliverySent })
}

// TestStatusCallbacks reports each outcome Twilio sends: the delivery and
// so the agent's card show it, with a reason an agent understands.
func TestStatusCallbacks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  string
		code    int
		want    core.DeliveryStatus
		reason  string // catalog key
		optsOut bool
	}{
		{"queued changes nothing", "queued", 0, core.DeliverySent, "", false},
		{"sending changes nothing", "sending", 0, core.DeliverySent, "", false},
		{"sent", "sent", 0, core.DeliverySent, "", false},
		{"delivered", "delivered", 0, core.DeliveryDelivered, "", false},
		{"read", "read", 0, core.DeliveryDelivered, "", false},
		{"unreachable", "undelivered", 30003, core.DeliveryFailed, "twilio.reason.unreachable", false},
		{"unknown number", "undelivered", 30005, core.DeliveryFailed, "twilio.reason.unknown_number", false},
		{"landline", "undelivered", 30006, core.DeliveryFailed, "twilio.reason.landline", false},
		{"carrier filtered", "undelivered", 30007, core.DeliveryFailed, "twilio.reason.filtered", false},
		{"unregistered 10DLC", "failed", 30034, core.DeliveryFailed, "twilio.reason.unregistered", false},
		{"opted out", "failed", 21610, core.DeliveryFailed, "twilio.reason.opted_out", true},
		{"no code", "undelivered", 0, core.DeliveryFailed, "twilio.reason.undelivered", false},
		{"canceled", "canceled", 0, core.DeliveryFailed, "twilio.reason.canceled", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.run()
			d := sentReply(h)
			code, _ := h.post(twilio.PathStatus, twiliotest.Status(d.ExternalID, customer, tc.status, tc.code))
			if code != http.StatusNoContent {
				t.Fatalf("status %d", code)
			}
			got, _ := h.store.FindDelivery(context.Background(), d.ID)
			want := ""
			if tc.reason != "" {
				want = h.catalog().T("en", tc.reason)
			}
			if got.Status != tc.want || got.Reason != want {
				t.Errorf("delivery %s %q, want %s %q", got.Status, got.Reason, tc.want, want)
			}
			if h.optedOut(customer) != tc.optsOut {
				t.Errorf("opted out = %v, want %v", !tc.optsOut, tc.optsOut)
			}
		})
	}
}

// TestStatusUnknownCode names a code without its own sentence.
func TestStatusUnknownCode(t *testing.T) {
	h := newHarness(t, nil)
	h.run()
	d := sentReply(h)
	h.post(twilio.PathStatus, twiliotest.Status(d.ExternalID, customer, "failed", 30999))
	got, _ := h.store.FindDelivery(context.Background(), d.ID)
	if want := h.catalog().T("en", "twilio.reason.failed", "code", "30999"); got.Reason != want {
		t.Errorf("reason %q, want %q", got.Reason, want)
	}
}

// TestStatusOutOfOrder: a late "sent" does not undo "delivered".
func TestStatusOutOfOrder(t *testing.T) {
	h := newHarness(t, nil)
	h.run()
	d := sentReply(h)
	h.post(twilio.PathStatus, twiliotest.Status(d.ExternalID, customer, "delivered", 0))
	h.post(twilio.PathStatus, twiliotest.Status(d.ExternalID, customer, "sent", 0))
	if got, _ := h.store.FindDelivery(context.Background(), d.ID); got.Status != core.DeliveryDelivered {
		t.Errorf("status %s after a late sent", got.Status)
	}
}

// TestStatusBeforeRecorded: Twilio reports on a message before the create
// call that made it has been recorded; the report waits for it.
func TestStatusBeforeRecorded(t *testing.T) {
	h := newHarness(t, func(o *twilio.Options) { o.StatusWait = 5 * time.Second })
	ctx := context.Background()
	h.text("SM00000000000000000000000000000310", customer, "hello")
	_, d, err := h.engine.AgentMessage(ctx, h.conversation(customer).ID, alice, "Hi!", "")
	if err != nil {
		t.Fatal(err)
	}
	const sid = "SM0000000000000000000000000000abcd"
	answered := make(chan int, 1)
	go func() {
		code, _ := h.post(twilio.PathStatus, twiliotest.Status(sid, customer, "delivered", 0))
		answered <- code
	}()
	time.Sleep(30 * time.Millisecond) // let the callback find nothing first
	select {
	case code := <-answered:
		t.Fatalf("answered %d before the message was recorded", code)
	default:
	}
	// What the outbox does once the create call returns.
	d.Status, d.ExternalID, d.Attempts = core.DeliverySent, sid, 1
	if err := h.store.UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	if code := <-answered; code != http.StatusNoContent {
		t.Fatalf("status %d", code)
	}
	if got, _ := h.store.FindDelivery(ctx, d.ID); got.Status != core.DeliveryDelivered {
		t.Errorf("status %s, want delivered", got.Status)
	}
}

// TestStatusUnknownMessage answers a report on a message assistbot did not
// send (another application on the account) without an error.
func TestStatusUnknownMessage(t *testing.T) {
	h := newHarness(t, nil)
	if code, _ := h.post(twilio.PathStatus, twiliotest.Status("SM00000000000000000000000000009999", customer, "delivered", 0)); code != http.StatusNoContent {
		t.Errorf("status %d", code)
	}
}

// TestStatusMalformed refuses reports that are not Twilio's, and those
// it cannot read.
func TestStatusMalformed(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		name   string
		form   url.Values
		code   int
		answer string
	}{
		{"no status", url.Values{"MessageSid": {"SM00000000000000000000000000000001"}}, http.StatusBadRequest, "MessageStatus"},
		{"unknown status", twiliotest.Status("SM00000000000000000000000000000001", customer, "teleported", 0), http.StatusBadRequest, "MessageStatus"},
		{"bad error code", func() url.Values {
			f := twiliotest.Status("SM00000000000000000000000000000001", customer, "failed", 0)
			f.Set("ErrorCode", "x1")
			return f
		}(), http.StatusBadRequest, "ErrorCode"},
		{"no sid", url.Values{"MessageStatus": {"delivered"}}, http.StatusBadRequest, "MessageSid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := h.post(twilio.PathStatus, tc.form)
			if code != tc.code || !strings.Contains(body, tc.answer) {
				t.Errorf("%d %q", code, body)
			}
		})
	}
	r := twiliotest.Webhook(publicURL, twilio.PathStatus, twiliotest.Status("SM00000000000000000000000000000001", customer, "delivered", 0))
	r.Header.Set("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
	if code, _ := h.serve(r); code != http.StatusForbidden {
		t.Errorf("forged report: %d", code)
	}
}

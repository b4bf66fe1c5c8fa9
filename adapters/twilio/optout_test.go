package twilio_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/twilio"
	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
	"github.com/assistbot/assistbot/core"
)

// TestStopRefusesSends: after the customer texts STOP, an agent's reply
// and a link are both refused at once with the reason, nothing reaches
// Twilio; START lets the agent's reply through again.
func TestStopRefusesSends(t *testing.T) {
	h := newHarness(t, nil)
	h.run()
	ctx := context.Background()
	h.text("SM00000000000000000000000000000100", customer, "Hi, I need help with my router")
	conv := h.conversation(customer)
	sess, _, err := h.engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}

	if code, body := h.text("SM00000000000000000000000000000101", customer, " stop "); code != http.StatusOK || body != emptyTwiML {
		t.Fatalf("STOP: %d %q", code, body)
	}
	if !h.optedOut(customer) {
		t.Fatal("STOP did not opt the number out")
	}
	refusal := h.catalog().T("en", "error.opted_out")
	agent := core.Actor{Kind: core.ActorAgent, Name: "alice"}
	if _, _, err := h.engine.AgentMessage(ctx, conv.ID, agent, "Are you still there?", ""); core.ErrorMessage(err) != refusal {
		t.Errorf("agent reply after STOP: %v, want %q", err, refusal)
	}
	if _, _, err := h.engine.Send(ctx, sess.ID, agent, core.LinkMobile); core.ErrorMessage(err) != refusal {
		t.Errorf("link after STOP: %v, want %q", err, refusal)
	}
	// The STOP itself is part of the transcript, so the agent sees it.
	if ms := h.messages(conv.ID); len(ms) != 2 || ms[1].Text != "stop" {
		t.Errorf("transcript: %+v", ms)
	}

	h.text("SM00000000000000000000000000000102", customer, "START")
	if h.optedOut(customer) {
		t.Fatal("START did not opt the number in")
	}
	_, d, err := h.engine.AgentMessage(ctx, conv.ID, agent, "Welcome back", "")
	if err != nil {
		t.Fatalf("agent reply after START: %v", err)
	}
	h.awaitDelivery(d.ID, func(d *core.Delivery) bool { return d.Status == core.DeliverySent })
	sent := h.fake.Sent()
	if len(sent) != 1 || sent[0].Form.Get("Body") != "Welcome back" {
		t.Errorf("sent %+v; want only the reply after START", sent)
	}
}

// TestStopFromARangeTheNumberDataLacks: Twilio passes on a STOP from a
// number whose range the phone-number data does not know (+1 624 here):
// the number is real, since it texted, and its STOP is recorded.
func TestStopFromARangeTheNumberDataLacks(t *testing.T) {
	const unknownRange = "+16242345678"
	if _, err := twilio.ParseNumber(unknownRange, "US"); err == nil {
		t.Fatalf("the phone-number data now knows %s: pick another range it lacks", unknownRange)
	}
	h := newHarness(t, nil)
	if code, body := h.text("SM00000000000000000000000000000121", unknownRange, "STOP"); !h.optedOut(unknownRange) {
		t.Errorf("the STOP was not recorded: %d %q", code, body)
	}
	h.text("SM00000000000000000000000000000122", unknownRange, "START")
	if h.optedOut(unknownRange) {
		t.Error("the START was not recorded")
	}
}

// TestOptedOutBeforeDelivery: a customer who says STOP while an agent's
// reply waits in the outbox does not get it.
func TestOptedOutBeforeDelivery(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	h.text("SM00000000000000000000000000000110", customer, "hello")
	conv := h.conversation(customer)
	_, d, err := h.engine.AgentMessage(ctx, conv.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, "One moment", "")
	if err != nil {
		t.Fatal(err)
	}
	h.text("SM00000000000000000000000000000111", customer, "UNSUBSCRIBE")
	h.run()
	got := h.awaitDelivery(d.ID, func(d *core.Delivery) bool { return d.Status == core.DeliveryFailed })
	if got.Reason != h.catalog().T("en", "twilio.reason.opted_out") {
		t.Errorf("reason %q", got.Reason)
	}
	if n := len(h.fake.Calls()); n != 0 {
		t.Errorf("%d API calls for an opted-out number", n)
	}
}

// TestKeywordReplies: assistbot answers STOP, START and HELP only when
// it is told to and Twilio did not already (OptOutType), and never sends
// HELP to an opted-out number.
func TestKeywordReplies(t *testing.T) {
	for _, tc := range []struct {
		name       string
		replies    bool
		optedOut   bool
		body       string
		optOutType string
		want       string // catalog key of the reply, "" for none
		wantOut    bool
	}{
		{"twilio answers stop", false, false, "STOP", "", "", true},
		{"twilio answers help", false, false, "HELP", "", "", false},
		{"stop", true, false, "STOP", "", "customer.opted_out", true},
		{"stopall", true, false, "stopall", "", "customer.opted_out", true},
		{"quit", true, false, "Quit", "", "customer.opted_out", true},
		{"start", true, true, "START", "", "customer.opted_in", false},
		{"unstop", true, true, "unstop", "", "customer.opted_in", false},
		{"help", true, false, "help", "", "customer.help", false},
		{"info", true, false, "INFO", "", "customer.help", false},
		{"help while opted out", true, true, "HELP", "", "", true},
		{"advanced opt-out answered", true, false, "ARRET", "STOP", "", true},
		{"advanced opt-in answered", true, true, "YES", "START", "", false},
		{"yes after stop opts in", true, true, "yes", "", "customer.opted_in", false},
		{"yes is an answer otherwise", true, false, "yes", "", "", false},
		{"stop in a sentence", true, false, "please stop the noise", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(o *twilio.Options) { o.KeywordReplies = tc.replies })
			ep := core.Endpoint{Channel: core.ChannelSMS, Address: customer}
			if err := h.engine.SetOptOut(context.Background(), ep, tc.optedOut); err != nil {
				t.Fatal(err)
			}
			f := twiliotest.Incoming("SM00000000000000000000000000000120", customer, ourNumber, tc.body)
			if tc.optOutType != "" {
				f.Set("OptOutType", tc.optOutType)
			}
			code, body := h.post(twilio.PathSMS, f)
			if code != http.StatusOK {
				t.Fatalf("%d %s", code, body)
			}
			want := emptyTwiML
			if tc.want != "" {
				want = `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response><Message>" +
					xmlEscape(h.catalog().T("en", tc.want)) + "</Message></Response>"
			}
			if body != want {
				t.Errorf("answer %q\nwant %q", body, want)
			}
			if got := h.optedOut(customer); got != tc.wantOut {
				t.Errorf("opted out = %v, want %v", got, tc.wantOut)
			}
		})
	}
}

// TestKeywordReplyLanguage answers in the conversation's language.
func TestKeywordReplyLanguage(t *testing.T) {
	h := newHarness(t, func(o *twilio.Options) { o.KeywordReplies = true })
	_, body := h.text("SM00000000000000000000000000000130", "+33612345678", "HELP")
	if want := xmlEscape(h.catalog().T("fr", "customer.help")); !strings.Contains(body, want) {
		t.Errorf("answer %q, want the French help %q", body, want)
	}
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

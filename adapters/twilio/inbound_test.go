package twilio_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/twilio"
	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
	"github.com/assistbot/assistbot/core"
)

// TestCustomerTextOpensConversation follows a new customer's first texts:
// the first opens a conversation followed on the configured desk, in the
// language its number suggests; the next joins it; both reach the desk.
func TestCustomerTextOpensConversation(t *testing.T) {
	h := newHarness(t, nil)
	h.run()
	korean := "+821012345678"
	if code, body := h.text("SM00000000000000000000000000000010", korean, "Hello, my PC will not start"); code != http.StatusOK || body != emptyTwiML {
		t.Fatalf("first text: %d %q", code, body)
	}
	conv := h.conversation(korean)
	if conv.Locale != "ko" || conv.Desk != (core.Endpoint{Channel: core.ChannelConsole}) {
		t.Errorf("conversation: locale %s, desk %v", conv.Locale, conv.Desk)
	}
	h.text("SM00000000000000000000000000000011", korean, "Are you there?")
	ms := h.messages(conv.ID)
	if len(ms) != 2 || ms[0].Text != "Hello, my PC will not start" || ms[0].Direction != core.FromCustomer ||
		ms[0].Source != "sms:SM00000000000000000000000000000010" || ms[1].Text != "Are you there?" {
		t.Fatalf("transcript: %+v", ms)
	}
	if convs, _ := h.engine.Conversations(context.Background(), core.ConversationFilter{}); len(convs) != 1 {
		t.Errorf("%d conversations, want 1", len(convs))
	}
	got := h.awaitDesk(2)
	if got[0].Notice.Text != "Hello, my PC will not start" || got[0].Notice.Customer != "…5678" || got[0].Notice.Locale != "ko" {
		t.Errorf("desk notice: %+v", got[0].Notice)
	}
	if len(h.fake.Calls()) != 0 {
		t.Errorf("a customer's text made %d API calls", len(h.fake.Calls()))
	}
}

// TestDuplicateMessageSid replays a text as Twilio does when it got no
// answer: it is recorded and relayed once.
func TestDuplicateMessageSid(t *testing.T) {
	h := newHarness(t, nil)
	for i := 0; i < 3; i++ {
		if code, body := h.text("SM00000000000000000000000000000020", customer, "My screen is black"); code != http.StatusOK || body != emptyTwiML {
			t.Fatalf("try %d: %d %q", i, code, body)
		}
	}
	conv := h.conversation(customer)
	if ms := h.messages(conv.ID); len(ms) != 1 {
		t.Errorf("%d messages recorded, want 1", len(ms))
	}
	ds, _ := h.store.FindDeliveries(context.Background(), core.DeliveryFilter{ConversationID: conv.ID})
	if len(ds) != 1 {
		t.Errorf("%d desk deliveries queued, want 1", len(ds))
	}
}

// TestMalformedForms sends signed webhooks that are not usable texts:
// each gets a 400 that says what is wrong, and nothing is recorded.
func TestMalformedForms(t *testing.T) {
	valid := func() url.Values {
		return twiliotest.Incoming("SM00000000000000000000000000000030", customer, ourNumber, "hello")
	}
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		want   string
	}{
		{"no MessageSid", func(f url.Values) { f.Del("MessageSid") }, "MessageSid is missing"},
		{"MessageSid with markup", func(f url.Values) { f.Set("MessageSid", "SM<script>") }, "not a Twilio SID"},
		{"MessageSid too long", func(f url.Values) { f.Set("MessageSid", "SM"+strings.Repeat("0", 80)) }, "too long"},
		{"no From", func(f url.Values) { f.Del("From") }, "From is missing"},
		{"From a short code", func(f url.Values) { f.Set("From", "32665") }, "not a phone number"},
		{"From WhatsApp", func(f url.Values) { f.Set("From", "whatsapp:"+customer) }, "not a phone number"},
		{"Body not UTF-8", func(f url.Values) { f.Set("Body", "caf\xe9") }, "UTF-8"},
		{"NumMedia not a count", func(f url.Values) { f.Set("NumMedia", "many") }, "NumMedia"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			f := valid()
			tc.change(f)
			code, body := h.post(twilio.PathSMS, f)
			if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
				t.Errorf("got %d %q, want 400 with %q", code, body, tc.want)
			}
			if convs, _ := h.engine.Conversations(context.Background(), core.ConversationFilter{}); len(convs) != 0 {
				t.Errorf("a malformed form opened %d conversations", len(convs))
			}
			if strings.Contains(body, customer) {
				t.Errorf("the answer quotes the number: %q", body)
			}
		})
	}
}

// TestEmptyAndMediaTexts: an empty text has nothing to relay; a picture
// without words tells the agent one was sent.
func TestEmptyAndMediaTexts(t *testing.T) {
	h := newHarness(t, nil)
	if code, body := h.text("SM00000000000000000000000000000040", customer, "   "); code != http.StatusOK || body != emptyTwiML {
		t.Fatalf("empty: %d %q", code, body)
	}
	if convs, _ := h.engine.Conversations(context.Background(), core.ConversationFilter{}); len(convs) != 0 {
		t.Fatalf("an empty text opened a conversation")
	}
	f := twiliotest.Incoming("MM00000000000000000000000000000041", customer, ourNumber, "")
	f.Set("NumMedia", "1")
	f.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1")
	if code, _ := h.post(twilio.PathSMS, f); code != http.StatusOK {
		t.Fatalf("media: %d", code)
	}
	ms := h.messages(h.conversation(customer).ID)
	if len(ms) != 1 || ms[0].Text != h.catalog().T("en", "twilio.media") {
		t.Errorf("transcript: %+v", ms)
	}
}

// TestLanguageOfNewConversation detects a new customer's language from
// the number's country and the script of the first text.
func TestLanguageOfNewConversation(t *testing.T) {
	for _, tc := range []struct{ number, text, want string }{
		{"+821012345678", "help please", "ko"},
		{"+819012345678", "hello", "ja"},
		{"+34612345678", "hola", "es"},
		{"+525512345678", "hola", "es"},
		{"+4915112345678", "hallo", "de"},
		{"+436641234567", "hallo", "de"},
		{"+33612345678", "bonjour", "fr"},
		{customer, "hello", "en"},
		{customer, "プリンターが動きません", "ja"},
		{customer, "프린터가 안 돼요", "ko"},
		{"+447911123456", "hello", "en"},
	} {
		t.Run(tc.number+" "+tc.want, func(t *testing.T) {
			h := newHarness(t, nil)
			if code, body := h.text("SM00000000000000000000000000000050", tc.number, tc.text); code != http.StatusOK {
				t.Fatalf("%d %s", code, body)
			}
			if got := h.conversation(tc.number).Locale; got != tc.want {
				t.Errorf("locale %s, want %s", got, tc.want)
			}
		})
	}
}

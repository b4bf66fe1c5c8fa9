package twilio_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/twilio"
	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
	"github.com/assistbot/assistbot/core"
)

var alice = core.Actor{Kind: core.ActorAgent, Name: "alice"}

// TestAgentReplyBySMS: an agent's reply in the conversation goes to the
// customer from the configured number, with the status callback URL built
// from the public URL, and without a validity period (it has no PIN).
func TestAgentReplyBySMS(t *testing.T) {
	h := newHarness(t, nil)
	h.run()
	h.text("SM00000000000000000000000000000200", customer, "hello?")
	_, d, err := h.engine.AgentMessage(context.Background(), h.conversation(customer).ID, alice, "Hi, this is Alice from support.", "")
	if err != nil {
		t.Fatal(err)
	}
	got := h.awaitDelivery(d.ID, func(d *core.Delivery) bool { return d.Status == core.DeliverySent })
	sent := h.fake.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d messages", len(sent))
	}
	f := sent[0].Form
	want := url.Values{
		"To": {customer}, "From": {ourNumber}, "Body": {"Hi, this is Alice from support."},
		"StatusCallback": {"https://support.example.com/twilio/status"},
	}
	if f.Encode() != want.Encode() {
		t.Errorf("form %v\nwant %v", f, want)
	}
	if got.ExternalID != sent[0].SID {
		t.Errorf("delivery records %q, Twilio made %q", got.ExternalID, sent[0].SID)
	}
}

// TestLinkBySMS sends a session's mobile link: the text carries the link
// and the PIN, and Twilio may not hold it past the PIN's lifetime.
func TestLinkBySMS(t *testing.T) {
	h := newHarness(t, func(o *twilio.Options) { o.MessagingServiceSID = "MG0123456789abcdef0123456789abcdef"; o.From = "" })
	h.run()
	ctx := context.Background()
	sess, _, err := h.engine.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelSMS, Address: "(201) 555-0123"}, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Add(5 * time.Minute) // 15 of the 20 minutes left
	_, d, err := h.engine.Send(ctx, sess.ID, alice, core.LinkMobile)
	if err != nil {
		t.Fatal(err)
	}
	h.awaitDelivery(d.ID, func(d *core.Delivery) bool { return d.Status == core.DeliverySent })
	f := h.fake.Sent()[0].Form
	if f.Get("MessagingServiceSid") != "MG0123456789abcdef0123456789abcdef" || f.Has("From") {
		t.Errorf("sender: %v", f)
	}
	if f.Get("ValidityPeriod") != "900" {
		t.Errorf("ValidityPeriod %q, want 900 (the PIN's remaining 15 minutes)", f.Get("ValidityPeriod"))
	}
	if want := h.catalog().T("en", "customer.link", "link", "https://support.example.com/m/012345", "pin", "012345"); f.Get("Body") != want {
		t.Errorf("body %q\nwant %q", f.Get("Body"), want)
	}
}

// TestValidityPeriod caps the validity at Twilio's maximum, and refuses
// to send a link with less than a second of PIN left.
func TestValidityPeriod(t *testing.T) {
	for _, tc := range []struct {
		name string
		left time.Duration
		want string // "" for no call
	}{
		{"minutes", 20 * time.Minute, "1200"},
		{"fraction rounds down", 90*time.Second + 900*time.Millisecond, "90"},
		{"a day", 24 * time.Hour, "36000"},
		{"under a second", 900 * time.Millisecond, ""},
		{"past", -time.Minute, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			d := linkDelivery(h, "+12015550123", "012345", h.clock.Now().Add(tc.left))
			_, err := h.ch.Deliver(context.Background(), d)
			calls := h.fake.Calls()
			if tc.want == "" {
				if core.ErrorCode(err) != core.CodeExpired || len(calls) != 0 {
					t.Errorf("err %v, %d calls; want an expired refusal and none", err, len(calls))
				}
				return
			}
			if err != nil || len(calls) != 1 || calls[0].Form.Get("ValidityPeriod") != tc.want {
				t.Errorf("err %v, calls %+v; want ValidityPeriod %s", err, calls, tc.want)
			}
		})
	}
}

// linkDelivery returns an outbox entry carrying a mobile link.
func linkDelivery(h *harness, to, pin string, expires time.Time) *core.Delivery {
	return &core.Delivery{
		ID: 1, To: core.Endpoint{Channel: core.ChannelSMS, Address: to}, Status: core.DeliveryQueued,
		Notice: core.Notice{Kind: core.NoticeLink, Locale: "en", LinkKind: core.LinkMobile,
			Link: "https://support.example.com/m/" + pin, PIN: pin, ExpiresAt: expires},
	}
}

// textDelivery returns an outbox entry carrying an agent's reply.
func textDelivery(to, text string) *core.Delivery {
	return &core.Delivery{ID: 2, To: core.Endpoint{Channel: core.ChannelSMS, Address: to}, Status: core.DeliveryQueued,
		Notice: core.Notice{Kind: core.NoticeText, Text: text, Author: "alice"}}
}

// TestDeliverFailures scripts Twilio's failures: throttling and outages
// are retried (with Twilio's Retry-After), everything else fails at once
// with a reason the agent can act on.
func TestDeliverFailures(t *testing.T) {
	en := func(key string, kv ...string) string { return newHarness(t, nil).catalog().T("en", key, kv...) }
	for _, tc := range []struct {
		name       string
		answer     twiliotest.Answer
		code       core.Code
		retry      time.Duration
		reason     string
		optsOutNow bool
	}{
		{"opted out at Twilio", twiliotest.OptedOut, core.CodeInvalid, 0, en("twilio.reason.opted_out"), true},
		{"too many requests", twiliotest.TooMany, core.CodeUnavailable, 7 * time.Second, en("twilio.reason.busy"), false},
		{"429 without Retry-After", twiliotest.Answer{Status: 429, Code: 20429, Message: "Too Many Requests"}, core.CodeUnavailable, 0, en("twilio.reason.busy"), false},
		{"server error", twiliotest.ServerError, core.CodeUnavailable, 0, en("twilio.reason.unavailable"), false},
		{"proxy error page", twiliotest.Answer{Status: 502, Raw: "<html>Bad Gateway</html>"}, core.CodeUnavailable, 0, en("twilio.reason.unavailable"), false},
		{"invalid number", twiliotest.Answer{Status: 400, Code: 21211, Message: "The 'To' number +12015550123 is not a valid phone number."}, core.CodeInvalid, 0, en("error.bad_number", "number", "…0123"), false},
		{"landline", twiliotest.Answer{Status: 400, Code: 21614, Message: "'To' number is not a valid mobile number"}, core.CodeInvalid, 0, en("twilio.reason.landline"), false},
		{"region not enabled", twiliotest.Answer{Status: 400, Code: 21408, Message: "Permission to send an SMS has not been enabled for the region"}, core.CodeInvalid, 0, en("twilio.reason.region"), false},
		{"unknown error", twiliotest.Answer{Status: 400, Code: 21999, Message: "Something new"}, core.CodeInvalid, 0, en("twilio.reason.refused", "code", "21999"), false},
		{"unreadable success", twiliotest.Answer{Status: 200, Raw: "<html>ok</html>"}, core.CodeConflict, 0, en("twilio.reason.unreadable"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.fake.Queue(tc.answer)
			_, err := h.ch.Deliver(context.Background(), textDelivery(customer, "hello"))
			if core.ErrorCode(err) != tc.code || core.ErrorMessage(err) != tc.reason {
				t.Errorf("err %v (code %s), want %s %q", err, core.ErrorCode(err), tc.code, tc.reason)
			}
			if retry, _ := core.RetryAfter(err); retry != tc.retry {
				t.Errorf("retry after %v, want %v", retry, tc.retry)
			}
			if h.optedOut(customer) != tc.optsOutNow {
				t.Errorf("opted out = %v", !tc.optsOutNow)
			}
			if strings.Contains(err.Error(), customer) {
				t.Errorf("the error, which the outbox logs, holds the full number: %v", err)
			}
		})
	}
}

// TestOptOutAtTwilioThroughOutbox: Twilio refuses a reply with 21610 (the
// customer replied STOP to another of the account's numbers); the agent
// sees why, the reply is not retried, and the next reply is refused at
// once.
func TestOptOutAtTwilioThroughOutbox(t *testing.T) {
	h := newHarness(t, nil)
	h.run()
	ctx := context.Background()
	h.text("SM00000000000000000000000000000210", customer, "hello")
	conv := h.conversation(customer)
	h.fake.Queue(twiliotest.OptedOut)
	_, d, err := h.engine.AgentMessage(ctx, conv.ID, alice, "Hello!", "")
	if err != nil {
		t.Fatal(err)
	}
	got := h.awaitDelivery(d.ID, func(d *core.Delivery) bool { return d.Status == core.DeliveryFailed })
	if got.Reason != h.catalog().T("en", "twilio.reason.opted_out") || got.Attempts != 1 {
		t.Errorf("delivery: %s %q after %d attempts", got.Status, got.Reason, got.Attempts)
	}
	if _, _, err := h.engine.AgentMessage(ctx, conv.ID, alice, "Hello again", ""); core.ErrorMessage(err) != h.catalog().T("en", "error.opted_out") {
		t.Errorf("next reply: %v", err)
	}
	if n := len(h.fake.Calls()); n != 1 {
		t.Errorf("%d API calls, want 1", n)
	}
}

// TestInvalidNumberNeverCallsTwilio: a number that cannot exist is refused
// with the catalog's sentence, before Twilio is asked.
func TestInvalidNumberNeverCallsTwilio(t *testing.T) {
	h := newHarness(t, nil)
	bad := core.Endpoint{Channel: core.ChannelSMS, Address: "+1 555 123 4567"}
	want := h.catalog().T("en", "error.bad_number", "number", "…4567")
	if err := h.ch.Check(context.Background(), bad); core.ErrorCode(err) != core.CodeInvalid || core.ErrorMessage(err) != want {
		t.Errorf("Check: %v", err)
	}
	_, err := h.ch.Deliver(context.Background(), textDelivery(bad.Address, "hi"))
	if core.ErrorCode(err) != core.CodeInvalid || core.ErrorMessage(err) != want {
		t.Errorf("Deliver: %v", err)
	}
	if n := len(h.fake.Calls()); n != 0 {
		t.Errorf("%d API calls", n)
	}
}

// TestTwilioUnreachable: no answer at all (a connection dropped at once,
// a hung server) is retried. (The dropping listener stays open, so that
// no other server can get its port, as a closed one's could.)
func TestTwilioUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) })
	for name, apiURL := range map[string]string{"dropped": "http://" + ln.Addr().String(), "hung": hung.URL} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, func(o *twilio.Options) { o.APIURL = apiURL })
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err := h.ch.Deliver(ctx, textDelivery(customer, "hi"))
			if core.ErrorCode(err) != core.CodeUnavailable {
				t.Errorf("err %v (%s), want unavailable", err, core.ErrorCode(err))
			}
		})
	}
}

// TestAPIURL honours twilio.api_url with a path (a proxy or a regional
// gateway) and is not redirected by the SDK's TWILIO_REGION variable.
func TestAPIURL(t *testing.T) {
	fake := twiliotest.New(t)
	target, _ := url.Parse(fake.URL)
	proxy := httptest.NewServer(http.StripPrefix("/twilio-proxy", httputil.NewSingleHostReverseProxy(target)))
	t.Cleanup(proxy.Close)
	t.Setenv("TWILIO_REGION", "au1")
	t.Setenv("TWILIO_EDGE", "sydney")
	h := newHarness(t, func(o *twilio.Options) { o.APIURL = proxy.URL + "/twilio-proxy/" })
	r, err := h.ch.Deliver(context.Background(), textDelivery(customer, "via the proxy"))
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].SID != r.ExternalID || sent[0].Form.Get("Body") != "via the proxy" {
		t.Errorf("the fake behind the proxy got %+v", sent)
	}
}

// TestWrongCredentials: Twilio refusing the account is not retried, and
// the agent is told to ask the administrator.
func TestWrongCredentials(t *testing.T) {
	h := newHarness(t, func(o *twilio.Options) { o.AuthToken = "ffffffffffffffffffffffffffffffff" })
	_, err := h.ch.Deliver(context.Background(), textDelivery(customer, "hi"))
	if core.ErrorCode(err) != core.CodeUnauthorized || core.ErrorMessage(err) != h.catalog().T("en", "twilio.reason.auth") {
		t.Errorf("err %v (%s)", err, core.ErrorCode(err))
	}
}

// TestNewRequires names what is missing.
func TestNewRequires(t *testing.T) {
	_, err := twilio.New(twilio.Options{APIURL: "ftp://x"})
	if err == nil {
		t.Fatal("New accepted empty options")
	}
	for _, want := range []string{"account sid", "auth token", "public url", "from number or messaging service"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not name %s", err, want)
		}
	}
	h := newHarness(t, nil)
	_, err = twilio.New(twilio.Options{Engine: h.engine, Bot: h.bot, AccountSID: "AC1", AuthToken: "x", From: ourNumber, PublicURL: publicURL, APIURL: "api.twilio.com"})
	if err == nil || !strings.Contains(err.Error(), "api.twilio.com") {
		t.Errorf("bad api url: %v", err)
	}
}

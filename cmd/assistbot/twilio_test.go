package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

const (
	smsPublicURL = "https://support.example.com"
	smsNumber    = "+12015550100"
)

// startSMS runs Main with Twilio on, in front of a fake Twilio API, with
// the console as the desk.
func startSMS(t *testing.T, m *Main) (*server, *twiliotest.Fake) {
	t.Helper()
	fake := twiliotest.New(t)
	s := startMain(t, func(c *config.Config) {
		c.Server.PublicURL = smsPublicURL
		smsConfig(c, fake, "console")
	}, m)
	return s, fake
}

// smsConfig turns Twilio on in c, in front of fake, with desk as the desk.
func smsConfig(c *config.Config, fake *twiliotest.Fake, desk string) {
	c.Twilio.Enabled = true
	c.Twilio.AccountSID = twiliotest.AccountSID
	c.Twilio.AuthToken = twiliotest.AuthToken
	c.Twilio.From = smsNumber
	c.Twilio.Desk = desk
	c.Twilio.APIURL = fake.URL
	c.Twilio.MPS = 100
}

// twilioPost sends a webhook to the running server the way Twilio does:
// to the server's address (behind a proxy, in effect), signed over the
// public URL configured for the number.
func (s *server) twilioPost(path string, form url.Values) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Signature(twiliotest.AuthToken, smsPublicURL+path, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTwilioEndToEnd runs the SMS flow through Main: a customer's text
// opens a conversation, an agent's reply goes out by SMS, a session made
// through the API sends its mobile link and PIN in the customer's
// language, and Twilio's status callback shows the link delivered.
func TestTwilioEndToEnd(t *testing.T) {
	clock := coretest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	s, fake := startSMS(t, &Main{Clock: clock, PINs: coretest.NewPINs("012345")})
	ctx := context.Background()
	const korean = "+821012345678"

	code, body := s.twilioPost("/twilio/sms", twiliotest.Incoming("SM00000000000000000000000000000001", korean, smsNumber, "안녕하세요, 컴퓨터가 켜지지 않아요"))
	if code != http.StatusOK || !strings.Contains(body, "<Response></Response>") {
		t.Fatalf("incoming sms: %d %q", code, body)
	}
	convs, err := s.Engine().Conversations(ctx, core.ConversationFilter{})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %v, %v", convs, err)
	}
	conv := convs[0]
	if conv.Customer != (core.Endpoint{Channel: "sms", Address: korean}) || conv.Locale != "ko" || conv.Desk.Channel != "console" {
		t.Errorf("conversation: %+v", conv)
	}

	// The agent answers in the conversation.
	if _, _, err := s.Engine().AgentMessage(ctx, conv.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, "Hello, this is Alice.", ""); err != nil {
		t.Fatal(err)
	}
	reply := fake.WaitSent(t, 1, 5*time.Second)[0].Form
	if reply.Get("To") != korean || reply.Get("From") != smsNumber || reply.Get("Body") != "Hello, this is Alice." ||
		reply.Get("StatusCallback") != smsPublicURL+"/twilio/status" || reply.Has("ValidityPeriod") {
		t.Errorf("reply sent as %v", reply)
	}

	// Remote support through the API, for the same customer.
	var sess apiSession
	if code := s.api("POST", "/api/v1/sessions", `{"customer":{"channel":"sms","address":"`+korean+`"},"agent":"alice"}`, &sess); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, sess)
	}
	var sent apiSession
	if code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/send", `{"link":"mobile"}`, &sent); code != http.StatusOK || sent.State != "sent" {
		t.Fatalf("send: %d %+v", code, sent)
	}
	msgs := fake.WaitSent(t, 2, 5*time.Second)
	link := msgs[1]
	if want := s.catalog.T("ko", "customer.link", "link", sessionLink(t, s, "012345", core.LinkMobile), "pin", "012345"); link.Form.Get("Body") != want {
		t.Errorf("link sms %q\nwant %q", link.Form.Get("Body"), want)
	}
	if link.Form.Get("ValidityPeriod") != "1200" || link.Form.Get("StatusCallback") != smsPublicURL+"/twilio/status" {
		t.Errorf("link sms form %v", link.Form)
	}

	// Twilio reports the link delivered.
	if code, _ := s.twilioPost("/twilio/status", twiliotest.Status(link.SID, korean, "delivered", 0)); code/100 != 2 {
		t.Fatalf("status callback: %d", code)
	}
	var detail struct {
		Deliveries []struct {
			Kind, Channel, Status, Reason string
		} `json:"deliveries"`
	}
	s.api("GET", "/api/v1/sessions/"+sess.ID, "", &detail)
	if len(detail.Deliveries) != 1 || detail.Deliveries[0].Kind != "link" || detail.Deliveries[0].Status != "delivered" {
		t.Errorf("deliveries: %+v", detail.Deliveries)
	}
}

// TestTwilioStopThroughMain: after the customer texts STOP, the API's send
// is refused with the reason, and Twilio is never asked.
func TestTwilioStopThroughMain(t *testing.T) {
	s, fake := startSMS(t, &Main{PINs: coretest.NewPINs("234567")})
	if code, _ := s.twilioPost("/twilio/sms", twiliotest.Incoming("SM00000000000000000000000000000002", "+12015550123", smsNumber, "STOP")); code != http.StatusOK {
		t.Fatalf("STOP: %d", code)
	}
	var sess, res apiSession
	s.api("POST", "/api/v1/sessions", `{"customer":{"channel":"sms","address":"(201) 555-0123"}}`, &sess)
	code := s.api("POST", "/api/v1/sessions/"+sess.ID+"/send", `{"link":"mobile"}`, &res)
	if code != http.StatusBadRequest || res.Error.Message != s.catalog.T("en", "error.opted_out") {
		t.Errorf("send after STOP: %d %+v", code, res.Error)
	}
	if n := len(fake.Calls()); n != 0 {
		t.Errorf("%d API calls for an opted-out number", n)
	}
	// A forged STOP is refused: only Twilio can opt a number out.
	form := twiliotest.Incoming("SM00000000000000000000000000000003", "+12015550199", smsNumber, "STOP")
	req, _ := http.NewRequest(http.MethodPost, s.url+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Signature(twiliotest.AuthToken, s.url+"/twilio/sms", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("STOP signed for the listener's address, not the public URL: %d", resp.StatusCode)
	}
}

// TestLongLinkTexts finds the languages whose link SMS would take two
// segments with the configured links, which serve warns about at start.
func TestLongLinkTexts(t *testing.T) {
	catalog, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	bot := remote.New(nil, catalog)
	for _, tc := range []struct {
		name   string
		edit   func(*config.Config)
		expect string
	}{
		{"short public url", func(c *config.Config) { c.Server.PublicURL = "https://help.example.com" }, ""},
		// Korean and Japanese are UCS-2: 70 units, of which the link
		// takes most.
		{"long public url", func(c *config.Config) { c.Server.PublicURL = "https://remote-support.helpdesk.example.com" }, "ja,ko"},
		{"ten digits", func(c *config.Config) { c.Server.PublicURL = "https://support.example.com/help"; c.PIN.Digits = 10 }, "ja,ko"},
		{"very long url", func(c *config.Config) {
			c.Server.PublicURL = "https://customer-remote-assistance.support-department.example-company.example.com/help/desk/"
		}, "de,en,es,fr,ja,ko"}, // with the link's proof after the PIN, English too
		{"logmein defaults", func(c *config.Config) { c.Provider.Kind = "logmein" }, ""},
		{"logmein long mobile link", func(c *config.Config) {
			c.Provider.Kind = "logmein"
			c.LogMeIn.MobileLink = "https://rescue.support-department.example.com/mobile/{pin}"
		}, "ja,ko"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			tc.edit(cfg)
			got := longLinkTexts(cfg, bot)
			slices.Sort(got)
			if strings.Join(got, ",") != tc.expect {
				t.Errorf("languages over one segment: %v, want %q", got, tc.expect)
			}
		})
	}
}

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// TestSMSWithSlackDesk runs the SMS relay with Slack as the desk, through
// the real Main and the fakes of both platforms: a customer's text opens
// a thread in the desk channel; an agent's reply in the thread goes back
// by SMS; /remote with the customer's number answers with a card whose
// primary button sends the mobile link; the SMS carries the link and the
// PIN; Twilio's status callback shows on the agent's card.
func TestSMSWithSlackDesk(t *testing.T) {
	slack := slackfake.New(t)
	slack.SetMembers(sDesk, sAgent)
	slack.SetUser(sAgent, slackfake.User{Name: "alice", DisplayName: "Alice", Locale: "en-US"})
	twilio := twiliotest.New(t)
	s := startMain(t, func(c *config.Config) {
		c.Server.PublicURL = smsPublicURL
		c.Slack = config.Slack{Enabled: true, BotToken: slack.BotToken, SigningSecret: sSecret, Command: "/remote",
			DeskChannel: sDesk, AllowedTeams: []string{sTeam}, APIURL: slack.APIURL()}
		smsConfig(c, twilio, "slack")
	}, &Main{PINs: coretest.NewPINs("012345")})
	e := &slackE2E{server: s, fake: slack}
	const customer = "+12015550123"

	// The customer texts: a thread opens in the desk channel.
	if code, _ := s.twilioPost("/twilio/sms", twiliotest.Incoming("SM00000000000000000000000000000011", customer, smsNumber, "My screen is black")); code != http.StatusOK {
		t.Fatalf("incoming sms: %d", code)
	}
	header := slack.Wait(t, "chat.postMessage", 5*time.Second, func(c slackfake.Call) bool {
		return c.Field("channel") == sDesk && c.Field("thread_ts") == ""
	})
	if header.Field("text") != "SMS conversation with …0123 (English)" || strings.Contains(header.Field("text"), customer) {
		t.Errorf("thread header %v", header.Form)
	}
	relayed := slack.Wait(t, "chat.postMessage", 5*time.Second, func(c slackfake.Call) bool {
		return c.Field("channel") == sDesk && c.Field("thread_ts") == header.TS
	})
	if !strings.Contains(relayed.Field("text"), "My screen is black") {
		t.Errorf("customer text in the thread %v", relayed.Form)
	}

	waitFor(t, "the thread recorded", func() bool {
		convs, err := s.Engine().Conversations(context.Background(), core.ConversationFilter{})
		return err == nil && len(convs) == 1 && convs[0].DeskThread == header.TS
	})

	// The agent answers in the thread: the customer gets it by SMS.
	reply, _ := json.Marshal(map[string]any{"token": "legacy", "team_id": sTeam, "api_app_id": "A0APP",
		"type": "event_callback", "event_id": "Ev0REPLY", "event_time": 1700000000,
		"event": map[string]any{"type": "message", "channel": sDesk, "channel_type": "channel", "user": sAgent,
			"text": "Hello, this is Alice.", "ts": "1700000001.000100", "thread_ts": header.TS, "event_ts": "1700000001.000100"}})
	if code, body := e.post("/slack/events", "application/json", string(reply)); code != http.StatusOK {
		t.Fatalf("event: %d %s", code, body)
	}
	sms := twilio.WaitSent(t, 1, 5*time.Second)[0].Form
	if sms.Get("To") != customer || sms.Get("Body") != "Hello, this is Alice." {
		t.Errorf("reply sent as %v", sms)
	}

	// /remote with the customer's number, typed the way people write it.
	code, body := e.post("/slack/commands", "application/x-www-form-urlencoded", slashForm("(201) 555-0123", slack.ResponseURL("cmd")))
	if code != http.StatusOK || !strings.Contains(body, `"PIN 012345"`) {
		t.Fatalf("card: %d %s", code, body)
	}
	values, primary := cardButtons(t, body)
	if primary != "remote.send_mobile" {
		t.Errorf("the card's primary button is %q, want the mobile link for an SMS customer", primary)
	}
	e.clickCard("remote.send_mobile", values["remote.send_mobile"], "click")
	link := twilio.WaitSent(t, 2, 5*time.Second)[1]
	if want := s.catalog.T("en", "customer.link", "link", sessionLink(t, s, "012345", core.LinkMobile), "pin", "012345"); link.Form.Get("To") != customer || link.Form.Get("Body") != want {
		t.Errorf("link sms to %s: %q\nwant %q", link.Form.Get("To"), link.Form.Get("Body"), want)
	}

	// Twilio reports it delivered: the agent's card says so.
	if code, _ := s.twilioPost("/twilio/status", twiliotest.Status(link.SID, customer, "delivered", 0)); code/100 != 2 {
		t.Fatalf("status callback: %d", code)
	}
	slack.Wait(t, "response_url", 5*time.Second, func(c slackfake.Call) bool {
		return c.Hook == "click" && strings.Contains(c.Field("blocks"), "Delivered")
	})
}

package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// TestAPICreateRefusesUndeliverable: a session for a customer this server
// cannot send to (a channel not enabled) is refused when it is created,
// naming the setting, before any PIN is made; so is one for a
// conversation whose customer is on such a channel.
func TestAPICreateRefusesUndeliverable(t *testing.T) {
	r := newRig(t)
	var issued atomic.Int32
	ticket := r.Provider.IssueFunc
	r.Provider.IssueFunc = func(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
		issued.Add(1)
		return ticket(ctx, req)
	}
	// The rig delivers sms and web; neither Slack nor Discord is enabled.
	slack, _, err := r.Engine.CustomerMessage(ctx, core.Inbound{Customer: core.Endpoint{Channel: core.ChannelSlack, Address: "U0123456"}, Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, body, message string }{
		{"slack customer", `{"customer":{"channel":"slack","address":"U0123456"}}`, "slack customers cannot be reached from this server: set slack.enabled: true"},
		{"discord customer", `{"customer":{"channel":" Discord ","address":"123456789012345678"}}`, "discord customers cannot be reached from this server: set discord.enabled: true"},
		{"conversation on slack", `{"conversation_id":"` + slack.ID + `"}`, "set slack.enabled: true"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := r.call(http.MethodPost, "/api/v1/sessions", tt.body)
			webtest.WantStatus(t, resp, "", http.StatusBadRequest)
			if code, msg := apiError(t, got); code != "invalid" || msg != tt.message && !strings.HasSuffix(msg, tt.message) {
				t.Errorf("error = %s %q, want invalid %q", code, msg, tt.message)
			}
		})
	}
	if n := issued.Load(); n != 0 {
		t.Errorf("%d PINs were issued for customers who cannot be reached", n)
	}
	// The channels the server has work, and one it does not know is the
	// engine's to explain.
	if resp, _ := r.call(http.MethodPost, "/api/v1/sessions", `{"customer":{"channel":"web","address":"chat-1"}}`); resp.StatusCode != http.StatusCreated {
		t.Errorf("web customer: %d", resp.StatusCode)
	}
	resp, got := r.call(http.MethodPost, "/api/v1/sessions", `{"customer":{"channel":"fax","address":"1"}}`)
	if _, msg := apiError(t, got); resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, `unknown customer channel "fax"`) {
		t.Errorf("fax: %d %q", resp.StatusCode, msg)
	}
}

// TestAPICreateSMSWithoutTwilio names twilio.enabled, the sms setting.
func TestAPICreateSMSWithoutTwilio(t *testing.T) {
	r := newRig(t)
	r.Engine = core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: r.Store, Provider: r.Provider, Clock: r.Clock})
	r.api.engine = r.Engine
	resp, got := r.call(http.MethodPost, "/api/v1/sessions", `{"customer":{"channel":"sms","address":"+12015550123"}}`)
	webtest.WantStatus(t, resp, "", http.StatusBadRequest)
	if code, msg := apiError(t, got); code != "invalid" || msg != "sms customers cannot be reached from this server: set twilio.enabled: true" {
		t.Errorf("error = %s %q", code, msg)
	}
	resp, got = r.call(http.MethodPost, "/api/v1/sessions", `{"customer":{"channel":"web","address":"chat-1"}}`)
	if _, msg := apiError(t, got); resp.StatusCode != http.StatusBadRequest || msg != "web customers cannot be reached from this server: set console.web_chat: true" {
		t.Errorf("web: %d %q", resp.StatusCode, msg)
	}
}

// TestAPICreateForConversation: conversation_id issues a session for an
// existing conversation, such as a web-chat customer's whose id the
// console shows; with a customer as well, or for a conversation that is
// closed or unknown, it is refused.
func TestAPICreateForConversation(t *testing.T) {
	r := newRig(t)
	chat := core.Endpoint{Channel: core.ChannelWeb, Address: "AAAAAAAAAAAAAAAAAAAAAAAAAA"}
	conv, _, err := r.Engine.CustomerMessage(ctx, core.Inbound{Customer: chat, Name: "Pat", Text: "my printer", Desk: core.Endpoint{Channel: core.ChannelConsole}})
	if err != nil {
		t.Fatal(err)
	}
	resp, got := r.call(http.MethodPost, "/api/v1/sessions", `{"conversation_id":"`+conv.ID+`","agent":"alice"}`)
	webtest.WantStatus(t, resp, "", http.StatusCreated)
	wantFields(t, got, map[string]any{"conversation_id": conv.ID, "state": "issued", "agent": "alice",
		"customer": map[string]any{"channel": "web", "address": chat.Address, "name": "Pat"}})
	id, _ := got["id"].(string)
	resp, got = r.call(http.MethodPost, "/api/v1/sessions/"+id+"/send", `{"link":"desktop"}`)
	webtest.WantStatus(t, resp, "", http.StatusOK)
	wantFields(t, got, map[string]any{"state": "sent", "delivery": map[string]any{"channel": "web"}})

	for _, tt := range []struct {
		name, body string
		status     int
		message    string
	}{
		{"both", `{"conversation_id":"` + conv.ID + `","customer":{"channel":"web","address":"x"}}`, 400, "give conversation_id or customer, not both"},
		{"unknown", `{"conversation_id":"nosuch"}`, 404, "conversation not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := r.call(http.MethodPost, "/api/v1/sessions", tt.body)
			webtest.WantStatus(t, resp, "", tt.status)
			if _, msg := apiError(t, got); !strings.Contains(msg, tt.message) {
				t.Errorf("message %q, want %q", msg, tt.message)
			}
		})
	}
	if _, err := r.Engine.CloseConversation(ctx, conv.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	resp, got = r.call(http.MethodPost, "/api/v1/sessions", `{"conversation_id":"`+conv.ID+`"}`)
	if code, msg := apiError(t, got); resp.StatusCode != http.StatusBadRequest || code != "invalid" || msg != "the conversation is closed" {
		t.Errorf("closed conversation: %d %s %q", resp.StatusCode, code, msg)
	}
}

// TestAPILocale: a locale is a language assistbot speaks, with a region
// or not; any other is refused with the list, rather than taken as the
// default.
func TestAPILocale(t *testing.T) {
	r := newRig(t)
	for _, tt := range []struct{ locale, want string }{
		{"ko", "ko"}, {"ko-KR", "ko"}, {"ja_JP", "ja"}, {"es-419", "es"}, {"DE", "de"}, {"fr-CA", "fr"}, {"en-GB", "en"},
	} {
		resp, got := r.call(http.MethodPost, "/api/v1/sessions", `{"locale":"`+tt.locale+`"}`)
		if resp.StatusCode != http.StatusCreated || got["locale"] != tt.want {
			t.Errorf("locale %q: %d %v, want %s", tt.locale, resp.StatusCode, got["locale"], tt.want)
		}
	}
	for _, bad := range []string{"xx", "zh-CN", "pt-BR", "english", "k!", " "} {
		resp, got := r.call(http.MethodPost, "/api/v1/sessions", `{"locale":"`+bad+`"}`)
		webtest.WantStatus(t, resp, "", http.StatusBadRequest)
		if code, msg := apiError(t, got); code != "invalid" || msg != `unknown locale "`+bad+`"; use one of en, ko, ja, es, de, fr (a region may follow, as in ko-KR)` {
			t.Errorf("locale %q: %s %q", bad, code, msg)
		}
	}
}

// starter is a provider whose technician works through a link of its
// own, as MeshCentral's.
type starter struct{ *coretest.Provider }

func (starter) Start(ctx context.Context, s *core.Session, mode core.Mode, technician string) (string, error) {
	return "https://mesh.example.com/share?c=" + s.ID + "-secret", nil
}

// TestAPITechnicianURL: with a provider that makes the technician a link
// (MeshCentral), the start answer and the active session's GET carry it
// as technician_url, for the operator's script; lists do not, nor a
// session that is over.
func TestAPITechnicianURL(t *testing.T) {
	r := newRig(t)
	r.Engine = core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: r.Store, Provider: starter{r.Provider}, Clock: r.Clock,
		Channels: []core.Channel{r.SMS}})
	r.api.engine = r.Engine
	s := r.Issue("en")
	r.Join(s, core.DeviceDesktop)
	want := "https://mesh.example.com/share?c=" + s.ID + "-secret"
	resp, got := r.call(http.MethodPost, "/api/v1/sessions/"+s.ID+"/start", `{"mode":"control","technician":"tom"}`)
	webtest.WantStatus(t, resp, "", http.StatusOK)
	wantFields(t, got, map[string]any{"state": "active", "mode": "control", "technician": "tom", "technician_url": want})
	_, got = r.call(http.MethodGet, "/api/v1/sessions/"+s.ID, "")
	wantFields(t, got, map[string]any{"technician_url": want})
	_, list := r.call(http.MethodGet, "/api/v1/sessions", "")
	if strings.Contains(jsonString(t, list), want) {
		t.Error("the list carries the technician's link")
	}
	r.call(http.MethodPost, "/api/v1/sessions/"+s.ID+"/end", "")
	if _, got = r.call(http.MethodGet, "/api/v1/sessions/"+s.ID, ""); got["technician_url"] != nil {
		t.Errorf("an ended session's technician_url = %v", got["technician_url"])
	}
	if strings.Contains(r.Logs.String(), want) {
		t.Error("the technician's link was logged")
	}
}

// jsonString renders a decoded answer back to JSON.
func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

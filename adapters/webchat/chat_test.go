package webchat

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// TestChatCookie: a visitor gets a random chat id, signed by assistbot,
// in an HttpOnly cookie kept to /chat, the same one on every visit; a
// cookie assistbot did not sign is not a chat, and gets a new one.
func TestChatCookie(t *testing.T) {
	r := newRig(t, func(o *Options) { o.PublicURL = "https://support.example.com" })
	c := r.Visitor()
	resp, body := c.Get("/chat")
	webtest.WantStatus(t, resp, body, http.StatusOK)
	ck := webtest.FindCookie(resp, chatCookie)
	if ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/chat" {
		t.Fatalf("chat cookie = %+v", ck)
	}
	id, sig, _ := strings.Cut(ck.Value, ".")
	if len(id) != 26 || sig != r.chat.tokens.Make(context.Background(), "chat-id", id) {
		t.Fatalf("chat cookie %q is not an id and its signature", ck.Value)
	}
	webtest.WantContains(t, body, "Chat with support", `id="chat-name"`, `name="csrf"`)
	webtest.WantNotContains(t, body, id) // the id never reaches the page
	c.SetCookie("/chat", chatCookie, ck.Value)
	resp, _ = c.Get("/chat")
	if again := webtest.FindCookie(resp, chatCookie); again == nil || again.Value != ck.Value {
		t.Errorf("second visit: %+v", again)
	}
	if other := r.Visitor(); true {
		resp, _ := other.Get("/chat")
		if webtest.FindCookie(resp, chatCookie).Value == ck.Value {
			t.Error("two visitors share a chat id")
		}
	}
	for name, forged := range map[string]string{
		"unsigned":              id,
		"another signature":     id + "." + r.chat.tokens.Make(context.Background(), "chat", id),
		"another id":            "AAAAAAAAAAAAAAAAAAAAAAAAAA." + sig,
		"signed by another key": id + "." + (signer{web.NewKeyring(nil, KeyName, keySize, nil)}).Make(context.Background(), "chat-id", id),
	} {
		t.Run(name, func(t *testing.T) {
			v := r.Visitor()
			v.SetCookie("/chat", chatCookie, forged)
			resp, _ := v.Get("/chat")
			if got := webtest.FindCookie(resp, chatCookie); got == nil || strings.HasPrefix(got.Value, id) {
				t.Errorf("a forged cookie was kept: %+v", got)
			}
		})
	}
}

// TestChatMessage: the customer's first message opens a conversation on
// the console desk in their language; the agent's reply and the link the
// agent sends show in the chat.
func TestChatMessage(t *testing.T) {
	r := newRig(t)
	c := r.openChat("ko-KR,ko;q=0.9,en;q=0.5")
	resp, out := say(c, "프린터가 안 돼요", "name", "  Pat   Lee ", "id", "m1")
	if resp.StatusCode != http.StatusOK || out["ok"] != true {
		t.Fatalf("say: %d %v", resp.StatusCode, out)
	}
	conv := r.chatConv(c)
	if conv.Customer.Channel != core.ChannelWeb || len(conv.Customer.Address) != 26 || conv.Desk != (core.Endpoint{Channel: core.ChannelConsole}) ||
		conv.CustomerName != "Pat Lee" || conv.Locale != "ko" {
		t.Errorf("conversation %+v", conv)
	}
	// The script's retry of the same message, whose first answer, with
	// the cookie naming the conversation, was lost: the retry brings it.
	c.SetCookie("/chat", chatConvCookie, "")
	resp, _ = say(c, "프린터가 안 돼요", "id", "m1")
	if got := webtest.FindCookie(resp, chatConvCookie); got == nil || !strings.HasPrefix(got.Value, conv.ID) {
		t.Errorf("the retry's answer does not name the conversation: %+v", got)
	}
	if msgs, _ := r.Engine.Messages(ctx, messagesOf(conv.ID)); len(msgs) != 1 {
		t.Errorf("%d messages recorded", len(msgs))
	}
	// The longest message there may be, in Korean or in emoji, whose
	// characters take 9 and 12 bytes each in the form.
	for _, ch := range []string{"안", "🖨"} {
		if resp, out := say(c, strings.Repeat(ch, core.MaxMessageRunes)); resp.StatusCode != http.StatusOK {
			t.Errorf("%d characters %q: %d %v", core.MaxMessageRunes, ch, resp.StatusCode, out)
		}
	}

	if _, _, err := r.Engine.AgentMessage(ctx, conv.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, "확인해 볼게요", ""); err != nil {
		t.Fatal(err)
	}
	s, _, err := r.Engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Engine.Send(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, core.LinkDesktop); err != nil {
		t.Fatal(err)
	}
	// The outbox hands the link to the web channel; no chat page is open,
	// so it is sent, not yet delivered.
	webtest.WaitFor(t, "the link sent", func() bool {
		ds, _ := r.Engine.Deliveries(ctx, s.ID)
		return len(ds) == 1 && ds[0].Status == core.DeliverySent
	})
	resp, body := c.Get("/chat/transcript", csrfHeader, c.CSRF)
	webtest.WantStatus(t, resp, body, http.StatusOK)
	webtest.WantContains(t, body, "프린터가 안 돼요", r.Catalog.T("ko", "console.chat.you"), "확인해 볼게요", "alice",
		`data-link`, `href="`+esc(s.DesktopURL)+`"`, r.Catalog.T("ko", "console.chat.open_link"), r.Catalog.T("ko", "portal.landing.code", "pin", s.PIN))
	if resp.Header.Get(csrfHeader) == "" {
		t.Error("the transcript carries no fresh token")
	}
	// The page showed the link: now it is delivered, as the agent's card
	// says.
	ds, _ := r.Engine.Deliveries(ctx, s.ID)
	if ds[0].Status != core.DeliveryDelivered {
		t.Errorf("after the page showed it the link is %s", ds[0].Status)
	}

	// The customer joins and the technician starts: the chat says so.
	r.Join(s, core.DeviceDesktop)
	if _, err := r.Engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}, core.ModeView); err != nil {
		t.Fatal(err)
	}
	_, body = c.Get("/chat/transcript")
	webtest.WantContains(t, body, `id="chat-status"`, r.Catalog.T("ko", "portal.status.active_view"), r.Catalog.T("ko", "console.chat.link_used"))
	// This provider is not assistbot's own: it has no share page.
	webtest.WantNotContains(t, body, `data-link`, "chat-share")
}

// TestChatRefusals: what the chat refuses, and that a refused message
// leaves nothing behind.
func TestChatRefusals(t *testing.T) {
	r := newRig(t)
	c := r.openChat("en")
	for _, tc := range []struct {
		name   string
		send   func() (*http.Response, string)
		status int
		msg    string
	}{
		{"no token", func() (*http.Response, string) {
			return c.Post("/chat/messages", url.Values{"text": {"hi"}})
		}, http.StatusForbidden, "This page has expired."},
		{"another chat's token", func() (*http.Response, string) {
			other := r.openChat("en")
			return c.Post("/chat/messages", url.Values{"text": {"hi"}, "csrf": {other.CSRF}})
		}, http.StatusForbidden, "This page has expired."},
		{"from another site", func() (*http.Response, string) {
			return c.Post("/chat/messages", url.Values{"text": {"hi"}, "csrf": {c.CSRF}}, "Sec-Fetch-Site", "cross-site")
		}, http.StatusForbidden, "This page has expired."},
		{"no chat cookie", func() (*http.Response, string) {
			return r.Visitor().Post("/chat/messages", url.Values{"text": {"hi"}, "csrf": {c.CSRF}})
		}, http.StatusForbidden, "did not keep this chat"},
		{"empty", func() (*http.Response, string) {
			return c.Post("/chat/messages", url.Values{"text": {" \n "}, "csrf": {c.CSRF}})
		}, http.StatusBadRequest, "Please write a message first."},
		{"too long", func() (*http.Response, string) {
			return c.Post("/chat/messages", url.Values{"text": {strings.Repeat("é", core.MaxMessageRunes+1)}, "csrf": {c.CSRF}})
		}, http.StatusBadRequest, "The message is too long"},
		{"not UTF-8", func() (*http.Response, string) {
			return c.Post("/chat/messages", url.Values{"text": {"\xff\xfe"}, "csrf": {c.CSRF}})
		}, http.StatusBadRequest, "Please write a message first."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.send()
			webtest.WantStatus(t, resp, body, tc.status)
			webtest.WantContains(t, body, esc(tc.msg))
		})
	}
	if convs, _ := r.Engine.Conversations(ctx, core.ConversationFilter{}); len(convs) != 0 {
		t.Errorf("a refused message opened %d conversations", len(convs))
	}
	// Without script the form posts and comes back to the page.
	resp, body := c.Post("/chat/messages", url.Values{"text": {"hi"}, "csrf": {c.CSRF}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/chat" {
		t.Errorf("form: %d %s", resp.StatusCode, body)
	}
}

// TestChatRateLimit lets a client write 20 messages a minute.
func TestChatRateLimit(t *testing.T) {
	r := newRig(t)
	c := r.openChat("en")
	for i := 0; i < 20; i++ {
		if resp, out := say(c, "message"); resp.StatusCode != http.StatusOK {
			t.Fatalf("message %d: %d %v", i, resp.StatusCode, out)
		}
	}
	resp, out := say(c, "one too many")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(out["error"].(string), "too quickly") {
		t.Errorf("21st message: %d %v", resp.StatusCode, out)
	}
	r.Clock.Add(3 * time.Second)
	if resp, _ := say(c, "later"); resp.StatusCode != http.StatusOK {
		t.Errorf("a moment later: %d", resp.StatusCode)
	}
}

// TestChatPrivacy: a chat shows only its own conversation, whatever
// conversation id its cookie claims.
func TestChatPrivacy(t *testing.T) {
	r := newRig(t)
	alice, mallory := r.openChat("en"), r.openChat("en")
	say(alice, "my account number is 1234")
	target := r.chatConv(alice).ID
	mallory.SetCookie("/chat", chatConvCookie, target)
	for _, path := range []string{"/chat", "/chat/transcript"} {
		_, body := mallory.Get(path)
		webtest.WantNotContains(t, body, "account number")
	}
	say(mallory, "hello")
	if got := r.chatConv(mallory).ID; got == target {
		t.Error("mallory wrote into alice's conversation")
	}
}

// TestChatEvents: an open chat page hears of the agent's reply; while it
// is open, a link is delivered at once.
func TestChatEvents(t *testing.T) {
	r := newRig(t)
	c := r.openChat("en")
	say(c, "hello")
	conv := r.chatConv(c)
	st := c.Events("/chat/events")
	if st.Resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", st.Resp.StatusCode)
	}
	webtest.WaitFor(t, "the page to listen", func() bool { return r.chat.channel.isLive(conv.Customer.Address) })
	if _, _, err := r.Engine.AgentMessage(ctx, conv.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, "hi", ""); err != nil {
		t.Fatal(err)
	}
	if name, _ := st.Next(eventWait); name != "refresh" {
		t.Fatalf("event %q", name)
	}
	s, _, _ := r.Engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: "alice"})
	r.Engine.Send(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, core.LinkMobile)
	webtest.WaitFor(t, "the link delivered", func() bool {
		ds, _ := r.Engine.Deliveries(ctx, s.ID)
		return len(ds) == 1 && ds[0].Status == core.DeliveryDelivered
	})
	st.Close()
	webtest.WaitFor(t, "the page to stop listening", func() bool { return !r.chat.channel.isLive(conv.Customer.Address) })
}

// TestChatConcerns decides which updates reach which chat page.
func TestChatConcerns(t *testing.T) {
	me := core.Endpoint{Channel: core.ChannelWeb, Address: "ME"}
	other := core.Endpoint{Channel: core.ChannelWeb, Address: "OTHER"}
	convs := map[string]bool{}
	for _, tc := range []struct {
		name string
		u    core.Update
		want bool
	}{
		{"another chat's message", core.Update{Conversation: &core.Conversation{ID: "c2", Customer: other}, Message: &core.Message{}}, false},
		{"a session of an unknown conversation", core.Update{Session: &core.Session{ConversationID: "c1"}}, false},
		{"my message", core.Update{Conversation: &core.Conversation{ID: "c1", Customer: me}, Message: &core.Message{}}, true},
		{"now my session", core.Update{Session: &core.Session{ConversationID: "c1"}, Event: &core.Event{}}, true},
		{"another's session", core.Update{Session: &core.Session{ConversationID: "c2"}, Event: &core.Event{}}, false},
		{"a link to me in a new conversation", core.Update{Delivery: &core.Delivery{ConversationID: "c3", To: me}}, true},
		{"its session", core.Update{Session: &core.Session{ConversationID: "c3"}}, true},
		{"a link to the other", core.Update{Delivery: &core.Delivery{ConversationID: "c2", To: other}}, false},
		{"an sms to the same address", core.Update{Delivery: &core.Delivery{ConversationID: "c4", To: core.Endpoint{Channel: core.ChannelSMS, Address: "ME"}}}, false},
	} {
		if got := chatConcerns(tc.u, me, convs); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestChatWidget serves the embeddable snippet in the visitor's language,
// pointing at the public URL.
func TestChatWidget(t *testing.T) {
	r := newRig(t, func(o *Options) { o.PublicURL = "https://support.example.com" })
	resp, body := r.Get("/chat/widget.js", "Accept-Language", "fr-CA")
	webtest.WantStatus(t, resp, body, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type %s", ct)
	}
	webtest.WantContains(t, body, `"url":"https://support.example.com/chat"`, `"label":"Discuter avec l'assistance"`, `target = "_blank"`)
	if got := r.chat.Snippet(); got != `<script src="https://support.example.com/chat/widget.js" async></script>` {
		t.Errorf("Snippet = %s", got)
	}
}

package webchat

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

var (
	htmlLangRE = regexp.MustCompile(`(?i)^<!doctype html>\s*<html lang="([^"]*)">`)
	viewportRE = regexp.MustCompile(`<meta name="viewport" content="([^"]*)">`)
)

// wantPhoneReady checks that page, a whole HTML document, is laid out
// for the width of the device it is read on, lets its reader zoom, and
// says it is in lang, the language its text (heading) is in.
func wantPhoneReady(t *testing.T, what, page, lang, heading string) {
	t.Helper()
	m := htmlLangRE.FindStringSubmatch(page)
	switch {
	case m == nil:
		t.Errorf("%s: the page does not start with <!doctype html><html lang=…>:\n%.300s", what, page)
	case m[1] != lang:
		t.Errorf("%s: <html lang=%q>, want %q", what, m[1], lang)
	}
	vp := viewportRE.FindAllStringSubmatch(page, -1)
	if len(vp) != 1 {
		t.Errorf("%s: %d viewport meta tags, want one", what, len(vp))
	} else {
		content := strings.ReplaceAll(vp[0][1], " ", "")
		if !strings.HasPrefix(content, "width=device-width") || !strings.Contains(content, "initial-scale=1") {
			t.Errorf("%s: viewport %q, want width=device-width, initial-scale=1", what, vp[0][1])
		}
		// A reader who needs larger text must be able to zoom.
		if strings.Contains(content, "user-scalable=no") || strings.Contains(content, "user-scalable=0") || strings.Contains(content, "maximum-scale") {
			t.Errorf("%s: viewport %q stops the reader from zooming", what, vp[0][1])
		}
	}
	if !strings.Contains(page, esc(heading)) {
		t.Errorf("%s: the page in %s lacks %q", what, lang, heading)
	}
}

// TestChatSecurityHeaders: every chat answer — the page, its transcript,
// a message — is sent with a CSP that allows only the page's own origin,
// DENY framing, no Referer and no caching; the page needs nothing that
// policy blocks; and the widget, loaded by other sites, says it is a
// script for them.
func TestChatSecurityHeaders(t *testing.T) {
	r := newRig(t)
	customer := r.openChat("en")
	resp, page := customer.Get("/chat")
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.CheckPageHeaders(t, "GET /chat", resp)
	webtest.CheckOwnSources(t, "GET /chat", page)
	if resp, out := say(customer, "hello"); resp.StatusCode != http.StatusOK {
		t.Fatalf("say: %d %v", resp.StatusCode, out)
	}
	resp, page = customer.Get("/chat/transcript", csrfHeader, customer.CSRF)
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.CheckPageHeaders(t, "GET /chat/transcript", resp)
	resp, _ = say(customer, "thanks")
	webtest.CheckPageHeaders(t, "POST /chat/messages", resp)
	resp, page = r.Visitor().Get("/chat")
	webtest.WantStatus(t, resp, page, http.StatusOK)
	webtest.CheckPageHeaders(t, "GET /chat, a new visitor", resp)

	resp, page = r.Get("/chat/widget.js")
	webtest.WantStatus(t, resp, page, http.StatusOK)
	if got := resp.Header.Get("Cross-Origin-Resource-Policy"); got != "cross-origin" {
		t.Errorf("widget.js: Cross-Origin-Resource-Policy = %q", got)
	}
}

// TestChatReadableOnPhone: the customer's chat, new and with its
// conversation, tells a phone to lay it out at its own width and says
// which language it is in, the one the browser asked for.
func TestChatReadableOnPhone(t *testing.T) {
	r := newRig(t)
	for _, tc := range []struct{ accept, lang string }{
		{"", "en"}, {"en-GB,en;q=0.9", "en"}, {"ko-KR,ko;q=0.9", "ko"}, {"ja", "ja"}, {"de-CH", "de"},
		{"fr-CA,fr;q=0.9,en;q=0.5", "fr"}, {"es-419", "es"}, {"xx, ko;q=0.5", "ko"}, {"zz", "en"},
	} {
		t.Run(tc.lang+"/"+tc.accept, func(t *testing.T) {
			heading := r.Catalog.T(tc.lang, "console.chat.title")
			chat := r.Visitor()
			chat.Lang = tc.accept
			resp, page := chat.Get("/chat")
			webtest.WantStatus(t, resp, page, http.StatusOK)
			wantPhoneReady(t, "new chat", page, tc.lang, heading)
			if resp, out := say(chat, "hello"); resp.StatusCode != http.StatusOK {
				t.Fatalf("say: %d %v", resp.StatusCode, out)
			}
			resp, page = chat.Get("/chat")
			webtest.WantStatus(t, resp, page, http.StatusOK)
			wantPhoneReady(t, "chat with its conversation", page, tc.lang, heading)
			webtest.WantContains(t, page, "hello")
		})
	}
}

// TestChatLinksToSharePage: a web chat customer whose session is being
// viewed finds the share page from the chat, once they joined.
func TestChatLinksToSharePage(t *testing.T) {
	r := newRig(t, func(o *Options) {
		o.SharePage = func(s *core.Session) string {
			if s.State != core.StateActive || s.Mode != core.ModeView {
				return ""
			}
			return "/s/" + s.ID
		}
	})
	c := r.openChat("en")
	say(c, "My screen is frozen", "id", "m1")
	conv := r.chatConv(c)
	s, _, err := r.Engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	_, body := c.Get("/chat/transcript")
	webtest.WantNotContains(t, body, "chat-share")
	r.Join(s, core.DeviceDesktop)
	_, body = c.Get("/chat/transcript")
	webtest.WantNotContains(t, body, "chat-share") // waiting: nothing to share yet
	if _, err := r.Engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}, core.ModeView); err != nil {
		t.Fatal(err)
	}
	_, body = c.Get("/chat/transcript")
	webtest.WantContains(t, body, `id="chat-share" href="/s/`+s.ID+`"`, "Show the technician your screen")
}

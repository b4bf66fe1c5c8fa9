package console

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

// TestPagesReadableOnPhone: every console page an agent opens (sign-in,
// queue, conversation, session, an error) tells a phone to lay them out at its own
// width and say which language they are in, the one the browser asked
// for, so that a screen reader reads them with the right voice.
func TestPagesReadableOnPhone(t *testing.T) {
	r := newRig(t)
	conv, _, err := r.Engine.CustomerMessage(ctx, core.Inbound{Customer: pat, Name: "Pat", Text: "help", Desk: core.Endpoint{Channel: core.ChannelConsole}})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := r.Engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ accept, lang string }{
		{"", "en"},
		{"en-GB,en;q=0.9", "en"},
		{"ko-KR,ko;q=0.9", "ko"},
		{"ja", "ja"},
		{"de-CH", "de"},
		{"fr-CA,fr;q=0.9,en;q=0.5", "fr"},
		{"es-419", "es"},
		{"xx, ko;q=0.5", "ko"},
		{"zz", "en"},
	} {
		t.Run(tc.lang+"/"+tc.accept, func(t *testing.T) {
			T := func(key string) string { return r.Catalog.T(tc.lang, key) }
			c := r.Visitor()
			c.Lang = tc.accept
			get := func(what, path, heading string, status int) {
				t.Helper()
				resp, page := c.Get(path)
				webtest.WantStatus(t, resp, page, status)
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("%s: Content-Type %q", what, ct)
				}
				wantPhoneReady(t, what, page, tc.lang, heading)
			}
			get("sign-in", "/console/login", T("console.login.heading"), http.StatusOK)
			signInAs(c, "alice", alicePW)
			get("queue", "/console", T("console.queue.title"), http.StatusOK)
			get("conversation", "/console/conversations/"+conv.ID, T("console.back_queue"), http.StatusOK)
			get("session", "/console/sessions/"+s.ID, T("console.log.title"), http.StatusOK)
			get("unknown session", "/console/sessions/no-such-session", T("console.error.heading"), http.StatusNotFound)

		})
	}
}

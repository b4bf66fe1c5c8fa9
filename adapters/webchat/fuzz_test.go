package webchat

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
)

// FuzzChatMessage feeds arbitrary bodies, content types and cookies to
// the web chat's inbound endpoint, the one part of assistbot anyone on
// the internet can write to: whatever arrives, the answer is a 2xx, 3xx
// or 4xx, never a server error or a panic.
func FuzzChatMessage(f *testing.F) {
	for _, seed := range []struct{ body, contentType, cookie string }{
		{"text=hello&csrf=TOKEN", "application/x-www-form-urlencoded", "CHAT"},
		{"text=hello&name=Pat&id=abc&csrf=TOKEN", "application/x-www-form-urlencoded", "CHAT"},
		{"text=%FF%FE&csrf=TOKEN", "application/x-www-form-urlencoded", "CHAT"},
		{"text=" + strings.Repeat("a", 5000) + "&csrf=TOKEN", "application/x-www-form-urlencoded", "CHAT"},
		{"text=%ZZ&csrf=TOKEN", "application/x-www-form-urlencoded", "CHAT"},
		{"text=hi&text=again&csrf=TOKEN&csrf=x", "application/x-www-form-urlencoded", "CHAT"},
		{"--x\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhi\r\n--x--\r\n", "multipart/form-data; boundary=x", "CHAT"},
		{`{"text":"hi"}`, "application/json", "CHAT"},
		{"text=hi&csrf=TOKEN", "application/x-www-form-urlencoded", "AAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"text=hi", "", ""},
		{"text=hi&name=" + strings.Repeat("%E2%80%AE", 100) + "&csrf=TOKEN", "application/x-www-form-urlencoded", "CHAT"},
	} {
		f.Add(seed.body, seed.contentType, seed.cookie)
	}
	r := newRig(f)
	// Every input reaches the handler.
	r.chat.limit = web.NewLimiter(web.LimiterOptions{PerClient: 1 << 30, Period: time.Second, Clock: r.Clock})
	r.chat.clientLimit = web.NewLimiter(web.LimiterOptions{PerClient: 1 << 30, Period: time.Second, Clock: r.Clock})
	chat := "CHATCHATCHATCHATCHATCHATCH"
	token := r.chat.tokens.Make(context.Background(), "chat", chat)
	signed := r.chat.signedID(context.Background(), chat)
	f.Fuzz(func(t *testing.T, body, contentType, cookie string) {
		body = strings.ReplaceAll(body, "TOKEN", token)
		conv := strings.ReplaceAll(cookie, "CHAT", chat)
		if cookie == "CHAT" {
			cookie = signed
		} else {
			cookie = conv
		}
		for _, path := range []string{"/chat/messages", "/chat/transcript", "/chat"} {
			method := http.MethodGet
			if path == "/chat/messages" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			if cookie != "" && !strings.ContainsAny(cookie, "\x00\r\n;") {
				req.Header.Set("Cookie", chatCookie+"="+cookie+"; "+chatConvCookie+"="+conv)
			}
			rec := httptest.NewRecorder()
			r.Server.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s: %d for body %q, type %q, cookie %q:\n%s", method, path, rec.Code, body, contentType, cookie, rec.Body)
			}
		}
	})
}

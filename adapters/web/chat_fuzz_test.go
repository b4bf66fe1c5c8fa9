package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
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
	r := newConsoleRig(f, func(o *Options, _ *ConsoleOptions) {
		o.ClientGuessesPerMinute = 1 << 30
		o.GlobalGuessesPerMinute = 1 << 30
	})
	r.console.chats = newLimiter(r.clock.Now, 1<<30, 1) // every input reaches the handler
	chat := "CHATCHATCHATCHATCHATCHATCH"
	token := r.console.tokens.make("chat", chat)
	f.Fuzz(func(t *testing.T, body, contentType, cookie string) {
		body = strings.ReplaceAll(body, "TOKEN", token)
		cookie = strings.ReplaceAll(cookie, "CHAT", chat)
		for _, path := range []string{"/chat/messages", "/chat/transcript", "/chat"} {
			method := http.MethodGet
			if path == "/chat/messages" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			if cookie != "" && !strings.ContainsAny(cookie, "\x00\r\n;") {
				req.Header.Set("Cookie", chatCookie+"="+cookie+"; "+chatConvCookie+"="+cookie)
			}
			rec := httptest.NewRecorder()
			r.server.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s: %d for body %q, type %q, cookie %q:\n%s", method, path, rec.Code, body, contentType, cookie, rec.Body)
			}
		}
	})
}

// FuzzPasswordHash feeds arbitrary configured hashes and passwords to
// the verifier: a hash it accepts at start must verify without panicking,
// and nothing may panic.
func FuzzPasswordHash(f *testing.F) {
	for _, h := range []string{
		"$argon2id$v=19$m=16,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$",
		"$argon2id$v=19$m=1,t=1,p=0$$",
		"$argon2id$v=19$m=16,t=1,p=1,p=2$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
		"$2a$04$" + strings.Repeat("a", 53),
		"$2y$31$" + strings.Repeat(".", 53),
		"$2a$04000000000000 0000000000000000000000000000000000000000", // bcrypt.Cost accepts it
		"$2b$", "", "$", "$$$$$",
	} {
		f.Add(h, "password")
	}
	f.Fuzz(func(t *testing.T, hash, password string) {
		if p, _, _, err := parseArgon(hash); err == nil && (p.memory > 1<<12 || p.time > 4) {
			return // a valid but costly hash: checking it says nothing more
		}
		if strings.HasPrefix(hash, "$2") {
			if cost, err := bcrypt.Cost([]byte(hash)); err == nil && cost > 6 {
				return
			}
		}
		if checkHash(hash) != nil {
			return
		}
		if _, err := verifyPassword(hash, password); err != nil {
			t.Errorf("checkHash accepted %q, but verifying fails: %v", hash, err)
		}
	})
}

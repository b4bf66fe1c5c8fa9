package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
)

// fuzzRig is a rig whose guessing limits never trigger, so every input
// reaches the code under test.
func fuzzRig(f *testing.F) *rig {
	return newRig(f, func(o *Options) {
		o.ClientGuessesPerMinute = 1 << 30
		o.GlobalGuessesPerMinute = 1 << 30
	})
}

// FuzzJoin feeds arbitrary forms and codes to the portal: whatever
// arrives, the answer is a page, never a server error or a panic.
func FuzzJoin(f *testing.F) {
	for _, seed := range []string{
		"code=123456", "code=", "code=%20123-456%20", "code=%ZZ", "code=1&code=2",
		"code=" + strings.Repeat("9", 64), "=&&=", "code=%D9%A1%D9%A2%D9%A3%D9%A4%D9%A5%D9%A6",
	} {
		f.Add(seed, "application/x-www-form-urlencoded", "123456")
	}
	f.Add("--x\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\n123456\r\n--x--\r\n", "multipart/form-data; boundary=x", "")
	f.Add(`{"code":"123456"}`, "application/json", "%00")
	r := fuzzRig(f)
	live := r.issue("en")
	f.Fuzz(func(t *testing.T, body, contentType, code string) {
		body = strings.ReplaceAll(body, "LIVE", live.PIN)
		for _, req := range []*http.Request{
			httptest.NewRequest(http.MethodPost, "/join", strings.NewReader(body)),
			httptest.NewRequest(http.MethodGet, "/?code=x", nil),
			httptest.NewRequest(http.MethodGet, "/m/x", nil),
		} {
			req.Header.Set("Content-Type", contentType)
			switch req.Method {
			case http.MethodGet:
				q := req.URL.Query()
				q.Set("code", code)
				req.URL.RawQuery = q.Encode()
				if req.URL.Path == "/m/x" {
					req.URL.Path, req.URL.RawPath = "/m/"+code, ""
				}
			}
			rec := httptest.NewRecorder()
			r.server.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s: status %d\n%s", req.Method, req.URL, rec.Code, rec.Body)
			}
			if rec.Code == http.StatusOK && req.Method == http.MethodPost {
				t.Fatalf("POST /join answered 200")
			}
		}
	})
}

// FuzzAPI feeds arbitrary bodies to every API endpoint that reads one:
// bad input is a 4xx, never a 5xx or a panic.
func FuzzAPI(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"agent":"alice"}`, `{"agent":5}`, `{"customer":{"channel":"sms","address":"+12015550123","name":"Pat"}}`,
		`{"customer":{"channel":"web","address":"chat-1"},"locale":"ko"}`, `{"locale":"\u0000"}`, `{"conversation_id":"nope"}`,
		`{"link":"desktop"}`, `{"link":"mobile","agent":"bob"}`, `{"mode":"view","technician":"tom"}`, `{"mode":"control"}`,
		`{"x":1}`, `{} {}`, `{"agent":"a"`, "\xff\xfe", `{"customer":null}`, `{"customer":{"channel":"fax"}}`,
	} {
		f.Add(seed, uint8(0))
	}
	r := fuzzRig(f)
	paths := []string{"", "/regenerate", "/send", "/close", "/start", "/end"}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		s, _, err := r.engine.Issue(t.Context(), core.Request{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: core.NewID()}})
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/sessions"
		if p := paths[int(which)%len(paths)]; p != "" {
			path += "/" + s.ID + p
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		r.server.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: status %d\n%s", path, body, rec.Code, rec.Body)
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("POST %s: Content-Type %q", path, rec.Header().Get("Content-Type"))
		}
	})
}

// FuzzParseSignal feeds arbitrary bytes to the signaling parser: it never
// panics, and what it accepts is a message of a known type that the
// server relays as parsed — encoding it and parsing it again gives the
// same message, so nothing the sender added survives the relay.
func FuzzParseSignal(f *testing.F) {
	for _, seed := range []string{
		`{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}`,
		`{"type":"candidate","candidate":"candidate:1 1 udp 1 192.0.2.7 5 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null}`,
		`{"type":"candidate","candidate":"","sdpMid":null}`,
		`{"type":"share-started","source":"camera"}`, `{"type":"declined","reason":"denied"}`,
		`{"type":"ready"}`, `{"type":"bye"}`, `{"type":"answer","sdp":"v=0","x":1}`, `{"type":"offer"} {}`,
		`[]`, `null`, `{"type":1}`, `{"type":"candidate","candidate":"candidate:1","sdpMLineIndex":-1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseSignal(b)
		if err != nil {
			if m != nil || !strings.HasPrefix(err.Error(), "malformed message: ") {
				t.Fatalf("parseSignal(%q) = %v, %v", b, m, err)
			}
			return
		}
		if _, ok := signalFields[m.Type]; !ok {
			t.Fatalf("accepted unknown type %q", m.Type)
		}
		again, err := parseSignal(m.encode())
		if err != nil {
			t.Fatalf("the relayed form of %q is refused: %v", b, err)
		}
		if string(again.encode()) != string(m.encode()) {
			t.Fatalf("relaying %q changes it: %s then %s", b, m.encode(), again.encode())
		}
	})
}

// BenchmarkParseSignal parses and re-encodes an ICE candidate, the most
// frequent signaling message.
func BenchmarkParseSignal(b *testing.B) {
	msg := []byte(`{"type":"candidate","candidate":"candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sXP5 network-cost 999","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"sXP5"}`)
	b.ReportAllocs()
	for b.Loop() {
		m, err := parseSignal(msg)
		if err != nil {
			b.Fatal(err)
		}
		_ = m.encode()
	}
}

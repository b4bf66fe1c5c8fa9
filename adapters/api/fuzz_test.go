package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
)

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
	r := newRig(f)
	paths := []string{"", "/regenerate", "/send", "/close", "/start", "/end"}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		s, _, err := r.Engine.Issue(t.Context(), core.Request{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: core.NewID()}})
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
		r.Server.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: status %d\n%s", path, body, rec.Code, rec.Body)
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("POST %s: Content-Type %q", path, rec.Header().Get("Content-Type"))
		}
	})
}

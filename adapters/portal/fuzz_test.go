package portal

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
	live := r.Issue("en")
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
			r.Server.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s: status %d\n%s", req.Method, req.URL, rec.Code, rec.Body)
			}
			if rec.Code == http.StatusOK && req.Method == http.MethodPost {
				t.Fatalf("POST /join answered 200")
			}
		}
	})
}

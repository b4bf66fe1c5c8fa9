package webtest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
)

// Visitor is one person's browser: its own cookies, no redirects
// followed, and the CSRF token of the last page it saw that had one.
type Visitor struct {
	T    testing.TB
	Base string
	HC   *http.Client
	CSRF string
	// Lang is sent as Accept-Language when set.
	Lang string
}

// Visitor returns a new browser on the rig's test server.
func (r *Rig) Visitor() *Visitor {
	jar, err := cookiejar.New(nil)
	if err != nil {
		r.T.Fatal(err)
	}
	return &Visitor{T: r.T, Base: r.TS.URL, HC: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var (
	formTokenRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	pageTokenRE = regexp.MustCompile(`data-csrf="([^"]+)"`)
)

// Do sends a request and returns the answer with its body read. Any page
// that carries a CSRF token updates the visitor's.
func (v *Visitor) Do(method, path string, body io.Reader, header ...string) (*http.Response, string) {
	v.T.Helper()
	req, err := http.NewRequest(method, v.Base+path, body)
	if err != nil {
		v.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if v.Lang != "" {
		req.Header.Set("Accept-Language", v.Lang)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := v.HC.Do(req)
	if err != nil {
		v.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := pageTokenRE.FindSubmatch(b); m != nil {
		v.CSRF = string(m[1])
	} else if m := formTokenRE.FindSubmatch(b); m != nil {
		v.CSRF = string(m[1])
	}
	return resp, string(b)
}

// Get sends a GET with header pairs.
func (v *Visitor) Get(path string, header ...string) (*http.Response, string) {
	v.T.Helper()
	return v.Do(http.MethodGet, path, nil, header...)
}

// Post submits a form as a browser without script does: the token, if
// any, in the form's csrf field.
func (v *Visitor) Post(path string, form url.Values, header ...string) (*http.Response, string) {
	v.T.Helper()
	return v.Do(http.MethodPost, path, strings.NewReader(form.Encode()), header...)
}

// Fetch posts as the pages' scripts do: the token in X-CSRF-Token, JSON
// back.
func (v *Visitor) Fetch(path string, form url.Values) (*http.Response, map[string]any) {
	v.T.Helper()
	resp, body := v.Do(http.MethodPost, path, strings.NewReader(form.Encode()), web.CSRFHeader, v.CSRF, "Accept", "application/json")
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		v.T.Fatalf("POST %s: %d, not JSON: %s", path, resp.StatusCode, body)
	}
	return resp, out
}

// Cookie returns the value of the visitor's cookie name for path.
func (v *Visitor) Cookie(path, name string) string {
	u, _ := url.Parse(v.Base + path)
	for _, ck := range v.HC.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// SetCookie gives the visitor a cookie for path.
func (v *Visitor) SetCookie(path, name, value string) {
	u, _ := url.Parse(v.Base + path)
	v.HC.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: path}})
}

// Stream is an open event stream.
type Stream struct {
	T    testing.TB
	Resp *http.Response
	r    *bufio.Reader
	stop context.CancelFunc
}

// Events opens the event stream at path with the visitor's cookies; it
// closes when the test ends.
func (v *Visitor) Events(path string) *Stream {
	v.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, v.Base+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	hc := *v.HC
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		v.T.Fatal(err)
	}
	s := &Stream{T: v.T, Resp: resp, r: bufio.NewReader(resp.Body), stop: cancel}
	v.T.Cleanup(s.Close)
	return s
}

// Close closes the stream.
func (s *Stream) Close() {
	s.stop()
	s.Resp.Body.Close()
}

// Next returns the next event's name and data, skipping comments and
// the retry line; it fails the test after wait. A stream that ends gives
// the data "error: " and why.
func (s *Stream) Next(wait time.Duration) (event, data string) {
	s.T.Helper()
	type ev struct{ name, data string }
	got := make(chan ev, 1)
	fail := make(chan error, 1)
	go func() {
		var e ev
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				fail <- err
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.data = strings.TrimPrefix(line, "data: ")
			case line == "" && e.name != "":
				got <- e
				return
			}
		}
	}()
	select {
	case e := <-got:
		return e.name, e.data
	case err := <-fail:
		return "", "error: " + err.Error()
	case <-time.After(wait):
		s.T.Fatalf("no event within %s", wait)
		return "", ""
	}
}

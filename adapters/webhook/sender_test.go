package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/webhook"
	hooks "github.com/assistbot/assistbot/core/webhook"
)

const secret = "0123456789abcdef0123"

// receiver is an endpoint that checks what it gets as docs/webhooks.md
// tells receivers to, and counts the requests that pass.
func receiver(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := hooks.Verify(secret, r.Header.Get(webhook.HeaderSignature), body, time.Now(), hooks.Tolerance)
		if r.Method != http.MethodPost || err != nil || string(body) != `{"id":"evt_1"}` ||
			r.Header.Get(webhook.HeaderDelivery) != "evt_1.wh_1" || r.Header.Get(webhook.HeaderEvent) != "session.issued" {
			t.Errorf("the receiver got %s %q (signature: %v, headers %v)", r.Method, body, err, r.Header)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got.Add(1)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

// redirector answers every request under /hop/N with status, pointing
// at /hop/N-1, and /hop/0 at to.
func redirector(t *testing.T, status int, to string) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		next := to
		if n > 0 {
			next = srv.URL + "/hop/" + strconv.Itoa(n-1)
		}
		http.Redirect(w, r, next, status)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func send(url string, allowPrivate bool) hooks.Result {
	s := webhook.New(webhook.Options{AllowPrivate: allowPrivate})
	ep := &hooks.Endpoint{ID: "wh_1", URL: url, Secret: secret}
	return s.Send(context.Background(), ep, &hooks.Request{Delivery: "evt_1.wh_1", Event: "session.issued", Body: []byte(`{"id":"evt_1"}`)})
}

// TestRedirects: a 307 or 308 is followed, the signed POST repeated as
// it was, up to three in a row; any other 3xx, a fourth redirect, or one
// to another scheme fails the delivery for good (docs/webhooks.md), and
// the receiver hears nothing.
func TestRedirects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		hops   int
		want   string // "" for delivered, else part of the error
	}{
		{"307", http.StatusTemporaryRedirect, 0, ""},
		{"308", http.StatusPermanentRedirect, 0, ""},
		{"three 307s", http.StatusTemporaryRedirect, 2, ""},
		{"four 307s", http.StatusTemporaryRedirect, 3, "redirected more than 3 times"},
		{"302", http.StatusFound, 0, "answered 302 and a redirect that was not followed"},
		{"301", http.StatusMovedPermanently, 0, "answered 301 and a redirect that was not followed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			final, got := receiver(t)
			hop := redirector(t, tc.status, final.URL+"/hook")
			res := send(hop.URL+"/hop/"+strconv.Itoa(tc.hops), true)
			switch {
			case tc.want == "" && (res.Err != nil || res.Status != http.StatusOK || got.Load() != 1):
				t.Errorf("result %+v, %d requests received; want delivered once", res, got.Load())
			case tc.want != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tc.want) || !res.Permanent || got.Load() != 0):
				t.Errorf("result %+v, %d requests received; want a permanent failure saying %q", res, got.Load(), tc.want)
			}
		})
	}
	t.Run("to another scheme", func(t *testing.T) {
		hop := redirector(t, http.StatusTemporaryRedirect, "ftp://files.example.com/hook")
		if res := send(hop.URL+"/hop/0", true); res.Err == nil || !res.Permanent {
			t.Errorf("result %+v, want a permanent failure", res)
		}
	})
}

// TestPrivateAddressRefused: without webhooks_allow_private, a loopback
// receiver is never called, and the failure is for good.
func TestPrivateAddressRefused(t *testing.T) {
	final, got := receiver(t)
	res := send(final.URL+"/hook", false)
	if res.Err == nil || !res.Permanent || !strings.Contains(res.Err.Error(), "loopback, link-local or private") || got.Load() != 0 {
		t.Errorf("result %+v, %d requests received; want refused for good", res, got.Load())
	}
}

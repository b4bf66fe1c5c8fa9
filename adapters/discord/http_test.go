package discord

import (
	"bytes"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPing answers Discord's PING, which it sends when the Interactions
// Endpoint URL is saved, with PONG.
func TestPing(t *testing.T) {
	r := newRig(t)
	w := r.post([]byte(`{"id":"1","application_id":"` + appID + `","type":1,"token":"x","version":1}`))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("ping: %d %s", w.Code, w.Body)
	}
	golden(t, "pong", w.Body.Bytes())
}

// TestRefusedRequests sends what Discord's security checks and attackers
// send: every one is refused with a 4xx and a short reason, before the
// body is parsed, and nothing reaches the engine.
func TestRefusedRequests(t *testing.T) {
	r := newRig(t)
	good := r.remoteCommand(agent(), supportC, customerOption(patID)).json()
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	now := r.clock.Now()
	for _, tc := range []struct {
		name   string
		send   func() *httptest.ResponseRecorder
		status int
	}{
		{"signed by another key", func() *httptest.ResponseRecorder { return r.postSigned(good, now, other) }, http.StatusUnauthorized},
		{"six minutes old", func() *httptest.ResponseRecorder { return r.postSigned(good, now.Add(-6*time.Minute), r.priv) }, http.StatusUnauthorized},
		{"from the future", func() *httptest.ResponseRecorder { return r.postSigned(good, now.Add(6*time.Minute), r.priv) }, http.StatusUnauthorized},
		{"body changed after signing", func() *httptest.ResponseRecorder {
			return r.tamper(good, func(req *http.Request) {
				req.Body = httpBody(bytes.Replace(good, []byte(patID), []byte("800000000000000008"), 1))
			})
		}, http.StatusUnauthorized},
		{"no signature", func() *httptest.ResponseRecorder {
			return r.tamper(good, func(req *http.Request) { req.Header.Del("X-Signature-Ed25519") })
		}, http.StatusUnauthorized},
		{"signature not hex", func() *httptest.ResponseRecorder {
			return r.tamper(good, func(req *http.Request) { req.Header.Set("X-Signature-Ed25519", "zz") })
		}, http.StatusUnauthorized},
		{"timestamp not a number", func() *httptest.ResponseRecorder {
			body := good
			return r.postRaw(body, "soon", ed25519.Sign(r.priv, append([]byte("soon"), body...)))
		}, http.StatusUnauthorized},
		{"malformed JSON", func() *httptest.ResponseRecorder { return r.post([]byte(`{"type":2,`)) }, http.StatusBadRequest},
		{"command without data", func() *httptest.ResponseRecorder {
			return r.post([]byte(`{"id":"1","application_id":"` + appID + `","type":2,"token":"x"}`))
		}, http.StatusBadRequest},
		{"unknown type", func() *httptest.ResponseRecorder {
			return r.post([]byte(`{"id":"1","application_id":"` + appID + `","type":42,"token":"x"}`))
		}, http.StatusBadRequest},
		{"another application", func() *httptest.ResponseRecorder {
			return r.post([]byte(`{"id":"1","application_id":"5","type":1,"token":"x"}`))
		}, http.StatusBadRequest},
		{"too large", func() *httptest.ResponseRecorder { return r.post(bytes.Repeat([]byte(" "), maxBody+1)) }, http.StatusRequestEntityTooLarge},
		{"GET", func() *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			r.a.serveInteraction(w, httptest.NewRequest("GET", "/discord/interactions", nil))
			return w
		}, http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.send()
			if w.Code != tc.status || !strings.Contains(w.Body.String(), `"error"`) {
				t.Errorf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			golden(t, "http_"+strings.ReplaceAll(tc.name, " ", "_"), w.Body.Bytes())
		})
	}
	if n := len(r.sessions()); n != 0 {
		t.Errorf("%d sessions were issued by refused requests", n)
	}
	if !strings.Contains(r.logs.String(), "reason=\"bad signature\"") || !strings.Contains(r.logs.String(), "outside the accepted window") {
		t.Errorf("refusals not logged:\n%s", r.logs)
	}
}

// TestNoPublicKey refuses every request when no key is configured.
func TestNoPublicKey(t *testing.T) {
	r := newRig(t, func(o *Options) { o.PublicKey = "" })
	if w := r.post([]byte(`{"id":"1","type":1,"token":"x"}`)); w.Code != http.StatusUnauthorized {
		t.Errorf("status %d", w.Code)
	}
}

// tamper signs body properly, then lets edit spoil the request.
func (r *rig) tamper(body []byte, edit func(*http.Request)) *httptest.ResponseRecorder {
	ts := r.clock.Now().Unix()
	sig := ed25519.Sign(r.priv, append([]byte(itoa(ts)), body...))
	req := signedRequest(body, itoa(ts), sig)
	edit(req)
	w := httptest.NewRecorder()
	r.a.serveInteraction(w, req)
	return w
}

func (r *rig) postRaw(body []byte, ts string, sig []byte) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	r.a.serveInteraction(w, signedRequest(body, ts, sig))
	return w
}

package discord

import (
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/assistbot/assistbot/core"
)

// BenchmarkRemoteCommand measures a signed /remote customer:@pat through
// the interactions endpoint: signature check, parsing, authorization, a
// PIN issued and stored (memory store), and the card rendered.
func BenchmarkRemoteCommand(b *testing.B) {
	r := newRig(b)
	r.provider.Pins = core.RandomPINs{}
	body := r.remoteCommand(agent(), supportC, customerOption(patID)).json()
	ts := itoa(r.clock.Now().Unix())
	sig := ed25519.Sign(r.priv, append([]byte(ts), body...))
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r.a.serveInteraction(w, signedRequest(body, ts, sig))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

package discord

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzInteraction sends arbitrary bodies, correctly signed, to the
// interactions endpoint: whatever the body, the answer is a 200 with a
// well-formed interaction response or a 4xx, never a 5xx or a panic.
func FuzzInteraction(f *testing.F) {
	seeds := &rig{}
	for _, s := range []string{
		`{"id":"1","application_id":"` + appID + `","type":1,"token":"x"}`,
		string(seeds.remoteCommand(agent(), supportC, customerOption(patID)).json()),
		string(seeds.remoteCommand(stranger(), supportC).json()),
		string(seeds.click(agent(), supportC, "remote.send_desktop:0123456789abcdefghijklmnop", "1", 64).json()),
		string(seeds.click(agent(), supportC, "remote.issue:x", "1", 0).json()),
		`{"id":"1","type":2,"token":"x","data":{"name":"remote","options":[{"name":"customer","type":6,"value":null}]}}`,
		`{"id":"1","type":3,"token":"x","data":{"custom_id":":::"},"message":null}`,
		`{"type":2,"data":[]}`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	r := newRig(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ts := itoa(r.clock.Now().Unix())
		w := httptest.NewRecorder()
		r.a.serveInteraction(w, signedRequest(body, ts, ed25519.Sign(r.priv, append([]byte(ts), body...))))
		switch {
		case w.Code == http.StatusOK:
			var resp struct {
				Type int             `json:"type"`
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.Type < 1 || resp.Type > 7 {
				t.Fatalf("200 with a malformed response %s for %q", w.Body, body)
			}
		case w.Code >= 500 || w.Code < 400:
			t.Fatalf("status %d for %q", w.Code, body)
		}
	})
}

package twilio_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/twilio"
	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
	"github.com/assistbot/assistbot/core"
)

// TestSignatureMatchesSDK checks the tests' signer against the vector of
// twilio-go's own validator tests (client/request_validator_test.go), so
// that the tests sign as Twilio does rather than as the adapter expects.
func TestSignatureMatchesSDK(t *testing.T) {
	form := url.Values{
		"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"}, "ReasonConferenceEnded": {"test"},
		"Reason": {"Participant"},
	}
	got := twiliotest.Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form)
	if want := "vOEb5UThFn24KEfnOFLQY2AE5FY="; got != want {
		t.Errorf("Signature = %s, want %s", got, want)
	}
}

// TestWebhookAuthentication sends the inbound webhook with every kind of
// signature problem: only a request signed with the auth token over the
// configured public URL gets through, and a refused one changes nothing.
func TestWebhookAuthentication(t *testing.T) {
	form := twiliotest.Incoming("SM00000000000000000000000000000001", customer, ourNumber, "Hello, my printer is broken")
	signed := func(base string, f url.Values, token string) *http.Request {
		r := twiliotest.Webhook(base, twilio.PathSMS, f)
		r.Header.Set("X-Twilio-Signature", twiliotest.Signature(token, base+twilio.PathSMS, f))
		return r
	}
	for _, tc := range []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"signed as Twilio does", func() *http.Request { return signed(publicURL, form, twiliotest.AuthToken) }, http.StatusOK},
		{"missing signature", func() *http.Request {
			r := signed(publicURL, form, twiliotest.AuthToken)
			r.Header.Del("X-Twilio-Signature")
			return r
		}, http.StatusForbidden},
		{"another account's token", func() *http.Request { return signed(publicURL, form, "ffffffffffffffffffffffffffffffff") }, http.StatusForbidden},
		{"body changed after signing", func() *http.Request {
			r := signed(publicURL, form, twiliotest.AuthToken)
			changed := url.Values{}
			for k, v := range form {
				changed[k] = v
			}
			changed.Set("Body", "Send me your PIN")
			r2 := twiliotest.Webhook(publicURL, twilio.PathSMS, changed)
			r2.Header.Set("X-Twilio-Signature", r.Header.Get("X-Twilio-Signature"))
			return r2
		}, http.StatusForbidden},
		{"signed for the Host header, not the public URL", func() *http.Request {
			// Behind a proxy the request arrives for an inner address; a
			// signature over that address is not Twilio's.
			return signed("http://10.0.0.5:8080", form, twiliotest.AuthToken)
		}, http.StatusForbidden},
		{"proxied: inner Host, signed for the public URL", func() *http.Request {
			r := signed(publicURL, form, twiliotest.AuthToken)
			r.Host = "10.0.0.5:8080"
			r.URL.Host = "10.0.0.5:8080"
			r.URL.Scheme = "http"
			return r
		}, http.StatusOK},
		{"query string is signed too", func() *http.Request {
			r := signed(publicURL, form, twiliotest.AuthToken)
			r.URL.RawQuery = "desk=other"
			return r
		}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			code, body := h.serve(tc.req())
			if code != tc.want {
				t.Fatalf("status %d (%s), want %d", code, body, tc.want)
			}
			convs, _ := h.engine.Conversations(context.Background(), core.ConversationFilter{})
			if opened := len(convs) == 1; opened != (tc.want == http.StatusOK) {
				t.Errorf("conversations after the request: %d", len(convs))
			}
			if code == http.StatusForbidden && !strings.Contains(body, "X-Twilio-Signature") {
				t.Errorf("a refusal should name the header: %q", body)
			}
		})
	}
}

// TestWebhookSignedQuery accepts a webhook URL configured with a query
// string, which Twilio signs as part of the URL.
func TestWebhookSignedQuery(t *testing.T) {
	h := newHarness(t, nil)
	form := twiliotest.Incoming("SM00000000000000000000000000000002", customer, ourNumber, "hi")
	r := twiliotest.Webhook(publicURL, twilio.PathSMS+"?src=main", form)
	if code, body := h.serve(r); code != http.StatusOK {
		t.Errorf("status %d: %s", code, body)
	}
}

// TestWebhookLimits refuses what Twilio never sends: a huge body, and
// GET.
func TestWebhookLimits(t *testing.T) {
	h := newHarness(t, nil)
	big := twiliotest.Incoming("SM00000000000000000000000000000003", customer, ourNumber, strings.Repeat("a", 70<<10))
	if code, _ := h.post(twilio.PathSMS, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d", code)
	}
	r, _ := http.NewRequest(http.MethodGet, publicURL+twilio.PathSMS, nil)
	if code, _ := h.serve(r); code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", code)
	}
}

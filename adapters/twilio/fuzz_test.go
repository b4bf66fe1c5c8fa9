package twilio_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/twilio"
	"github.com/assistbot/assistbot/adapters/twilio/twiliotest"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// FuzzWebhooks posts arbitrary bodies, signed as Twilio would sign them,
// to both webhooks: whatever the body, the answer is a 2xx or a 4xx,
// never a 5xx or a panic, and a 200 from /twilio/sms is TwiML.
func FuzzWebhooks(f *testing.F) {
	for _, form := range []url.Values{
		twiliotest.Incoming("SM00000000000000000000000000000001", customer, ourNumber, "hello"),
		twiliotest.Incoming("SM00000000000000000000000000000002", "+821012345678", ourNumber, "STOP"),
		twiliotest.Incoming("SM00000000000000000000000000000003", customer, ourNumber, "프린터"),
		twiliotest.Status("SM00000000000000000000000000000004", customer, "undelivered", 30003),
		twiliotest.Status("SM00000000000000000000000000000005", customer, "delivered", 0),
	} {
		f.Add(form.Encode())
	}
	f.Add("MessageSid=SM1&From=%2B12015550123&Body=HELP&OptOutType=HELP&NumMedia=2")
	f.Add("MessageSid=&From=&Body=%ff%fe")
	f.Add("a=%zz&b")
	f.Add("MessageSid=SM1&MessageStatus=failed&ErrorCode=-1")
	catalog, err := i18n.New("en")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		engine := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}),
			Store:     coretest.NewMemStore(),
			Provider:  &coretest.Provider{},
			Addresses: map[string]func(string) (string, error){core.ChannelSMS: twilio.NumberParser("US")},
		})
		a, err := twilio.New(twilio.Options{
			Engine: engine, Bot: remote.New(engine, catalog), AccountSID: twiliotest.AccountSID,
			AuthToken: twiliotest.AuthToken, From: ourNumber, PublicURL: publicURL, APIURL: "http://127.0.0.1:9",
			Region: "US", Desk: core.Endpoint{Channel: core.ChannelConsole}, KeywordReplies: true, StatusWait: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := engine.AddChannel(a.Channels()[0]); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		a.Mount(mux)
		// Sign what the validator will read: the first value of each
		// parameter. A body that is not a form cannot be signed at all.
		signed := url.Values{}
		if form, err := url.ParseQuery(body); err == nil {
			for k, v := range form {
				signed.Set(k, v[0])
			}
		}
		for _, path := range []string{twilio.PathSMS, twilio.PathStatus} {
			r := httptest.NewRequest(http.MethodPost, publicURL+path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("X-Twilio-Signature", twiliotest.Signature(twiliotest.AuthToken, publicURL+path, signed))
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			switch w.Code {
			case http.StatusOK, http.StatusNoContent, http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
			default:
				t.Fatalf("%s answered %d to %q", path, w.Code, body)
			}
			if path == twilio.PathSMS && w.Code == http.StatusOK {
				b, _ := io.ReadAll(w.Result().Body)
				if !strings.HasPrefix(string(b), "<?xml") || w.Header().Get("Content-Type") != "text/xml; charset=utf-8" {
					t.Fatalf("200 without TwiML: %q", b)
				}
			}
		}
	})
}

package signature

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/assistbot/assistbot/adapters/slack/slackfake"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// TestVerifierAgreesWithSDK checks the pooled verifier against slack-go's
// own SecretsVerifier on good, tampered and stale requests.
func TestVerifierAgreesWithSDK(t *testing.T) {
	v := NewVerifier(testSecret)
	body := []byte("token=x&team_id=T0TEAM&user_id=U0AGENT&command=%2Fremote&text=%3C%40U0CUSTOMER%7Cpat%3E&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0TEAM%2F1%2Fx&trigger_id=1.2.3")
	for _, tc := range []struct {
		name   string
		header http.Header
		body   []byte
		ok     bool
	}{
		{"good", slackfake.Sign(testSecret, time.Now(), body), body, true},
		{"good twice (pooled hash)", slackfake.Sign(testSecret, time.Now(), body), body, true},
		{"tampered", slackfake.Sign(testSecret, time.Now(), body), append(bytes.Clone(body), 'x'), false},
		{"other secret", slackfake.Sign("other", time.Now(), body), body, false},
		{"stale", slackfake.Sign(testSecret, time.Now().Add(-10*time.Minute), body), body, false},
		{"empty body", slackfake.Sign(testSecret, time.Now(), nil), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours := v.Verify(tc.header, tc.body)
			sv, err := slackapi.NewSecretsVerifier(tc.header, testSecret)
			if err == nil {
				sv.Write(tc.body)
				err = sv.Ensure()
			}
			if (ours == nil) != tc.ok || (err == nil) != tc.ok {
				t.Errorf("ours: %v, slack-go: %v, want ok=%v", ours, err, tc.ok)
			}
		})
	}
	for name, h := range map[string]http.Header{
		"no headers":        {},
		"not v0":            {HeaderTimestamp: {"1"}, HeaderSignature: {"v1=abcd"}},
		"short signature":   {HeaderTimestamp: {strconv.FormatInt(time.Now().Unix(), 10)}, HeaderSignature: {"v0=abcd"}},
		"not hex":           {HeaderTimestamp: {strconv.FormatInt(time.Now().Unix(), 10)}, HeaderSignature: {"v0=" + strings.Repeat("zz", 32)}},
		"timestamp not int": {HeaderTimestamp: {"soon"}, HeaderSignature: {"v0=" + strings.Repeat("00", 32)}},
		"huge timestamp":    {HeaderTimestamp: {"99999999999999999999999"}, HeaderSignature: {"v0=" + strings.Repeat("00", 32)}},
	} {
		if err := v.Verify(h, body); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// BenchmarkVerify is the signature check of one slash command.
func BenchmarkVerify(b *testing.B) {
	v := NewVerifier(testSecret)
	body := []byte("token=x&team_id=T0TEAM&user_id=U0AGENT&command=%2Fremote&text=%3C%40U0CUSTOMER%7Cpat%3E&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0TEAM%2F1%2Fx&trigger_id=1.2.3")
	h := slackfake.Sign(testSecret, time.Now(), body)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

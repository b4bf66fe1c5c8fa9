package logmein_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/provider/logmein"
	"github.com/assistbot/assistbot/adapters/provider/logmein/logmeintest"
	"github.com/assistbot/assistbot/core"
)

// TestErrorWords answers each of requestPINCode's documented words and
// checks the code and the message the agent sees.
func TestErrorWords(t *testing.T) {
	for _, tc := range []struct {
		word    string
		code    core.Code
		message string
		retry   bool
	}{
		{"NOTLOGGEDIN", core.CodeUnauthorized, "the Rescue authcode is invalid — ask an admin", false},
		{"INVALID_SECRETAUTHCODE", core.CodeUnauthorized, "the Rescue authcode is invalid — ask an admin", false},
		{"NOTECHCONSOLERUNNING", core.CodeUnavailable, "log in to the LogMeIn Rescue Technician Console", false},
		{"OUTOFPINCODES", core.CodeUnavailable, "no PIN codes left", false},
		{"NOTTECHNICIAN", core.CodeUnauthorized, "not belong to a technician", false},
		{"USER_IS_DELETED", core.CodeUnauthorized, "deleted or disabled", false},
		{"USER_DELETED_OR_DISABLED", core.CodeUnauthorized, "deleted or disabled", false},
		{"INVALIDPARAM_NODEID", core.CodeUnavailable, "logmein.node_id", false},
		{"ERROR", core.CodeUnavailable, "try again", true},
	} {
		t.Run(tc.word, func(t *testing.T) {
			fake := logmeintest.New(t)
			fake.Queue("requestPINCode", logmeintest.Answer{Body: tc.word + "\r\n"})
			p, _ := newProvider(t, fake, nil)
			_, err := p.Issue(context.Background(), request())
			if got := core.ErrorCode(err); got != tc.code {
				t.Fatalf("code = %s, want %s (%v)", got, tc.code, err)
			}
			if msg := core.ErrorMessage(err); !strings.Contains(msg, tc.message) {
				t.Errorf("message %q does not say %q", msg, tc.message)
			}
			if _, ok := core.RetryAfter(err); ok != tc.retry {
				t.Errorf("retry hint = %v, want %v", ok, tc.retry)
			}
			if !strings.Contains(err.Error(), tc.word) {
				t.Errorf("detail %q does not name the word", err)
			}
			if n := len(fake.Calls("requestPINCode")); n != 1 {
				t.Errorf("%d calls; a permanent failure is not retried", n)
			}
		})
	}
}

func TestPollRateIsWaitedOut(t *testing.T) {
	fake := logmeintest.New(t)
	fake.Queue("requestPINCode", logmeintest.Answer{Body: "POLLRATEEXCEEDED"}, logmeintest.Answer{Body: "POLLRATEEXCEEDED"})
	fake.SetPINs("111111")
	p, _ := newProvider(t, fake, nil)
	tk, err := p.Issue(context.Background(), request())
	if err != nil || tk.PIN != "111111" {
		t.Fatalf("Issue = %+v, %v", tk, err)
	}
	if n := len(fake.Calls("requestPINCode")); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}

	fake.Queue("requestPINCode", logmeintest.Answer{Body: "POLLRATEEXCEEDED"}, logmeintest.Answer{Body: "POLLRATEEXCEEDED"},
		logmeintest.Answer{Body: "POLLRATEEXCEEDED"})
	_, err = p.Issue(context.Background(), request())
	if d, ok := core.RetryAfter(err); core.ErrorCode(err) != core.CodeUnavailable || !ok || d <= 0 {
		t.Fatalf("after three refusals: %v (retry %v)", err, d)
	}
}

// TestCallsArePaced issues PINs faster than the fake allows: the provider
// spaces them, so none is refused.
func TestCallsArePaced(t *testing.T) {
	fake := logmeintest.New(t)
	// The provider's spacing is well above what the fake demands, so that
	// a loaded machine's scheduling jitter cannot bring two calls closer
	// than the fake allows; without pacing they would be microseconds
	// apart.
	fake.SetMinGap(10 * time.Millisecond)
	p, _ := newProvider(t, fake, func(o *logmein.Options) {
		o.PINInterval = 50 * time.Millisecond
		o.RetryPause = time.Hour // a POLLRATEEXCEEDED would show as a timeout
	})
	start := time.Now()
	for range 4 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := p.Issue(ctx, request())
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 3*10*time.Millisecond {
		t.Errorf("4 pins in %v: not paced", d)
	}
}

// TestPacedFromTheAnswer: the next PIN is asked for PINInterval after
// the previous one was answered, not after it was sent: a slow answer
// (or a request that left late) does not bring two calls closer at
// Rescue.
func TestPacedFromTheAnswer(t *testing.T) {
	fake := logmeintest.New(t)
	fake.Queue("requestPINCode", logmeintest.Answer{Body: "OK PINCODE:123456", Delay: 300 * time.Millisecond})
	const interval = 200 * time.Millisecond
	p, _ := newProvider(t, fake, func(o *logmein.Options) { o.PINInterval = interval })
	if _, err := p.Issue(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	answered := time.Now()
	if _, err := p.Issue(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(answered); d < interval {
		t.Errorf("the second PIN was asked for %v after the first was answered, want at least %v", d, interval)
	}
}

// TestWaitBehindASlowCall: a PIN asked for while another call waits on a
// slow Rescue, whose deadline passes before its turn, is refused as
// "try again in a moment", not as an internal error.
func TestWaitBehindASlowCall(t *testing.T) {
	fake := logmeintest.New(t)
	fake.Queue("requestPINCode", logmeintest.Answer{Body: "OK PINCODE:123456", Delay: 1500 * time.Millisecond})
	p, _ := newProvider(t, fake, func(o *logmein.Options) { o.PINInterval = 10 * time.Millisecond })
	first := make(chan error, 1)
	go func() { _, err := p.Issue(context.Background(), request()); first <- err }()
	waitFor(t, "the first call under way at Rescue", func() bool { return len(fake.Calls("requestPINCode")) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := p.Issue(ctx, request())
	if core.ErrorCode(err) != core.CodeUnavailable || !strings.Contains(core.ErrorMessage(err), "try again in a moment") {
		t.Errorf("a PIN behind a slow call: %v (%s, %q)", err, core.ErrorCode(err), core.ErrorMessage(err))
	}
	if err := <-first; err != nil {
		t.Errorf("the slow call: %v", err)
	}
}

func TestSlowAnswer(t *testing.T) {
	fake := logmeintest.New(t)
	fake.Queue("requestPINCode", logmeintest.Answer{Body: "OK PINCODE:123456", Delay: 5 * time.Second})
	p, _ := newProvider(t, fake, func(o *logmein.Options) { o.Timeout = 50 * time.Millisecond })
	start := time.Now()
	_, err := p.Issue(context.Background(), request())
	if core.ErrorCode(err) != core.CodeUnavailable || !strings.Contains(core.ErrorMessage(err), "did not answer in time") {
		t.Fatalf("Issue = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("gave up after %v", d)
	}

	// The caller's own deadline also stops the call, and is the caller's.
	fake.Queue("requestPINCode", logmeintest.Answer{Body: "OK PINCODE:123456", Delay: 5 * time.Second})
	p, _ = newProvider(t, fake, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Issue(ctx, request()); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("Issue with a short context = %v", err)
	}
}

func TestServerErrors(t *testing.T) {
	fake := logmeintest.New(t)
	fake.Queue("requestPINCode",
		logmeintest.Answer{Status: 500, Body: "<html>Runtime Error " + fake.AuthCode() + "</html>"},
		logmeintest.Answer{Status: 503, Body: "busy", Header: http.Header{"Retry-After": {"30"}}},
		logmeintest.Answer{Status: 404, Body: "not found"},
		logmeintest.Answer{Status: 302, Body: "", Header: http.Header{"Location": {"https://elsewhere.example.com/"}}},
	)
	p, logs := newProvider(t, fake, nil)
	_, err := p.Issue(context.Background(), request())
	if d, ok := core.RetryAfter(err); core.ErrorCode(err) != core.CodeUnavailable || !ok || d != 5*time.Second {
		t.Errorf("500: %v (retry %v)", err, d)
	}
	_, err = p.Issue(context.Background(), request())
	if d, _ := core.RetryAfter(err); core.ErrorCode(err) != core.CodeUnavailable || d != 30*time.Second {
		t.Errorf("503 with Retry-After: %v (retry %v)", err, d)
	}
	for _, status := range []string{"404", "302"} {
		_, err = p.Issue(context.Background(), request())
		if core.ErrorCode(err) != core.CodeUnavailable || !strings.Contains(err.Error(), status) {
			t.Errorf("%s: %v", status, err)
		}
	}
	if s := logs.String(); strings.Contains(s, fake.AuthCode()) || !strings.Contains(s, "Runtime Error [redacted]") {
		t.Errorf("log does not hold the redacted body:\n%s", s)
	}
}

func TestUnreachable(t *testing.T) {
	p, err := logmein.New(logmein.Options{APIURL: "http://127.0.0.1:1/API/", AuthCode: "x", PINInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Issue(context.Background(), request())
	if core.ErrorCode(err) != core.CodeUnavailable || !strings.Contains(core.ErrorMessage(err), "cannot be reached") {
		t.Errorf("Issue = %v", err)
	}
}

// TestAuthCodeFromPassword requests the authcode once, keeps it, and
// replaces it once when another client's requestAuthCode replaced it.
func TestAuthCodeFromPassword(t *testing.T) {
	fake := logmeintest.New(t)
	p, logs := newProvider(t, fake, func(o *logmein.Options) {
		o.AuthCode, o.Email, o.Password = "", logmeintest.Email, logmeintest.Password
	})
	for range 3 {
		if _, err := p.Issue(context.Background(), request()); err != nil {
			t.Fatal(err)
		}
	}
	auth := fake.Calls("requestAuthCode")
	if len(auth) != 1 || auth[0].HTTPMethod != "POST" || auth[0].Query != "" {
		t.Fatalf("requestAuthCode calls: %+v", auth)
	}
	old := fake.AuthCode()
	fake.SetAuthCode("replaced-authcode-42")
	if _, err := p.Issue(context.Background(), request()); err != nil {
		t.Fatalf("after replacement: %v", err)
	}
	if n := len(fake.Calls("requestAuthCode")); n != 2 {
		t.Errorf("%d requestAuthCode calls, want 2", n)
	}
	for _, secret := range []string{old, "replaced-authcode-42", logmeintest.Password} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log holds a secret %q:\n%s", secret, logs)
		}
	}
}

func TestAuthCodeRefused(t *testing.T) {
	fake := logmeintest.New(t)
	p, _ := newProvider(t, fake, func(o *logmein.Options) {
		o.AuthCode, o.Email, o.Password = "", logmeintest.Email, "wrong"
	})
	_, err := p.Issue(context.Background(), request())
	if core.ErrorCode(err) != core.CodeUnauthorized || !strings.Contains(core.ErrorMessage(err), "logmein.email and logmein.password") {
		t.Errorf("wrong password: %v", err)
	}
	if n := len(fake.Calls("requestPINCode")); n != 0 {
		t.Errorf("%d pin calls without an authcode", n)
	}

	// A configured authcode that stopped working is not replaced.
	p, _ = newProvider(t, fake, func(o *logmein.Options) { o.AuthCode = "stale" })
	_, err = p.Issue(context.Background(), request())
	if core.ErrorCode(err) != core.CodeUnauthorized || len(fake.Calls("requestAuthCode")) != 1 {
		t.Errorf("stale authcode: %v, %d requestAuthCode calls", err, len(fake.Calls("requestAuthCode")))
	}
}

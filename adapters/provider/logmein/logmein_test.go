package logmein_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/provider/logmein"
	"github.com/assistbot/assistbot/adapters/provider/logmein/logmeintest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// newProvider returns a provider on fake with fast pacing; edit adjusts
// its options first.
func newProvider(t *testing.T, fake *logmeintest.Server, edit func(*logmein.Options)) (*logmein.Provider, *coretest.Buffer) {
	t.Helper()
	logs := &coretest.Buffer{}
	o := logmein.Options{
		APIURL:       fake.URL,
		AuthCode:     fake.AuthCode(),
		PINInterval:  time.Millisecond,
		RetryPause:   time.Millisecond,
		PollInterval: 10 * time.Millisecond,
		Timeout:      2 * time.Second,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&o)
	}
	p, err := logmein.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p, logs
}

func request() core.IssueRequest {
	return core.IssueRequest{SessionID: core.NewID(), CustomerName: "Pat Doe", Agent: "alice", Locale: "en"}
}

func TestContract(t *testing.T) {
	coretest.RunProviderTests(t, func(t *testing.T) core.Provider {
		p, _ := newProvider(t, logmeintest.New(t), nil)
		return p
	})
}

func TestIssueSendsTheSession(t *testing.T) {
	fake := logmeintest.New(t)
	fake.SetPINs("012345")
	p, logs := newProvider(t, fake, nil)
	req := request()
	req.CustomerName = "  Pat | Doe\nof Acme  "
	tk, err := p.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := core.Ticket{
		PIN:        "012345",
		DesktopURL: "https://secure.logmeinrescue.com/Customer/Code.aspx?Code=012345",
		MobileURL:  "https://rescuemobile.com/012345",
		ManualURL:  "https://www.LogMeIn123.com",
		Ref:        tk.Ref,
	}
	if !strings.HasPrefix(tk.Ref, req.SessionID+".") || len(tk.Ref) > 64 {
		t.Errorf("ref %q: want the session id and a part of the PIN's own, within Rescue's 64 characters", tk.Ref)
	}
	if tk != want {
		t.Errorf("ticket = %+v\nwant %+v", tk, want)
	}
	calls := fake.Calls("requestPINCode")
	if len(calls) != 1 {
		t.Fatalf("%d pin calls", len(calls))
	}
	c := calls[0]
	if c.Path != "requestPINCode.aspx" || c.HTTPMethod != "POST" || c.Query != "" {
		t.Errorf("call %s %s?%s; want POST requestPINCode.aspx with the form in the body", c.HTTPMethod, c.Path, c.Query)
	}
	for k, v := range map[string]string{
		"tracking0": req.SessionID, "cfield5": tk.Ref, "cfield0": "Pat Doe of Acme",
		"notechconsole": "0", "authcode": fake.AuthCode(), "NodeId": "",
	} {
		if got := c.Form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if s := logs.String(); strings.Contains(s, fake.AuthCode()) || strings.Contains(s, "012345") {
		t.Errorf("log holds the authcode or the pin:\n%s", s)
	}
}

func TestIssueWithNode(t *testing.T) {
	fake := logmeintest.New(t)
	p, _ := newProvider(t, fake, func(o *logmein.Options) {
		o.NodeID, o.NoTechConsole, o.IDField = "337366", true, "cfield2"
		o.DesktopLink, o.MobileLink, o.ManualURL = "https://help.example.com/d?c={pin}", "https://m.example.com/{pin}/go", "https://help.example.com/pin"
	})
	req := request()
	req.CustomerName = strings.Repeat("é", 70)
	tk, err := p.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	c := fake.Calls("requestPINCode")[0]
	if c.Path != "requestPINCode_v3.aspx" || c.Form.Get("NodeId") != "337366" || c.Form.Get("notechconsole") != "1" ||
		c.Form.Get("cfield2") != tk.Ref || c.Form.Get("cfield5") != "" {
		t.Errorf("call %s %v", c.Path, c.Form)
	}
	if got := []rune(c.Form.Get("cfield0")); len(got) != 64 {
		t.Errorf("cfield0 has %d characters; the API takes 64", len(got))
	}
	if tk.DesktopURL != "https://help.example.com/d?c="+tk.PIN || tk.MobileURL != "https://m.example.com/"+tk.PIN+"/go" ||
		tk.ManualURL != "https://help.example.com/pin" {
		t.Errorf("links %+v", tk)
	}
}

func TestPINForms(t *testing.T) {
	for name, tc := range map[string]struct {
		body, pin string
	}{
		"one line":          {"OK PINCODE:012345", "012345"},
		"next line":         {"OK PINCODE:\r\n012345\r\n", "012345"},
		"ok alone":          {"OK\nPINCODE: 000001", "000001"},
		"byte order mark":   {"\ufeffOK PINCODE:987654", "987654"},
		"ten digits":        {"OK PINCODE:0123456789", "0123456789"},
		"five digits":       {"OK PINCODE:01234", ""},
		"letters":           {"OK PINCODE:01234a", ""},
		"two pins":          {"OK PINCODE:012345 678901", ""},
		"no pin":            {"OK", ""},
		"okay":              {"OKAY PINCODE:012345", ""},
		"lower case":        {"ok pincode:012345", ""},
		"html":              {"<html><body>Service Unavailable</body></html>", ""},
		"empty":             {"", ""},
		"unknown word":      {"NOACCESSTOLENS", ""},
		"word and sentence": {"ERROR something broke", ""},
	} {
		t.Run(name, func(t *testing.T) {
			fake := logmeintest.New(t)
			fake.Queue("requestPINCode", logmeintest.Answer{Body: tc.body})
			p, logs := newProvider(t, fake, nil)
			tk, err := p.Issue(context.Background(), request())
			if tc.pin != "" {
				if err != nil || tk.PIN != tc.pin {
					t.Fatalf("Issue = %q, %v; want %q", tk.PIN, err, tc.pin)
				}
				return
			}
			if core.ErrorCode(err) != core.CodeUnavailable || !strings.Contains(core.ErrorMessage(err), "check the logs") {
				t.Fatalf("Issue = %q, %v; want a protocol error", tk.PIN, err)
			}
			if !strings.Contains(logs.String(), "unexpected answer") {
				t.Errorf("the answer was not logged:\n%s", logs)
			}
			if strings.Contains(logs.String(), "012345") {
				t.Errorf("log holds a pin:\n%s", logs)
			}
		})
	}
}

func TestPINOnNextLineFromFake(t *testing.T) {
	fake := logmeintest.New(t)
	fake.SetPINOnNextLine(true)
	fake.SetPINs("000042")
	p, _ := newProvider(t, fake, nil)
	tk, err := p.Issue(context.Background(), request())
	if err != nil || tk.PIN != "000042" {
		t.Fatalf("Issue = %+v, %v", tk, err)
	}
}

func TestRevokeIsANoOp(t *testing.T) {
	fake := logmeintest.New(t)
	p, _ := newProvider(t, fake, nil)
	if err := p.Revoke(context.Background(), &core.Session{ID: "x", PIN: "012345"}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Calls("requestPINCode")) + len(fake.Calls("getSession")); n != 0 {
		t.Errorf("Revoke made %d calls", n)
	}
	if got := p.Modes(); len(got) != 2 || !core.SupportsMode(p, core.ModeControl) || !core.SupportsMode(p, core.ModeView) {
		t.Errorf("Modes = %v", got)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]logmein.Options{
		"no credentials":   {},
		"email only":       {Email: "a@example.com"},
		"relative url":     {AuthCode: "x", APIURL: "secure.logmeinrescue.com/API/"},
		"desktop link":     {AuthCode: "x", DesktopLink: "https://example.com/"},
		"mobile link":      {AuthCode: "x", MobileLink: "https://example.com/"},
		"id field 0":       {AuthCode: "x", IDField: "cfield0"},
		"id field tracker": {AuthCode: "x", IDField: "tracking0"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := logmein.New(o); err == nil {
				t.Error("New accepted it")
			}
		})
	}
	if _, err := logmein.New(logmein.Options{Email: "a@example.com", Password: "pw"}); err != nil {
		t.Errorf("email and password: %v", err)
	}
}

package builtin_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/assistbot/assistbot/adapters/provider/builtin"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

// linkKey is the tests' link-proof key.
var linkKey = bytes.Repeat([]byte{7}, 32)

func TestContract(t *testing.T) {
	for name, key := range map[string][]byte{"with a link key": linkKey, "without": nil} {
		t.Run(name, func(t *testing.T) {
			coretest.RunProviderTests(t, func(t *testing.T) core.Provider {
				p, err := builtin.New(builtin.Options{PublicURL: "https://support.example.com", Digits: 6, LinkKey: key})
				if err != nil {
					t.Fatal(err)
				}
				return p
			})
		})
	}
}

func TestLinks(t *testing.T) {
	p, err := builtin.New(builtin.Options{PublicURL: "https://support.example.com/", PINs: coretest.NewPINs("012345"), Digits: 6})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := p.Issue(context.Background(), core.IssueRequest{SessionID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	want := core.Ticket{
		PIN:        "012345",
		DesktopURL: "https://support.example.com/?code=012345",
		MobileURL:  "https://support.example.com/m/012345",
		ManualURL:  "https://support.example.com/",
	}
	if tk != want {
		t.Errorf("Issue = %+v, want %+v", tk, want)
	}
	if got := p.Modes(); len(got) != 1 || got[0] != core.ModeView {
		t.Errorf("Modes = %v, want view only", got)
	}
}

// TestLinkProof: with a link key, both links carry the same proof of the
// session and PIN beside the PIN, seven URL-safe characters; another
// session, PIN or key gets another.
func TestLinkProof(t *testing.T) {
	issue := func(key []byte, id, pin string) core.Ticket {
		t.Helper()
		p, err := builtin.New(builtin.Options{PublicURL: "https://support.example.com", PINs: coretest.NewPINs(pin), Digits: 6, LinkKey: key})
		if err != nil {
			t.Fatal(err)
		}
		tk, err := p.Issue(context.Background(), core.IssueRequest{SessionID: id})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	tk := issue(linkKey, "s1", "012345")
	desktop, err := url.Parse(tk.DesktopURL)
	if err != nil {
		t.Fatal(err)
	}
	proof := desktop.Query().Get("k")
	if desktop.Query().Get("code") != "012345" || len(proof) != 7 || strings.Trim(proof, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Fatalf("desktop link %s", tk.DesktopURL)
	}
	if want := "https://support.example.com/m/012345/" + proof; tk.MobileURL != want {
		t.Errorf("mobile link %s, want %s", tk.MobileURL, want)
	}
	if again := issue(linkKey, "s1", "012345"); again.DesktopURL != tk.DesktopURL {
		t.Errorf("the proof is not a function of the session and PIN: %s, then %s", tk.DesktopURL, again.DesktopURL)
	}
	for name, other := range map[string]core.Ticket{
		"another session": issue(linkKey, "s2", "012345"),
		"another pin":     issue(linkKey, "s1", "012346"),
		"another key":     issue(bytes.Repeat([]byte{8}, 32), "s1", "012345"),
	} {
		u, _ := url.Parse(other.DesktopURL)
		if u.Query().Get("k") == proof {
			t.Errorf("%s has the same proof", name)
		}
	}
}

// TestMobileLinkFitsOneSMS: the link SMS with the mobile link of a
// six-digit PIN (the default) on support.example.com, proof included,
// stays within one segment in every language: 160 GSM-7 characters, or
// 70 UTF-16 units for a text that needs UCS-2 (Korean, Japanese).
func TestMobileLinkFitsOneSMS(t *testing.T) {
	p, err := builtin.New(builtin.Options{PublicURL: "https://support.example.com", Digits: 6, LinkKey: linkKey})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := p.Issue(context.Background(), core.IssueRequest{SessionID: core.NewID()})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range cat.Supported() {
		body := cat.T(lang, "customer.link", "link", tk.MobileURL, "pin", tk.PIN)
		if n, ok := i18n.GSM7Septets(body); ok {
			if n > 160 {
				t.Errorf("%s: %d septets: %s", lang, n, body)
			}
		} else if n := len(utf16.Encode([]rune(body))); n > 70 {
			t.Errorf("%s: %d UTF-16 units: %s", lang, n, body)
		}
	}
}

func TestNewRefusesBadInput(t *testing.T) {
	for name, o := range map[string]builtin.Options{
		"relative url":   {PublicURL: "support.example.com", Digits: 6},
		"ftp url":        {PublicURL: "ftp://support.example.com", Digits: 6},
		"too few digits": {PublicURL: "https://support.example.com", Digits: 5},
		"too many":       {PublicURL: "https://support.example.com", Digits: 11},
		"short key":      {PublicURL: "https://support.example.com", Digits: 6, LinkKey: []byte("short")},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := builtin.New(o); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestDigits(t *testing.T) {
	for _, digits := range []int{6, 8, 10} {
		p, err := builtin.New(builtin.Options{PublicURL: "http://localhost:8080", Digits: digits})
		if err != nil {
			t.Fatal(err)
		}
		tk, err := p.Issue(context.Background(), core.IssueRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(tk.PIN) != digits || !core.ValidPIN(tk.PIN) {
			t.Errorf("digits %d: pin %q", digits, tk.PIN)
		}
	}
}

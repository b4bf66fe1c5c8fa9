package builtin_test

import (
	"context"
	"testing"

	"github.com/assistbot/assistbot/adapters/provider/builtin"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
)

func TestContract(t *testing.T) {
	coretest.RunProviderTests(t, func(t *testing.T) core.Provider {
		p, err := builtin.New("https://support.example.com", nil, 6)
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}

func TestLinks(t *testing.T) {
	p, err := builtin.New("https://support.example.com/", coretest.NewPINs("012345"), 6)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := p.Issue(context.Background(), core.IssueRequest{})
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

func TestNewRefusesBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		url    string
		digits int
	}{
		"relative url":   {"support.example.com", 6},
		"ftp url":        {"ftp://support.example.com", 6},
		"too few digits": {"https://support.example.com", 5},
		"too many":       {"https://support.example.com", 11},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := builtin.New(tc.url, nil, tc.digits); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestDigits(t *testing.T) {
	for _, digits := range []int{6, 8, 10} {
		p, err := builtin.New("http://localhost:8080", nil, digits)
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

package coretest

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
)

// RunProviderTests checks the core.Provider contract against the provider
// that newProvider returns. Every implementation runs it.
func RunProviderTests(t *testing.T, newProvider func(t *testing.T) core.Provider) {
	ctx := context.Background()
	req := core.IssueRequest{SessionID: core.NewID(), CustomerName: "Pat", Agent: "alice", Locale: "en"}

	t.Run("name and modes", func(t *testing.T) {
		p := newProvider(t)
		if p.Name() == "" {
			t.Error("Name() is empty")
		}
		modes := p.Modes()
		if len(modes) == 0 {
			t.Fatal("Modes() is empty: a technician could never start a session")
		}
		for _, m := range modes {
			if !m.Valid() {
				t.Errorf("Modes() contains unknown mode %q", m)
			}
		}
	})

	t.Run("ticket", func(t *testing.T) {
		p := newProvider(t)
		tk, err := p.Issue(ctx, req)
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		if !core.ValidPIN(tk.PIN) {
			t.Fatalf("PIN %q is not 6-10 digits", tk.PIN)
		}
		for name, link := range map[string]string{"desktop": tk.DesktopURL, "mobile": tk.MobileURL} {
			u, err := url.Parse(link)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				t.Errorf("%s link %q is not an absolute http(s) url", name, link)
			}
			if !strings.Contains(link, tk.PIN) {
				t.Errorf("%s link %q does not carry the pin", name, link)
			}
		}
		if u, err := url.Parse(tk.ManualURL); err != nil || u.Host == "" {
			t.Errorf("manual url %q is not an absolute url", tk.ManualURL)
		}
		if strings.Contains(tk.ManualURL, tk.PIN) {
			t.Errorf("manual url %q carries the pin; it is where people type it", tk.ManualURL)
		}
	})

	t.Run("pins vary", func(t *testing.T) {
		p := newProvider(t)
		seen := map[string]bool{}
		for range 20 {
			tk, err := p.Issue(ctx, req)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			seen[tk.PIN] = true
		}
		if len(seen) < 2 {
			t.Errorf("20 issues gave %d distinct pins", len(seen))
		}
	})

	t.Run("revoke is idempotent", func(t *testing.T) {
		p := newProvider(t)
		tk, err := p.Issue(ctx, req)
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		s := &core.Session{ID: req.SessionID, PIN: tk.PIN, ProviderRef: tk.Ref, Provider: p.Name()}
		for i := range 2 {
			if err := p.Revoke(ctx, s); err != nil {
				t.Errorf("Revoke #%d: %v", i+1, err)
			}
		}
		unknown := &core.Session{ID: core.NewID(), PIN: "000000", Provider: p.Name()}
		if err := p.Revoke(ctx, unknown); err != nil {
			t.Errorf("Revoke of an unknown pin: %v", err)
		}
	})
}

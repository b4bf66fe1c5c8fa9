// Package builtin is assistbot's own remote-support provider: PINs come
// from a core.PINSource and the links point at assistbot's portal, where
// the customer presses Start and may share their screen or camera with the
// technician's browser. It offers view only: controlling a computer needs
// an agent installed on it, which a browser cannot be.
package builtin

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/assistbot/assistbot/core"
)

// Name is the provider's name in config and in sessions.
const Name = "builtin"

// Provider issues PINs whose links lead to assistbot's portal.
type Provider struct {
	base   string
	pins   core.PINSource
	digits int
}

var _ core.Provider = (*Provider)(nil)

// New returns a Provider whose links are under publicURL (for example
// "https://support.example.com"), drawing PINs of digits digits from pins.
func New(publicURL string, pins core.PINSource, digits int) (*Provider, error) {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("builtin: public url %q is not an absolute http(s) url", publicURL)
	}
	if digits < core.MinPINDigits || digits > core.MaxPINDigits {
		return nil, fmt.Errorf("builtin: pin digits must be %d to %d, not %d", core.MinPINDigits, core.MaxPINDigits, digits)
	}
	if pins == nil {
		pins = core.RandomPINs{}
	}
	return &Provider{base: strings.TrimRight(publicURL, "/"), pins: pins, digits: digits}, nil
}

// Name implements core.Provider.
func (p *Provider) Name() string { return Name }

// Modes implements core.Provider: view only.
func (p *Provider) Modes() []core.Mode { return []core.Mode{core.ModeView} }

// Issue implements core.Provider. Uniqueness among live sessions is the
// store's to enforce; the engine asks again on a collision.
func (p *Provider) Issue(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
	pin, err := p.pins.PIN(p.digits)
	if err != nil {
		return core.Ticket{}, fmt.Errorf("builtin: %w", err)
	}
	return core.Ticket{
		PIN:        pin,
		DesktopURL: p.base + "/?code=" + pin,
		MobileURL:  p.base + "/m/" + pin,
		ManualURL:  p.base + "/",
	}, nil
}

// Revoke implements core.Provider. The portal consults the store, where
// the PIN stopped being live in the same transaction that closed or
// regenerated the session, so there is nothing else to revoke.
func (p *Provider) Revoke(ctx context.Context, s *core.Session) error { return nil }

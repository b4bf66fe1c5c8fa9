// Package builtin is assistbot's own remote-support provider: PINs come
// from a core.PINSource and the links point at assistbot's portal, where
// the customer presses Start and may share their screen or camera with the
// technician's browser. It offers view only: controlling a computer needs
// an agent installed on it, which a browser cannot be.
//
// Each link carries, beside its PIN, a proof that assistbot issued it
// (see core.LinkProof): the portal lets whoever follows such a link in
// without counting it against the guessing limits, which only typed
// codes meet.
package builtin

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/linkproof"
)

// Name is the provider's name in config and in sessions.
const Name = "builtin"

// minLinkKey is the shortest link key New accepts.
const minLinkKey = 16

// Options configure a Provider.
type Options struct {
	// PublicURL is the portal's external base URL, under which the links
	// are ("https://support.example.com").
	PublicURL string
	// PINs draws the PINs; nil is core.RandomPINs{}.
	PINs core.PINSource
	// Digits is the PIN length, core.MinPINDigits to core.MaxPINDigits.
	Digits int
	// LinkKey is the key of the links' proofs: the store's "link-proof"
	// key, the same the portal checks them with. Without it the links
	// carry the PIN alone, and following one counts as typing it.
	LinkKey []byte
}

// Provider issues PINs whose links lead to assistbot's portal.
type Provider struct {
	base   string
	pins   core.PINSource
	digits int
	key    []byte
}

var _ core.Provider = (*Provider)(nil)

// New returns a Provider for o.
func New(o Options) (*Provider, error) {
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("builtin: public url %q is not an absolute http(s) url", o.PublicURL)
	}
	if o.Digits < core.MinPINDigits || o.Digits > core.MaxPINDigits {
		return nil, fmt.Errorf("builtin: pin digits must be %d to %d, not %d", core.MinPINDigits, core.MaxPINDigits, o.Digits)
	}
	if o.LinkKey != nil && len(o.LinkKey) < minLinkKey {
		return nil, fmt.Errorf("builtin: the link key must have at least %d bytes, not %d", minLinkKey, len(o.LinkKey))
	}
	pins := o.PINs
	if pins == nil {
		pins = core.RandomPINs{}
	}
	return &Provider{base: strings.TrimRight(o.PublicURL, "/"), pins: pins, digits: o.Digits, key: o.LinkKey}, nil
}

// Name implements core.Provider.
func (p *Provider) Name() string { return Name }

// Modes implements core.Provider: view only.
func (p *Provider) Modes() []core.Mode { return []core.Mode{core.ModeView} }

// Issue implements core.Provider. Uniqueness among live sessions is the
// store's to enforce; the engine asks again on a collision. The links
// are /?code=PIN&k=PROOF and /m/PIN/PROOF (the shortest, for SMS), or
// without their proof when the provider has no link key.
func (p *Provider) Issue(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
	pin, err := p.pins.PIN(p.digits)
	if err != nil {
		return core.Ticket{}, fmt.Errorf("builtin: %w", err)
	}
	t := core.Ticket{
		PIN:        pin,
		DesktopURL: p.base + "/?code=" + pin,
		MobileURL:  p.base + "/m/" + pin,
		ManualURL:  p.base + "/",
	}
	if len(p.key) > 0 && req.SessionID != "" {
		proof := linkproof.Make(p.key, req.SessionID, pin)
		t.DesktopURL += "&k=" + proof
		t.MobileURL += "/" + proof
	}
	return t, nil
}

// Revoke implements core.Provider. The portal consults the store, where
// the PIN stopped being live in the same transaction that closed or
// regenerated the session, so there is nothing else to revoke.
func (p *Provider) Revoke(ctx context.Context, s *core.Session) error { return nil }

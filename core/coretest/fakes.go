package coretest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Clock is a core.Clock that only moves when told to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// PINs is a core.PINSource that hands out a fixed list of PINs in turn,
// cycling, so tests can force collisions and leading zeros.
type PINs struct {
	mu   sync.Mutex
	list []string
	next int
}

// NewPINs returns a source that yields list in order, then again.
func NewPINs(list ...string) *PINs { return &PINs{list: list} }

// PIN returns the next PIN of the list; digits must match its length.
func (p *PINs) PIN(digits int) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pin := p.list[p.next%len(p.list)]
	p.next++
	if len(pin) != digits {
		return "", fmt.Errorf("coretest: pin %q is not %d digits", pin, digits)
	}
	return pin, nil
}

// Provider is a core.Provider whose behaviour is set by function fields;
// nil fields behave like a healthy view-and-control provider handing out
// PINs from Pins.
type Provider struct {
	ProviderName string
	Pins         core.PINSource
	ModeList     []core.Mode
	IssueFunc    func(ctx context.Context, req core.IssueRequest) (core.Ticket, error)
	RevokeFunc   func(ctx context.Context, s *core.Session) error
	// StartFunc, when set, makes the technician's link (as MeshCentral's
	// device share); nil makes none.
	StartFunc func(ctx context.Context, s *core.Session, mode core.Mode, technician string) (string, error)

	mu      sync.Mutex
	revoked []string
}

var (
	_ core.Provider = (*Provider)(nil)
	_ core.Starter  = (*Provider)(nil)
)

// Start implements core.Starter with StartFunc, or makes no link.
func (p *Provider) Start(ctx context.Context, s *core.Session, mode core.Mode, technician string) (string, error) {
	if p.StartFunc == nil {
		return "", nil
	}
	return p.StartFunc(ctx, s, mode, technician)
}

// Name implements core.Provider.
func (p *Provider) Name() string {
	if p.ProviderName == "" {
		return "fake"
	}
	return p.ProviderName
}

// Modes implements core.Provider.
func (p *Provider) Modes() []core.Mode {
	if p.ModeList == nil {
		return []core.Mode{core.ModeControl, core.ModeView}
	}
	return p.ModeList
}

// Issue implements core.Provider.
func (p *Provider) Issue(ctx context.Context, req core.IssueRequest) (core.Ticket, error) {
	if p.IssueFunc != nil {
		return p.IssueFunc(ctx, req)
	}
	src := p.Pins
	if src == nil {
		src = core.RandomPINs{}
	}
	pin, err := src.PIN(6)
	if err != nil {
		return core.Ticket{}, err
	}
	return core.Ticket{
		PIN:        pin,
		DesktopURL: "https://support.example.com/?code=" + pin,
		MobileURL:  "https://support.example.com/m/" + pin,
		ManualURL:  "https://support.example.com/",
	}, nil
}

// Revoke implements core.Provider and remembers the PIN.
func (p *Provider) Revoke(ctx context.Context, s *core.Session) error {
	if p.RevokeFunc != nil {
		if err := p.RevokeFunc(ctx, s); err != nil {
			return err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.revoked = append(p.revoked, s.PIN)
	return nil
}

// Revoked returns the PINs revoked so far.
func (p *Provider) Revoked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.revoked...)
}

// Channel is a core.Channel that records what it delivers; DeliverFunc,
// when set, decides each outcome.
type Channel struct {
	ChannelName string
	DeliverFunc func(ctx context.Context, d *core.Delivery) (core.Receipt, error)

	mu        sync.Mutex
	delivered []core.Delivery
	signal    chan struct{}
}

var _ core.Channel = (*Channel)(nil)

// Name implements core.Channel.
func (c *Channel) Name() string { return c.ChannelName }

// Deliver implements core.Channel.
func (c *Channel) Deliver(ctx context.Context, d *core.Delivery) (core.Receipt, error) {
	r := core.Receipt{Status: core.DeliverySent, ExternalID: fmt.Sprintf("ext-%d-%d", d.ID, d.Attempts)}
	var err error
	if c.DeliverFunc != nil {
		r, err = c.DeliverFunc(ctx, d)
	}
	c.mu.Lock()
	if err == nil {
		c.delivered = append(c.delivered, *d)
	}
	if c.signal == nil {
		c.signal = make(chan struct{}, 1)
	}
	sig := c.signal
	c.mu.Unlock()
	select {
	case sig <- struct{}{}:
	default:
	}
	return r, err
}

// Delivered returns the deliveries accepted so far.
func (c *Channel) Delivered() []core.Delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]core.Delivery(nil), c.delivered...)
}

// Attempted returns a channel that receives after every Deliver call.
func (c *Channel) Attempted() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.signal == nil {
		c.signal = make(chan struct{}, 1)
	}
	return c.signal
}

package core_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// agentProvider is a provider with an agent on the customer's computer,
// like MeshCentral: the technician works through a link it makes, and it
// keeps objects per session that must go when the session is over.
type agentProvider struct {
	*coretest.Provider
	startErr error

	mu       sync.Mutex
	started  []string // "session mode technician"
	released chan string
}

func (p *agentProvider) Start(ctx context.Context, s *core.Session, mode core.Mode, technician string) (string, error) {
	if p.startErr != nil {
		return "", p.startErr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started = append(p.started, s.ID+" "+string(mode)+" "+technician)
	return "https://mesh.example.com/sharing?c=share-" + s.ID, nil
}

func (p *agentProvider) Release(ctx context.Context, s *core.Session) error {
	p.released <- s.ID
	return nil
}

func newAgentRig(t *testing.T) (*core.Engine, *agentProvider, *coretest.Clock) {
	p := &agentProvider{Provider: &coretest.Provider{ProviderName: "mesh", Pins: coretest.NewPINs("123456", "123456", "234567", "345678")},
		released: make(chan string, 8)}
	clock := coretest.NewClock(t0)
	e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: coretest.NewMemStore(), Provider: p, Clock: clock,
		Channels: []core.Channel{&coretest.Channel{ChannelName: core.ChannelWeb}}})
	return e, p, clock
}

// waitReleased waits for the provider to be asked to release session id.
func waitReleased(t *testing.T, p *agentProvider, id string) {
	t.Helper()
	select {
	case got := <-p.released:
		if got != id {
			t.Fatalf("released %s, want %s", got, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("session %s is over but the provider was never asked to release it", id)
	}
}

// The technician gets the provider's link when the session starts, and it
// stays with the session; everything the provider made goes when the
// session ends.
func TestStarterLinkAndReleaseOnEnd(t *testing.T) {
	e, p, _ := newAgentRig(t)
	s, _, err := e.Issue(ctx, core.Request{Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	started, err := e.Start(ctx, s.ID, tech, core.ModeControl)
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://mesh.example.com/sharing?c=share-" + s.ID; started.TechnicianURL != want {
		t.Errorf("technician link = %q, want %q", started.TechnicianURL, want)
	}
	if got, _ := e.Session(ctx, s.ID); got.TechnicianURL != started.TechnicianURL {
		t.Errorf("stored technician link = %q", got.TechnicianURL)
	}
	if want := []string{s.ID + " control tom"}; !slices.Equal(p.started, want) {
		t.Errorf("provider starts = %v, want %v", p.started, want)
	}
	if _, err := e.End(ctx, s.ID, tech); err != nil {
		t.Fatal(err)
	}
	waitReleased(t, p, s.ID)
}

// A provider that cannot start yet (its agent is still connecting) leaves
// the session waiting, and the technician reads why.
func TestStarterRefusalKeepsSessionWaiting(t *testing.T) {
	e, p, _ := newAgentRig(t)
	p.startErr = core.Errorf(core.CodeUnavailable, "the customer's device is still connecting; try again in a moment")
	s, _, _ := e.Issue(ctx, core.Request{Agent: "alice"})
	if _, _, err := e.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	_, err := e.Start(ctx, s.ID, tech, core.ModeView)
	if core.ErrorCode(err) != core.CodeUnavailable || core.ErrorMessage(err) != "the customer's device is still connecting; try again in a moment" {
		t.Fatalf("Start = %v (%s), want the provider's unavailable", err, core.ErrorCode(err))
	}
	if got, _ := e.Session(ctx, s.ID); got.State != core.StateWaiting || got.TechnicianURL != "" {
		t.Errorf("after a refused start the session is %s with link %q", got.State, got.TechnicianURL)
	}
	// A transition the session does not allow never reaches the provider.
	p.startErr = nil
	other, _, _ := e.Issue(ctx, core.Request{Agent: "alice"})
	if _, err := e.Start(ctx, other.ID, tech, core.ModeView); core.ErrorCode(err) != core.CodeInvalidTransition {
		t.Errorf("starting an issued session = %v", err)
	}
	if len(p.started) != 0 {
		t.Errorf("the provider was asked to start %v", p.started)
	}
}

// Closing and expiry release too; a PIN lost to a collision is revoked.
func TestReleaseOnCloseAndExpiry(t *testing.T) {
	e, p, clock := newAgentRig(t)
	first, _, err := e.Issue(ctx, core.Request{Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	// The source hands out 123456 twice: the second is live in the first
	// session, so the engine asks again, and the discarded ticket must not
	// stay usable at the provider.
	second, _, err := e.Issue(ctx, core.Request{Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if second.PIN != "234567" {
		t.Fatalf("second session's PIN = %s", second.PIN)
	}
	if revoked := p.Revoked(); !slices.Contains(revoked, "123456") {
		t.Errorf("revoked %v: the colliding ticket was not revoked", revoked)
	}
	if _, err := e.Close(ctx, first.ID, alice); err != nil {
		t.Fatal(err)
	}
	waitReleased(t, p, first.ID)
	clock.Add(21 * time.Minute)
	if n, err := e.ExpireDue(ctx); err != nil || n != 1 {
		t.Fatalf("ExpireDue = %d, %v", n, err)
	}
	waitReleased(t, p, second.ID)
}

// The provider's link is the technician's who started: nobody takes the
// session over, which would show them the link.
func TestWatchRefusesSessionWithTechnicianLink(t *testing.T) {
	e, _, _ := newAgentRig(t)
	s, _, _ := e.Issue(ctx, core.Request{Agent: "alice"})
	if _, _, err := e.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Start(ctx, s.ID, tech, core.ModeControl); err != nil {
		t.Fatal(err)
	}
	_, err := e.Watch(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "bob"})
	if core.ErrorCode(err) != core.CodeInvalid {
		t.Fatalf("Watch by bob = %v, want a refusal", err)
	}
	if got, _ := e.Session(ctx, s.ID); got.Technician != "tom" {
		t.Errorf("the technician became %q", got.Technician)
	}
}

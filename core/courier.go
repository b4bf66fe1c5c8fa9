package core

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
)

// Courier delivers the outbox: the deliveries that every change queues
// with its events are handed to the platforms by it, with retries.
// Package core/outbox has the one assistbot runs.
type Courier interface {
	// Run delivers through d until ctx ends; the deliveries in flight
	// then finish, each within its own timeout.
	Run(ctx context.Context, d Dispatch)
	// Once delivers one batch of due deliveries through d and returns
	// how many it took.
	Once(ctx context.Context, d Dispatch) (int, error)
	// Wake asks it to look at the outbox now: a change queued something.
	Wake()
}

// Dispatch is what an engine lends its Courier: the store, the clock and
// the log it uses, its channels, and where to report a delivery whose
// status changed.
type Dispatch struct {
	Store  Store
	Clock  Clock
	Logger *slog.Logger
	// Channel returns the channel called name, if the engine has it.
	Channel func(name string) (Channel, bool)
	// Delivered publishes d, whose status the courier just saved.
	Delivered func(ctx context.Context, d *Delivery)
}

// channels is the engine's set of channels, fixed once Run starts.
type channels struct {
	mu     sync.RWMutex
	set    map[string]Channel
	frozen bool // Run has begun: add refuses
}

func newChannels(list []Channel) *channels {
	cs := &channels{set: make(map[string]Channel, len(list))}
	for _, c := range list {
		cs.set[c.Name()] = c
	}
	return cs
}

// find returns the channel called name.
func (cs *channels) find(name string) (Channel, bool) {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	c, ok := cs.set[name]
	return c, ok
}

// add registers c, unless the engine already runs.
func (cs *channels) add(c Channel) error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.frozen {
		return fmt.Errorf("core: channel %q added after the engine started", c.Name())
	}
	cs.set[c.Name()] = c
	return nil
}

// freeze refuses every later add: the engine runs from now on.
func (cs *channels) freeze() {
	cs.mu.Lock()
	cs.frozen = true
	cs.mu.Unlock()
}

// dispatch is what e lends its courier.
func (e *Engine) dispatch() Dispatch {
	return Dispatch{Store: e.store, Clock: e.clock, Logger: e.log, Channel: e.channels.find, Delivered: e.publishDelivery}
}

// wake tells the courier that a change queued a delivery.
func (e *Engine) wake() {
	if e.courier != nil {
		e.courier.Wake()
	}
}

// DeliverOnce delivers one batch of due deliveries now, as Run does each
// time it looks at the outbox, and returns how many it took: for tests and
// tools that drive an engine without running it.
func (e *Engine) DeliverOnce(ctx context.Context) (int, error) {
	if e.courier == nil {
		return 0, fmt.Errorf("core: the engine has no courier")
	}
	return e.courier.Once(ctx, e.dispatch())
}

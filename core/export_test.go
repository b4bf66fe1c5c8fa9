package core

import (
	"context"
	"time"
)

// DeliverOnce runs one pass of the outbox worker, for tests, and returns
// how many deliveries it claimed.
func (e *Engine) DeliverOnce(ctx context.Context) (int, error) {
	p, err := e.outbox.once(ctx)
	return p.claimed, err
}

// Backoff exposes the retry schedule to tests.
var Backoff = backoff

// SetOutboxPoll sets how long the outbox waits between looks when nothing
// wakes it, before Run.
func (e *Engine) SetOutboxPoll(d time.Duration) { e.outbox.poll = d }

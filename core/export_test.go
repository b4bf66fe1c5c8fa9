package core

import "context"

// DeliverOnce runs one pass of the outbox worker, for tests.
func (e *Engine) DeliverOnce(ctx context.Context) (int, error) { return e.outbox.once(ctx) }

// Backoff exposes the retry schedule to tests.
var Backoff = backoff

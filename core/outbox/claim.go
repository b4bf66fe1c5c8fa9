package outbox

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assistbot/assistbot/core"
)

// claim is a batch of deliveries that one worker claimed and holds while
// it delivers them: it renews the lease, saves outcomes under the claim's
// token, and tells the worker when the claim can no longer be trusted, so
// that it starts no more of the batch.
type claim struct {
	w     *worker
	token string
	stop  context.Context // ends when the outbox stops

	// Saves hold mu shared and a renewal holds it alone, so that a
	// renewal compares the store's count with the exact number of
	// deliveries still carrying the token.
	mu        sync.RWMutex
	held      atomic.Int64
	renewedAt time.Time // by the engine's clock; guarded by mu
	lost      atomic.Bool

	done chan struct{}
	wg   sync.WaitGroup
}

// hold starts holding due, claimed at now, until end; the worker starts
// none of them once stop ends.
func (w *worker) hold(ctx, stop context.Context, now time.Time, due []*core.Delivery) *claim {
	c := &claim{w: w, token: due[0].ClaimToken, stop: stop, renewedAt: now, done: make(chan struct{})}
	c.held.Store(int64(len(due)))
	c.wg.Go(func() {
		// A delivery may take longer than the lease (deliverTimeout):
		// the lease is renewed while it runs, not only between
		// deliveries.
		t := time.NewTicker(outboxRenew)
		defer t.Stop()
		for {
			select {
			case <-c.done:
				return
			case <-t.C:
				c.renew(ctx)
			}
		}
	})
	return c
}

// end ends the renewals.
func (c *claim) end() {
	close(c.done)
	c.wg.Wait()
}

// live reports whether the worker may start another delivery of the
// batch: not once the outbox stops or the claim is lost. When outboxRenew
// has passed on the engine's clock since the lease was last set, it renews
// it first: a worker that was paused for longer than the lease learns
// that it lost the claim before it sends anything more.
func (c *claim) live(ctx context.Context) bool {
	if c.lost.Load() || c.stop.Err() != nil {
		return false
	}
	c.mu.RLock()
	due := !c.w.Clock.Now().Before(c.renewedAt.Add(outboxRenew))
	c.mu.RUnlock()
	if due {
		c.renew(ctx)
	}
	return !c.lost.Load()
}

// renew extends the lease of the deliveries not saved yet, or marks the
// claim lost when the store holds fewer of them under the token than
// that, or cannot say.
func (c *claim) renew(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lost.Load() {
		return
	}
	now := c.w.Clock.Now()
	held := c.held.Load()
	if held == 0 {
		c.renewedAt = now
		return
	}
	// A renewal that cannot finish within the interval would come too
	// late to count on anyway.
	rctx, cancel := context.WithTimeout(ctx, outboxRenew)
	n, err := c.w.Store.RenewClaim(rctx, c.token, now.Add(outboxLease))
	cancel()
	switch {
	case err != nil:
		c.lost.Store(true)
		c.w.Logger.Error("outbox claim not renewed: none of its other deliveries will be started",
			"held", held, "err", err)
	case int64(n) < held:
		c.lost.Store(true)
		c.w.Logger.Error("outbox claim lost to another worker after its lease ran out: none of its other deliveries will be started",
			"held", held, "renewed", n)
	default:
		c.renewedAt = now
	}
}

// save saves the outcome of d under the claim.
func (c *claim) save(ctx context.Context, d *core.Delivery) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	err := c.w.Store.UpdateDelivery(ctx, d)
	switch {
	case err == nil:
		c.held.Add(-1)
	case errors.Is(err, core.ErrClaimLost):
		// The lease ran out and another worker claimed d: it will not
		// have stopped at d alone.
		c.held.Add(-1)
		c.lost.Store(true)
	case errors.Is(err, core.ErrDeliveryFinal):
		// A platform's report made d final meanwhile; the claim is
		// still the worker's.
	default:
		// Whether the outcome was saved is unknown: sending more of
		// the batch could only add to the doubt.
		c.lost.Store(true)
	}
	return err
}

// release gives back deliveries of the claim that were not tried, without
// counting an attempt: they are claimable again once their key's earlier
// deliveries are.
func (c *claim) release(ctx context.Context, list []*core.Delivery) {
	now := c.w.Clock.Now()
	for _, d := range list {
		d.Attempts--
		d.NextAttemptAt = now
		if err := c.save(ctx, d); err != nil {
			c.w.saveFailed(c.w.logger(d), d, err)
		}
	}
}

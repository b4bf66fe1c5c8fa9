package twilio

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/assistbot/assistbot/core"
)

// pacer keeps each sending number (or messaging service) under
// twilio.mps. Twilio queues what a sender cannot send at once, but a
// queue it holds for us is one we cannot see: pacing here makes a message
// wait inside Deliver instead, where the outbox keeps it queued, in order,
// and never drops it.
type pacer struct {
	limit rate.Limit
	// now and sleep are the clock; tests replace them so that no test
	// waits for real time.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	bySend map[string]*rate.Limiter
}

// newPacer returns a pacer allowing mps messages per second per sender.
func newPacer(mps float64) *pacer {
	return &pacer{limit: rate.Limit(mps), now: time.Now, sleep: sleepCtx, bySend: map[string]*rate.Limiter{}}
}

// wait blocks until sender may send one more message. When ctx would
// end before that, it gives the slot back at once and returns
// CodeRateLimited with the wait as Retry: the outbox tries later without
// counting an attempt, since nothing was sent.
func (p *pacer) wait(ctx context.Context, sender, busy string) error {
	lim := p.limiter(sender)
	now := p.now()
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		r.CancelAt(now)
		return &core.Error{Code: core.CodeRateLimited, Message: busy, Retry: d}
	}
	if err := p.sleep(ctx, d); err != nil {
		r.CancelAt(p.now())
		return &core.Error{Code: core.CodeRateLimited, Message: busy, Err: err, Retry: d}
	}
	return nil
}

// limiter returns sender's limiter, creating it on first use. A burst of
// one spaces messages evenly rather than letting a backlog go out at once.
func (p *pacer) limiter(sender string) *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.bySend[sender]
	if !ok {
		l = rate.NewLimiter(p.limit, 1)
		p.bySend[sender] = l
	}
	return l
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

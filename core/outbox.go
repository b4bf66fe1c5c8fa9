package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Outbox tuning. A delivery is tried up to maxAttempts times, waiting
// backoffBase, then twice as long each time up to backoffMax (with
// jitter), or as long as the platform's Retry-After asks.
//
// A claim holds its deliveries for outboxLease, and the worker renews it
// every outboxRenew while it works on them: three renewals in a row may
// fail or come late (a long pause, a database failover) before another
// replica can take the deliveries over, while those of a replica that
// died are taken over at most outboxLease+outboxPoll after its last
// renewal.
const (
	outboxBatch    = 32
	outboxWorkers  = 8
	outboxPoll     = time.Second
	outboxLease    = 20 * time.Second
	outboxRenew    = 5 * time.Second
	deliverTimeout = 30 * time.Second
	maxAttempts    = 10
	backoffBase    = time.Second
	backoffMax     = 5 * time.Minute
)

// outbox delivers queued notices through the channels.
type outbox struct {
	e    *Engine
	kick chan struct{}
	poll time.Duration // outboxPoll, but for tests

	// channels is replaced whole, never changed in place, so that
	// readers need no lock; mu orders the writers, and started refuses
	// them once Run has begun.
	channels atomic.Pointer[map[string]Channel]
	mu       sync.Mutex
	started  bool
}

func newOutbox(e *Engine, channels []Channel) *outbox {
	o := &outbox{e: e, kick: make(chan struct{}, 1), poll: outboxPoll}
	m := make(map[string]Channel, len(channels))
	for _, c := range channels {
		m[c.Name()] = c
	}
	o.channels.Store(&m)
	return o
}

// channel returns the channel called name, if the engine has it.
func (o *outbox) channel(name string) (Channel, bool) {
	c, ok := (*o.channels.Load())[name]
	return c, ok
}

// add registers c, unless the engine already runs.
func (o *outbox) add(c Channel) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.started {
		return fmt.Errorf("core: channel %q added after the engine started", c.Name())
	}
	old := *o.channels.Load()
	m := make(map[string]Channel, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[c.Name()] = c
	o.channels.Store(&m)
	return nil
}

// freeze refuses every later add: the engine runs from now on.
func (o *outbox) freeze() {
	o.mu.Lock()
	o.started = true
	o.mu.Unlock()
}

// wake makes the worker look at the outbox now rather than at its next poll.
func (o *outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// run delivers until ctx ends. Deliveries in flight when it ends run to
// completion: their context is detached from ctx and has its own timeout.
// The deliveries of their batch that have not started are given back.
func (o *outbox) run(ctx context.Context) {
	o.releaseOrphans(ctx)
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.kick:
		case <-poll.C:
		}
		for {
			p, err := o.once(ctx)
			if err != nil {
				o.e.log.Error("outbox", "err", err)
				break
			}
			// Claim again at once after a full batch, or one that got
			// anything out: the later deliveries of a key wait for its
			// earlier ones, and need not wait for the next poll too.
			if (p.claimed < outboxBatch && p.handed == 0) || ctx.Err() != nil {
				break
			}
		}
		poll.Reset(o.poll)
	}
}

// releaseOrphans ends the claims an earlier run of this process left,
// when the store is one that no other process uses (see OrphanReleaser).
func (o *outbox) releaseOrphans(ctx context.Context) {
	r, ok := o.e.store.(OrphanReleaser)
	if !ok {
		return
	}
	n, err := r.ReleaseOrphanedClaims(ctx, o.e.clock.Now())
	switch {
	case err != nil:
		o.e.log.Error("release the deliveries claimed before a restart", "err", err)
	case n > 0:
		o.e.log.Warn("deliveries claimed before a restart are due again; any of them may have been sent already", "count", n)
	}
}

// pass is what one claim of the outbox came to.
type pass struct {
	claimed int // deliveries claimed
	handed  int // deliveries a platform accepted
}

// orderKey is what deliveries go out in order by: a recipient, and on a
// desk, one conversation's thread.
type orderKey struct {
	to             Endpoint
	conversationID string
}

// once claims a batch of due deliveries and delivers them: the deliveries
// of one ordering key one after another, at most outboxWorkers keys at a
// time. When ctx ends, the deliveries in flight finish and are saved, under
// a context that outlives it, and those not started are given back.
func (o *outbox) once(stop context.Context) (pass, error) {
	if stop.Err() != nil {
		return pass{}, nil
	}
	ctx := context.WithoutCancel(stop)
	now := o.e.clock.Now()
	due, err := o.e.store.ClaimDeliveries(ctx, now, outboxBatch, outboxLease)
	if err != nil {
		return pass{}, fmt.Errorf("claim deliveries: %w", err)
	}
	if len(due) == 0 {
		return pass{}, nil
	}
	c := o.hold(ctx, stop, now, due)
	defer c.end()
	byKey := map[orderKey][]*Delivery{}
	var order []orderKey
	for _, d := range due {
		k := orderKey{d.To, d.ConversationID}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], d)
	}
	sem := make(chan struct{}, outboxWorkers)
	var wg sync.WaitGroup
	var handed atomic.Int64
	for _, k := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func(list []*Delivery) {
			defer func() { <-sem; wg.Done() }()
			handed.Add(int64(o.deliverKey(ctx, c, list)))
		}(byKey[k])
	}
	wg.Wait()
	return pass{claimed: len(due), handed: int(handed.Load())}, nil
}

// deliverKey delivers the claimed deliveries of one ordering key in turn
// and returns how many a platform accepted. The rest of the key wait, and
// are released unsent, once one is to be tried again later (its retry
// holds them back), once the claim is lost, and once the outbox stops.
func (o *outbox) deliverKey(ctx context.Context, c *claim, list []*Delivery) (handed int) {
	for i, d := range list {
		if !c.live(ctx) {
			c.release(ctx, list[i:])
			return handed
		}
		accepted, later := o.deliver(ctx, c, d)
		if accepted {
			handed++
		}
		if later {
			c.release(ctx, list[i+1:])
			return handed
		}
	}
	return handed
}

// logger returns the engine's logger with the fields that name d.
func (o *outbox) logger(d *Delivery) *slog.Logger {
	return o.e.log.With("delivery_id", d.ID, "session_id", d.SessionID, "channel", d.To.Channel)
}

// deliver makes one attempt at d and saves the outcome under c. It
// reports whether the platform accepted d, and whether d stays queued
// for a later attempt.
func (o *outbox) deliver(ctx context.Context, c *claim, d *Delivery) (accepted, later bool) {
	log := o.logger(d)
	now := o.e.clock.Now()
	ch, ok := o.channel(d.To.Channel)
	var stale string
	if ok && d.Notice.Kind == NoticeLink {
		stale = o.stale(ctx, d)
	}
	switch {
	case !ok:
		o.fail(d, now, fmt.Sprintf("%s delivery is not enabled", d.To.Channel))
	case d.Notice.Kind == NoticeLink && !d.Notice.ExpiresAt.IsZero() && !now.Before(d.Notice.ExpiresAt):
		o.fail(d, now, "the pin expired before the link could be delivered")
	case stale != "":
		o.fail(d, now, stale)
	default:
		conv := o.enrich(ctx, d)
		dctx, cancel := context.WithTimeout(ctx, deliverTimeout)
		r, err := ch.Deliver(dctx, d)
		cancel()
		now = o.e.clock.Now()
		switch {
		case err == nil:
			accepted = true
			d.Status, d.ExternalID, d.Reason = r.Status, r.ExternalID, ""
			if d.Status != DeliveryDelivered {
				d.Status = DeliverySent
			}
			d.UpdatedAt = now
			if r.Thread != "" && conv != nil && d.To == conv.Desk && conv.DeskThread == "" {
				o.recordThread(ctx, conv.ID, r.Thread)
			}
		case ErrorCode(err) == CodeRateLimited:
			// The channel held the message back to keep within a rate
			// (a sending number's messages per second): nothing was
			// sent, so this is no attempt, however long the queue.
			wait, ok := RetryAfter(err)
			if !ok {
				wait = backoffBase
			}
			d.Attempts--
			d.Reason, d.NextAttemptAt, d.UpdatedAt = ErrorMessage(err), now.Add(wait), now
		case retryable(err) && d.Attempts < maxAttempts:
			wait, ok := RetryAfter(err)
			if !ok {
				wait = backoff(d.Attempts)
			}
			d.Reason, d.NextAttemptAt, d.UpdatedAt = ErrorMessage(err), now.Add(wait), now
			log.Warn("delivery will be retried", "attempt", d.Attempts, "wait", wait, "err", err)
		case retryable(err):
			log.Error("delivery failed", "attempts", d.Attempts, "err", err)
			o.fail(d, now, fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, ErrorMessage(err)))
		default:
			log.Error("delivery failed", "err", err)
			o.fail(d, now, ErrorMessage(err))
		}
	}
	later = d.Status == DeliveryQueued
	if err := c.save(ctx, d); err != nil {
		o.saveFailed(log, d, err)
		return accepted, later
	}
	if d.Status != DeliveryQueued {
		o.e.publishDelivery(ctx, d)
	}
	return accepted, later
}

// saveFailed logs why the outcome of d was not saved. A delivery that a
// platform's report made final meanwhile is no news.
func (o *outbox) saveFailed(log *slog.Logger, d *Delivery, err error) {
	switch {
	case errors.Is(err, ErrDeliveryFinal):
	case errors.Is(err, ErrClaimLost):
		log.Error("delivery outcome refused: another worker claimed the delivery after this one's lease ran out",
			"status", d.Status, "err", err)
	default:
		log.Error("save delivery", "status", d.Status, "err", err)
	}
}

// stale says why a queued link must not go out any more, or "" when it
// still works: a link waiting for a retry may outlive its PIN, which
// "generate another code", close and the customer's joining revoke at
// once. A customer must never receive a code that no longer opens.
func (o *outbox) stale(ctx context.Context, d *Delivery) string {
	if d.SessionID == "" || d.Notice.PIN == "" {
		return ""
	}
	s, err := o.e.store.FindSession(ctx, d.SessionID)
	switch {
	case err != nil:
		return "" // the channel's own attempt will tell
	case s.PIN != d.Notice.PIN && s.State.PINLive():
		return "not sent: another code replaced this one before the link could be delivered"
	case s.State == StateWaiting || s.State == StateActive || s.State == StateEnded:
		return "not sent: the customer had already joined"
	case !s.State.PINLive():
		return fmt.Sprintf("not sent: the session was %s before the link could be delivered", s.State)
	}
	return ""
}

// enrich fills in what a notice can only know at delivery time: the
// conversation's desk thread, which an earlier delivery may have just
// started, and the message of the session's previous desk notice, which a
// channel that edits messages updates instead of posting anew. It returns
// the conversation of a desk-bound delivery.
func (o *outbox) enrich(ctx context.Context, d *Delivery) *Conversation {
	if d.ConversationID == "" {
		return nil
	}
	conv, err := o.e.store.FindConversation(ctx, d.ConversationID)
	if err != nil || d.To != conv.Desk {
		return nil
	}
	d.Notice.Thread = conv.DeskThread
	if d.Notice.Kind == NoticeSession && d.SessionID != "" {
		earlier, err := o.e.store.FindDeliveries(ctx, DeliveryFilter{SessionID: d.SessionID})
		if err == nil {
			for _, p := range earlier { // newest first
				if p.ID < d.ID && p.To == d.To && p.Notice.Kind == NoticeSession && p.ExternalID != "" {
					d.Notice.Replace = p.ExternalID
					break
				}
			}
		}
	}
	return conv
}

// recordThread saves the desk thread a channel started for a
// conversation, unless another delivery recorded one first.
func (o *outbox) recordThread(ctx context.Context, convID, thread string) {
	for try := 0; try < maxTries; try++ {
		c, err := o.e.store.FindConversation(ctx, convID)
		if err != nil || c.DeskThread != "" {
			return
		}
		c.DeskThread, c.UpdatedAt = thread, o.e.clock.Now()
		err = o.e.store.UpdateConversation(ctx, c)
		if !errors.Is(err, ErrVersion) {
			if err != nil {
				o.e.log.Error("record desk thread", "conversation_id", convID, "err", err)
			}
			return
		}
	}
}

func (o *outbox) fail(d *Delivery, now time.Time, reason string) {
	d.Status, d.Reason, d.UpdatedAt = DeliveryFailed, reason, now
}

// retryable reports whether a failed delivery is worth another try: the
// platform is unavailable, or the error is not classified (a network
// failure a channel did not wrap).
func retryable(err error) bool {
	c := ErrorCode(err)
	return c == CodeUnavailable || c == CodeInternal
}

// backoff returns the wait after the attempts-th failure: exponential from
// backoffBase, capped at backoffMax, with up to 20% jitter so that retries
// from many deliveries do not arrive together.
func backoff(attempts int) time.Duration {
	d := backoffBase
	for i := 1; i < attempts && d < backoffMax; i++ {
		d *= 2
	}
	d = min(d, backoffMax)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

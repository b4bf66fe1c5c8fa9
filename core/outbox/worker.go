package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assistbot/assistbot/core"
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

	// maxTries bounds the retries of a conversation update that met a
	// concurrent change.
	maxTries = 8
)

// Worker delivers the outbox through the engine's channels: it claims due
// deliveries, sends those to one recipient in order and several
// recipients at once, and saves each outcome under its claim. It is the
// core.Courier that assistbot gives its engine.
type Worker struct {
	kick chan struct{}
	poll time.Duration
}

// Options tune a Worker; the zero value is what assistbot runs with.
type Options struct {
	// Poll is how long the worker waits between looks at the outbox when
	// nothing wakes it; one second when zero.
	Poll time.Duration
}

// New returns a Worker.
func New(o Options) *Worker {
	if o.Poll <= 0 {
		o.Poll = outboxPoll
	}
	return &Worker{kick: make(chan struct{}, 1), poll: o.Poll}
}

// Wake makes the worker look at the outbox now rather than at its next
// poll.
func (w *Worker) Wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers through d until ctx ends. Deliveries in flight when it ends
// run to completion: their context is detached from ctx and has its own
// timeout. The deliveries of their batch that have not started are given
// back.
func (w *Worker) Run(ctx context.Context, d core.Dispatch) {
	(&worker{Dispatch: d, poll: w.poll, kick: w.kick}).run(ctx)
}

// Once claims one batch of due deliveries and delivers it through d, and
// returns how many it claimed: what Run does each time it looks.
func (w *Worker) Once(ctx context.Context, d core.Dispatch) (int, error) {
	p, err := (&worker{Dispatch: d, poll: w.poll, kick: w.kick}).once(ctx)
	return p.claimed, err
}

// worker is a Worker at work for one engine.
type worker struct {
	core.Dispatch
	kick chan struct{}
	poll time.Duration
}

// run delivers until ctx ends.
func (w *worker) run(ctx context.Context) {
	w.releaseOrphans(ctx)
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-poll.C:
		}
		for {
			p, err := w.once(ctx)
			if err != nil {
				w.Logger.Error("outbox", "err", err)
				break
			}
			// Claim again at once after a full batch, or one that got
			// anything out: the later deliveries of a key wait for its
			// earlier ones, and need not wait for the next poll too.
			if (p.claimed < outboxBatch && p.handed == 0) || ctx.Err() != nil {
				break
			}
		}
		poll.Reset(w.poll)
	}
}

// releaseOrphans ends the claims an earlier run of this process left,
// when the store is one that no other process uses (see core.OrphanReleaser).
func (w *worker) releaseOrphans(ctx context.Context) {
	r, ok := w.Store.(core.OrphanReleaser)
	if !ok {
		return
	}
	n, err := r.ReleaseOrphanedClaims(ctx, w.Clock.Now())
	switch {
	case err != nil:
		w.Logger.Error("release the deliveries claimed before a restart", "err", err)
	case n > 0:
		w.Logger.Warn("deliveries claimed before a restart are due again; any of them may have been sent already", "count", n)
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
	to             core.Endpoint
	conversationID string
}

// once claims a batch of due deliveries and delivers them: the deliveries
// of one ordering key one after another, at most outboxWorkers keys at a
// time. When ctx ends, the deliveries in flight finish and are saved, under
// a context that outlives it, and those not started are given back.
func (w *worker) once(stop context.Context) (pass, error) {
	if stop.Err() != nil {
		return pass{}, nil
	}
	ctx := context.WithoutCancel(stop)
	now := w.Clock.Now()
	due, err := w.Store.ClaimDeliveries(ctx, now, outboxBatch, outboxLease)
	if err != nil {
		return pass{}, fmt.Errorf("claim deliveries: %w", err)
	}
	if len(due) == 0 {
		return pass{}, nil
	}
	c := w.hold(ctx, stop, now, due)
	defer c.end()
	byKey := map[orderKey][]*core.Delivery{}
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
		go func(list []*core.Delivery) {
			defer func() { <-sem; wg.Done() }()
			handed.Add(int64(w.deliverKey(ctx, c, list)))
		}(byKey[k])
	}
	wg.Wait()
	return pass{claimed: len(due), handed: int(handed.Load())}, nil
}

// deliverKey delivers the claimed deliveries of one ordering key in turn
// and returns how many a platform accepted. The rest of the key wait, and
// are released unsent, once one is to be tried again later (its retry
// holds them back), once the claim is lost, and once the outbox stops.
func (w *worker) deliverKey(ctx context.Context, c *claim, list []*core.Delivery) (handed int) {
	for i, d := range list {
		if !c.live(ctx) {
			c.release(ctx, list[i:])
			return handed
		}
		accepted, later := w.deliver(ctx, c, d)
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
func (w *worker) logger(d *core.Delivery) *slog.Logger {
	return w.Logger.With("delivery_id", d.ID, "session_id", d.SessionID, "channel", d.To.Channel)
}

// deliver makes one attempt at d and saves the outcome under c. It
// reports whether the platform accepted d, and whether d stays queued
// for a later attempt.
func (w *worker) deliver(ctx context.Context, c *claim, d *core.Delivery) (accepted, later bool) {
	log := w.logger(d)
	now := w.Clock.Now()
	ch, ok := w.Channel(d.To.Channel)
	var stale string
	if ok && d.Notice.Kind == core.NoticeLink {
		stale = w.stale(ctx, d)
	}
	switch {
	case !ok:
		w.fail(d, now, fmt.Sprintf("%s delivery is not enabled", d.To.Channel))
	case d.Notice.Kind == core.NoticeLink && !d.Notice.ExpiresAt.IsZero() && !now.Before(d.Notice.ExpiresAt):
		w.fail(d, now, "the pin expired before the link could be delivered")
	case stale != "":
		w.fail(d, now, stale)
	default:
		conv := w.enrich(ctx, d)
		dctx, cancel := context.WithTimeout(ctx, deliverTimeout)
		r, err := ch.Deliver(dctx, d)
		cancel()
		now = w.Clock.Now()
		switch {
		case err == nil:
			accepted = true
			d.Status, d.ExternalID, d.Reason = r.Status, r.ExternalID, ""
			if d.Status != core.DeliveryDelivered {
				d.Status = core.DeliverySent
			}
			d.UpdatedAt = now
			if r.Thread != "" && conv != nil && d.To == conv.Desk && conv.DeskThread == "" {
				w.recordThread(ctx, conv.ID, r.Thread)
			}
		case core.ErrorCode(err) == core.CodeRateLimited:
			// The channel held the message back to keep within a rate
			// (a sending number's messages per second): nothing was
			// sent, so this is no attempt, however long the queue.
			wait, ok := core.RetryAfter(err)
			if !ok {
				wait = backoffBase
			}
			d.Attempts--
			d.Reason, d.NextAttemptAt, d.UpdatedAt = core.ErrorMessage(err), now.Add(wait), now
		case retryable(err) && d.Attempts < maxAttempts:
			wait, ok := core.RetryAfter(err)
			if !ok {
				wait = backoff(d.Attempts)
			}
			d.Reason, d.NextAttemptAt, d.UpdatedAt = core.ErrorMessage(err), now.Add(wait), now
			log.Warn("delivery will be retried", "attempt", d.Attempts, "wait", wait, "err", err)
		case retryable(err):
			log.Error("delivery failed", "attempts", d.Attempts, "err", err)
			w.fail(d, now, fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, core.ErrorMessage(err)))
		default:
			log.Error("delivery failed", "err", err)
			w.fail(d, now, core.ErrorMessage(err))
		}
	}
	later = d.Status == core.DeliveryQueued
	if err := c.save(ctx, d); err != nil {
		w.saveFailed(log, d, err)
		return accepted, later
	}
	if d.Status != core.DeliveryQueued {
		w.Delivered(ctx, d)
	}
	return accepted, later
}

// saveFailed logs why the outcome of d was not saved. A delivery that a
// platform's report made final meanwhile is no news.
func (w *worker) saveFailed(log *slog.Logger, d *core.Delivery, err error) {
	switch {
	case errors.Is(err, core.ErrDeliveryFinal):
	case errors.Is(err, core.ErrClaimLost):
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
func (w *worker) stale(ctx context.Context, d *core.Delivery) string {
	if d.SessionID == "" || d.Notice.PIN == "" {
		return ""
	}
	s, err := w.Store.FindSession(ctx, d.SessionID)
	switch {
	case err != nil:
		return "" // the channel's own attempt will tell
	case s.PIN != d.Notice.PIN && s.State.PINLive():
		return "not sent: another code replaced this one before the link could be delivered"
	case s.State == core.StateWaiting || s.State == core.StateActive || s.State == core.StateEnded:
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
func (w *worker) enrich(ctx context.Context, d *core.Delivery) *core.Conversation {
	if d.ConversationID == "" {
		return nil
	}
	conv, err := w.Store.FindConversation(ctx, d.ConversationID)
	if err != nil || d.To != conv.Desk {
		return nil
	}
	d.Notice.Thread = conv.DeskThread
	if d.Notice.Kind == core.NoticeSession && d.SessionID != "" {
		earlier, err := w.Store.FindDeliveries(ctx, core.DeliveryFilter{SessionID: d.SessionID})
		if err == nil {
			for _, p := range earlier { // newest first
				if p.ID < d.ID && p.To == d.To && p.Notice.Kind == core.NoticeSession && p.ExternalID != "" {
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
func (w *worker) recordThread(ctx context.Context, convID, thread string) {
	for try := 0; try < maxTries; try++ {
		c, err := w.Store.FindConversation(ctx, convID)
		if err != nil || c.DeskThread != "" {
			return
		}
		c.DeskThread, c.UpdatedAt = thread, w.Clock.Now()
		err = w.Store.UpdateConversation(ctx, c)
		if !errors.Is(err, core.ErrVersion) {
			if err != nil {
				w.Logger.Error("record desk thread", "conversation_id", convID, "err", err)
			}
			return
		}
	}
}

func (w *worker) fail(d *core.Delivery, now time.Time, reason string) {
	d.Status, d.Reason, d.UpdatedAt = core.DeliveryFailed, reason, now
}

// retryable reports whether a failed delivery is worth another try: the
// platform is unavailable, or the error is not classified (a network
// failure a channel did not wrap).
func retryable(err error) bool {
	c := core.ErrorCode(err)
	return c == core.CodeUnavailable || c == core.CodeInternal
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

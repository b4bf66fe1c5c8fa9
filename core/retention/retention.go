// Package retention deletes what the store holds past its retention
// (store.retention): finished sessions with their event logs, deliveries
// and report rows, and closed conversations with their transcripts.
//
// A Pruner deletes in small batches, each its own short transaction, so
// that the writers waiting behind one wait for milliseconds, never for the
// whole backlog; it pauses between batches and runs again every hour. With
// several replicas on one database, one of them prunes at a time (the
// store's Locker). It never deletes a session that can still change, an
// open conversation, or a customer's opt-out: what it deletes is only what
// nobody can act on any more.
package retention

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Store is what a Pruner needs of the store.
type Store interface {
	// Prune deletes, in one transaction:
	//   - up to limit finished sessions (ended, closed or expired) that
	//     last changed before before and wait for no delivery, with their
	//     events, their deliveries (a webhook delivery's attempts too) and
	//     their report rows;
	//   - up to limit closed conversations last updated before before that
	//     have no session left, with their messages and deliveries.
	// It returns how many rows of each it deleted.
	Prune(ctx context.Context, before time.Time, limit int) (Pruned, error)
}

// Pruned counts the rows a prune deleted.
type Pruned struct {
	Sessions      int
	Events        int
	Deliveries    int
	Conversations int
	Messages      int
}

// Add adds q's counts to p's.
func (p *Pruned) Add(q Pruned) {
	p.Sessions += q.Sessions
	p.Events += q.Events
	p.Deliveries += q.Deliveries
	p.Conversations += q.Conversations
	p.Messages += q.Messages
}

// Zero reports whether p deleted nothing.
func (p Pruned) Zero() bool { return p == Pruned{} }

// full reports whether a batch of limit deleted as many as it could of
// some kind, so that another batch may find more.
func (p Pruned) full(limit int) bool {
	return p.Sessions >= limit || p.Conversations >= limit
}

// Defaults of Options.
const (
	DefaultBatch = 100
	DefaultEvery = time.Hour
	DefaultPause = 20 * time.Millisecond
)

// LockName is the name of the lock a Pruner holds while it prunes.
const LockName = "retention"

// Options configure a Pruner.
type Options struct {
	// Store is pruned. When it is also a core.Locker, one replica prunes
	// at a time.
	Store Store
	// Keep is how long rows are kept; a Pruner with Keep ≤ 0 deletes
	// nothing.
	Keep time.Duration
	// Batch is how many sessions and how many conversations one
	// transaction deletes at most (DefaultBatch when 0).
	Batch int
	// Every is how often a Pruner looks for rows to delete (DefaultEvery
	// when 0); it looks once at start too.
	Every time.Duration
	// Pause is the shortest wait between two batches (DefaultPause when
	// 0). A Pruner waits at least as long as its last batch took, too, so
	// that it never has the store more than half of the time.
	Pause time.Duration
	// Clock tells the time (core.SystemClock when nil).
	Clock core.Clock
	// Logger says what was pruned (slog.Default() when nil).
	Logger *slog.Logger
	// Observe, when set, is called with what each run deleted: metrics.
	Observe func(Pruned)
}

// Pruner deletes rows past the retention. Make one with New.
type Pruner struct {
	o Options
}

// New returns a Pruner with o's defaults filled in.
func New(o Options) *Pruner {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.Pause <= 0 {
		o.Pause = DefaultPause
	}
	if o.Clock == nil {
		o.Clock = core.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Pruner{o: o}
}

// Run prunes at start and then every Options.Every until ctx ends. A
// failed run is logged and tried again at the next tick.
func (p *Pruner) Run(ctx context.Context) error {
	if p.o.Keep <= 0 {
		return nil
	}
	t := time.NewTicker(p.o.Every)
	defer t.Stop()
	for {
		if _, err := p.Prune(ctx); err != nil && ctx.Err() == nil {
			p.o.Logger.Error("pruning past the retention failed; trying again later", "err", err, "retry_in", p.o.Every)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Prune deletes every row past the retention now, batch after batch, and
// logs what it deleted. Another replica holding the lock makes it return
// at once with nothing deleted.
func (p *Pruner) Prune(ctx context.Context) (Pruned, error) {
	var total Pruned
	if p.o.Keep <= 0 {
		return total, nil
	}
	if l, ok := p.o.Store.(core.Locker); ok {
		lost, release, ok, err := l.TryLock(ctx, LockName)
		if err != nil {
			return total, err
		}
		if !ok {
			return total, nil
		}
		defer release()
		// Another replica may take the lock once this one loses its
		// hold: stop then, after the batch in flight.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-lost:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	before := p.o.Clock.Now().Add(-p.o.Keep)
	start := time.Now()
	var err error
	for {
		var n Pruned
		began := time.Now()
		n, err = p.o.Store.Prune(ctx, before, p.o.Batch)
		total.Add(n)
		if err != nil || !n.full(p.o.Batch) {
			break
		}
		if err = wait(ctx, max(p.o.Pause, time.Since(began))); err != nil {
			break
		}
	}
	if !total.Zero() {
		p.o.Logger.Info("pruned what is past the retention",
			"before", before.Format(time.RFC3339), "sessions", total.Sessions, "events", total.Events,
			"deliveries", total.Deliveries, "conversations", total.Conversations, "messages", total.Messages,
			"took", time.Since(start).Round(time.Millisecond))
		if p.o.Observe != nil {
			p.o.Observe(total)
		}
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil
	}
	return total, err
}

// wait waits for d or for ctx to end, whichever comes first.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

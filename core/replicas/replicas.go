// Package replicas carries what one replica of assistbot publishes to the
// others that share its store, and theirs back (core.Replicas), over the
// store's core.Broadcaster: PostgreSQL's LISTEN/NOTIFY. An announcement
// names what changed, never a PIN or an address; the replicas that hear it
// read the change from the store.
package replicas

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Replicas is the core.Replicas of an engine whose store several
// replicas share.
type Replicas struct {
	b     core.Broadcaster
	store core.Store
	clock core.Clock
	log   *slog.Logger
	queue chan core.Announcement
	// dropped counts the announcements the full queue refused since Run
	// last reported them.
	dropped atomic.Int64
	// ready is closed once Run first hears the others.
	ready     chan struct{}
	readyOnce sync.Once
}

// New returns the Replicas of an engine on st, which announces through
// b (usually st itself); clock tells the time of the sessions it reads
// (default core.SystemClock), log where it reports (default discards).
func New(b core.Broadcaster, st core.Store, clock core.Clock, log *slog.Logger) *Replicas {
	if clock == nil {
		clock = core.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Replicas{b: b, store: st, clock: clock, log: log, queue: make(chan core.Announcement, broadcastQueue), ready: make(chan struct{})}
}

// Ready is closed once Run hears the other replicas: a view opened
// before then could miss what they change meanwhile, so the server
// takes requests from then on.
func (r *Replicas) Ready() <-chan struct{} { return r.ready }

// announcement describes u for the other replicas.
func announcement(u core.Update) core.Announcement {
	var a core.Announcement
	if u.Session != nil {
		a.SessionID = u.Session.ID
	}
	if u.Event != nil {
		ev := *u.Event
		a.Event = &ev
	}
	if u.Delivery != nil {
		a.DeliveryID = u.Delivery.ID
		if a.SessionID == "" {
			a.SessionID = u.Delivery.SessionID
		}
	}
	if u.Conversation != nil {
		a.ConversationID = u.Conversation.ID
	}
	if u.Message != nil {
		a.MessageID = u.Message.ID
		a.ConversationID = u.Message.ConversationID
	}
	a.Closer = u.Closer
	return a
}

// rebuild makes the core.Update another replica published from what the store
// holds now. Its session is the current one, which may be newer than the
// change announced: readers treat updates as news to reload on, never as
// the last word.
func (r *Replicas) rebuild(ctx context.Context, a core.Announcement) (core.Update, error) {
	var u core.Update
	if a.SessionID != "" {
		s, err := r.store.FindSession(ctx, a.SessionID)
		if err != nil {
			return u, err
		}
		s.State = s.Current(r.clock.Now())
		u.Session = s
		u.Event = a.Event
	}
	if a.DeliveryID != 0 {
		d, err := r.store.FindDelivery(ctx, a.DeliveryID)
		if err != nil {
			return u, err
		}
		u.Delivery = d
	}
	if a.ConversationID != "" {
		c, err := r.store.FindConversation(ctx, a.ConversationID)
		if err != nil {
			return u, err
		}
		u.Conversation, u.Closer = c, a.Closer
	}
	if a.MessageID != 0 {
		ms, err := r.store.FindMessages(ctx, core.MessageFilter{ConversationID: a.ConversationID, AfterID: a.MessageID - 1, Limit: 1})
		if err != nil {
			return u, err
		}
		if len(ms) == 1 && ms[0].ID == a.MessageID {
			u.Message = ms[0]
		}
	}
	return u, nil
}

// broadcastQueue is how many announcements may wait to be sent before
// new ones are dropped (and counted in the log): a replica whose database
// is too slow to announce keeps serving; other replicas then show the
// change on their next reload.
const broadcastQueue = 1024

// broadcastBatch bounds how many waiting announcements one Broadcast
// carries: at a few thousand updates a second, one round trip to the
// database per announcement could not keep up.
const broadcastBatch = 256

// broadcastTimeout bounds one Broadcast.
const broadcastTimeout = 5 * time.Second

// dropReportEvery is how often, at most, the log says how many
// announcements the full queue dropped: once per drop would flood it just
// when the replica is busiest.
const dropReportEvery = 10 * time.Second

// Announce queues u for the other replicas, without blocking: a replica
// whose database is too slow to announce keeps serving, and the others
// show the change on their next reload.
func (r *Replicas) Announce(u core.Update) {
	select {
	case r.queue <- announcement(u):
	default:
		r.dropped.Add(1)
	}
}

// Run sends the queued announcements, and calls heard with what the
// other replicas announce, until ctx ends. Each time it hears them again
// after a lost connection, it calls missed.
func (r *Replicas) Run(ctx context.Context, heard func(core.Update), missed func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := r.b.Listen(ctx, func(a core.Announcement) {
			rctx, cancel := context.WithTimeout(ctx, broadcastTimeout)
			defer cancel()
			u, err := r.rebuild(rctx, a)
			if err != nil {
				// Reads cut short by the shutdown are no news.
				if ctx.Err() == nil {
					r.log.Warn("an announced update could not be read", "session_id", a.SessionID, "conversation_id", a.ConversationID, "err", err)
				}
				return
			}
			heard(u)
		}, func() {
			first := false
			r.readyOnce.Do(func() { first = true; close(r.ready) })
			if !first {
				r.log.Info("hearing the other replicas again; live views reload what they show")
				missed()
			}
		}, func(err error) {
			r.log.Warn("skipped an announcement from another replica that could not be read", "err", err)
		})
		if err != nil && ctx.Err() == nil {
			r.log.Error("listening to the other replicas stopped", "err", err)
		}
	}()
	batch := make([]core.Announcement, 0, broadcastBatch)
	var reported time.Time
	for {
		select {
		case <-ctx.Done():
			<-done
			r.reportDropped()
			return
		case a := <-r.queue:
			batch = append(batch[:0], a)
			batch = r.waiting(batch)
			bctx, cancel := context.WithTimeout(ctx, broadcastTimeout)
			if err := r.b.Broadcast(bctx, batch); err != nil && ctx.Err() == nil {
				r.log.Warn("announce updates to the other replicas", "updates", len(batch), "session_id", batch[0].SessionID, "err", err)
			}
			cancel()
		}
		if now := time.Now(); now.Sub(reported) >= dropReportEvery && r.dropped.Load() > 0 {
			r.reportDropped()
			reported = now
		}
	}
}

// waiting appends to batch the announcements already queued, up to
// broadcastBatch in all, without waiting for more.
func (r *Replicas) waiting(batch []core.Announcement) []core.Announcement {
	for len(batch) < broadcastBatch {
		select {
		case a := <-r.queue:
			batch = append(batch, a)
		default:
			return batch
		}
	}
	return batch
}

// reportDropped logs how many announcements the full queue dropped since
// the last report, if any.
func (r *Replicas) reportDropped() {
	if n := r.dropped.Swap(0); n > 0 {
		r.log.Warn("updates were not announced to the other replicas: too many were waiting; the others show them on their next reload", "updates", n)
	}
}

package webhook

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core"
)

// recording is the engine's store with webhook deliveries added to every
// change that records an event: the deliveries go into the change's own
// transaction, so an event the engine acknowledged is never lost to the
// endpoints.
type recording struct {
	core.Store
	hooks Store
	d     *Dispatcher
}

// orphaned is a recording over a store that one process uses
// (core.OrphanReleaser): the claims it releases at start are released
// once, before the Dispatcher claims anything, so that the engine's outbox
// starting a moment later does not take back the Dispatcher's fresh ones.
type orphaned struct{ *recording }

// Wrap returns s, which must also be a Store, with the webhook deliveries
// of d's endpoints added to its writes. It keeps s's optional interfaces
// (core.Broadcaster, core.OrphanReleaser). Give the result to the engine.
func Wrap(s core.Store, d *Dispatcher) core.Store {
	rec := &recording{Store: s, hooks: s.(Store), d: d}
	b, broadcasts := s.(core.Broadcaster)
	if r, ok := s.(core.OrphanReleaser); ok {
		d.release = sync.OnceValues(func() (int, error) {
			d.defaults()
			return r.ReleaseOrphanedClaims(context.Background(), d.Clock.Now())
		})
		o := orphaned{recording: rec}
		if broadcasts {
			return struct {
				orphaned
				core.Broadcaster
			}{o, b}
		}
		return o
	}
	if broadcasts {
		return struct {
			*recording
			core.Broadcaster
		}{rec, b}
	}
	return rec
}

// ReleaseOrphanedClaims implements core.OrphanReleaser, once per process:
// a second call, the Dispatcher's or the engine's outbox's, waits for the
// first and releases nothing more.
func (o orphaned) ReleaseOrphanedClaims(ctx context.Context, now time.Time) (int, error) {
	return o.d.release()
}

// CreateSession implements core.SessionStore.
func (r *recording) CreateSession(ctx context.Context, ch *core.Change) error {
	cp, hooks := r.session(ctx, ch)
	err := r.Store.CreateSession(ctx, cp)
	r.wake(err, hooks)
	return err
}

// UpdateSession implements core.SessionStore.
func (r *recording) UpdateSession(ctx context.Context, ch *core.Change) error {
	cp, hooks := r.session(ctx, ch)
	err := r.Store.UpdateSession(ctx, cp)
	r.wake(err, hooks)
	return err
}

// AppendMessage implements core.ConversationStore.
func (r *recording) AppendMessage(ctx context.Context, ch *core.MessageChange) error {
	eps := r.d.Endpoints()
	if len(eps) == 0 || ch == nil || ch.Message == nil {
		return r.Store.AppendMessage(ctx, ch)
	}
	c := ch.Conversation
	var hooks []*core.Delivery
	if c != nil {
		hooks = queue(hooks, eps, conversationPayload(TypeConversationOpened, c, c.CreatedAt), "", c.ID, c.CreatedAt)
	} else if found, err := r.Store.FindConversation(ctx, ch.Message.ConversationID); err == nil {
		c = found
	} else {
		return r.Store.AppendMessage(ctx, ch) // the store will say what is wrong
	}
	hooks = queue(hooks, eps, messagePayload(ch.Message, c), "", c.ID, ch.Message.At)
	cp := *ch
	cp.Deliveries = append(slices.Clip(ch.Deliveries), hooks...)
	err := r.Store.AppendMessage(ctx, &cp)
	r.wake(err, hooks)
	return err
}

// UpdateConversation implements core.ConversationStore: closing a
// conversation queues conversation.closed with it.
func (r *recording) UpdateConversation(ctx context.Context, c *core.Conversation) error {
	eps := r.d.Endpoints()
	if len(eps) == 0 || c == nil || c.State != core.ConversationClosed {
		return r.Store.UpdateConversation(ctx, c)
	}
	// The stored conversation at c's version is the one c replaces: the
	// write fails on any other.
	old, err := r.Store.FindConversation(ctx, c.ID)
	if err != nil || old.Version != c.Version || old.State == core.ConversationClosed {
		return r.Store.UpdateConversation(ctx, c)
	}
	closed := *c
	hooks := queue(nil, eps, conversationPayload(TypeConversationClosed, &closed, c.UpdatedAt), "", c.ID, c.UpdatedAt)
	err = r.hooks.UpdateConversationQueue(ctx, c, hooks)
	r.wake(err, hooks)
	return err
}

// session returns ch with the webhook deliveries of its events added,
// and those, or ch itself when there are none. The engine's change is
// left as it was: it publishes its own deliveries only.
func (r *recording) session(ctx context.Context, ch *core.Change) (*core.Change, []*core.Delivery) {
	eps := r.d.Endpoints()
	if len(eps) == 0 || ch == nil || ch.Session == nil || len(ch.Events) == 0 && ch.Conversation == nil {
		return ch, nil
	}
	s, c := ch.Session, ch.Conversation
	var hooks []*core.Delivery
	if c != nil {
		hooks = queue(hooks, eps, conversationPayload(TypeConversationOpened, c, c.CreatedAt), "", c.ID, c.CreatedAt)
	} else if found, err := r.Store.FindConversation(ctx, s.ConversationID); err == nil {
		c = found
	}
	convID := s.ConversationID
	for _, ev := range ch.Events {
		hooks = queue(hooks, eps, sessionPayload(s, c, ev), s.ID, convID, ev.At)
	}
	cp := *ch
	cp.Deliveries = append(slices.Clip(ch.Deliveries), hooks...)
	return &cp, hooks
}

// wake tells the Dispatcher about hooks once they are written.
func (r *recording) wake(err error, hooks []*core.Delivery) {
	if err == nil {
		r.d.wakeAfter(hooks)
	}
}

// queue appends to list a delivery of p to each endpoint of eps that
// wants it.
func queue(list []*core.Delivery, eps []*Endpoint, p *Payload, sessionID, convID string, at time.Time) []*core.Delivery {
	var body []byte
	for _, ep := range eps {
		if !ep.Wants(p.Type) {
			continue
		}
		if body == nil {
			var err error
			if body, err = json.Marshal(p); err != nil {
				return list // a payload of plain fields always encodes
			}
		}
		list = append(list, &core.Delivery{
			SessionID: sessionID, ConversationID: convID,
			To:     core.Endpoint{Channel: core.ChannelWebhook, Address: ep.ID},
			Notice: core.Notice{Kind: core.NoticeWebhook, Body: string(body)},
			Status: core.DeliveryQueued, NextAttemptAt: at, CreatedAt: at, UpdatedAt: at,
		})
	}
	return list
}

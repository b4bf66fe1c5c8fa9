package coretest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/webhook"
)

// MemWebhookStore is a MemStore that keeps webhook endpoints and their
// attempts too: webhook.Store in memory, for tests. Its deliveries are
// the MemStore's outbox, so an engine running on the MemStore and the
// webhook side see the same deliveries. Every method takes the
// MemStore's lock once and calls none of its locking methods while it
// holds it, so that nothing waits on itself.
type MemWebhookStore struct {
	*MemStore
	// endpoints, attempts and lastAttempt are guarded by MemStore.mu.
	endpoints   map[string]webhook.Endpoint
	attempts    []webhook.Attempt
	lastAttempt int64
}

var _ webhook.Store = (*MemWebhookStore)(nil)

// NewMemWebhookStore returns a MemWebhookStore over m, or over a new
// MemStore when m is nil.
func NewMemWebhookStore(m *MemStore) *MemWebhookStore {
	if m == nil {
		m = NewMemStore()
	}
	return &MemWebhookStore{MemStore: m, endpoints: map[string]webhook.Endpoint{}}
}

// lock locks the MemStore, and refuses a closed one.
func (w *MemWebhookStore) lock() (unlock func(), err error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, core.Errorf(core.CodeUnavailable, "store closed")
	}
	return w.mu.Unlock, nil
}

// copyEndpoint returns e with its own events; none is nil.
func copyEndpoint(e webhook.Endpoint) webhook.Endpoint {
	e.Events = slices.Clone(e.Events)
	if len(e.Events) == 0 {
		e.Events = nil
	}
	return e
}

// CreateWebhook implements webhook.Store.
func (w *MemWebhookStore) CreateWebhook(ctx context.Context, e *webhook.Endpoint) error {
	unlock, err := w.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := w.endpoints[e.ID]; ok {
		return core.Errorf(core.CodeConflict, "webhook %s already exists", e.ID)
	}
	e.Version = 1
	w.endpoints[e.ID] = copyEndpoint(*e)
	return nil
}

// UpdateWebhook implements webhook.Store.
func (w *MemWebhookStore) UpdateWebhook(ctx context.Context, e *webhook.Endpoint) error {
	unlock, err := w.lock()
	if err != nil {
		return err
	}
	defer unlock()
	old, ok := w.endpoints[e.ID]
	switch {
	case !ok:
		return notFound("webhook")
	case old.Version != e.Version:
		return core.ErrVersion
	}
	stored := copyEndpoint(*e)
	stored.Version++
	w.endpoints[e.ID] = stored
	e.Version++
	return nil
}

// DeleteWebhook implements webhook.Store.
func (w *MemWebhookStore) DeleteWebhook(ctx context.Context, id string, now time.Time) error {
	unlock, err := w.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := w.endpoints[id]; !ok {
		return notFound("webhook")
	}
	delete(w.endpoints, id)
	w.attempts = slices.DeleteFunc(w.attempts, func(a webhook.Attempt) bool { return a.EndpointID == id })
	w.fail(now, func(d *core.Delivery) bool { return d.To.Address == id })
	return nil
}

// fail fails the queued webhook deliveries that gone reports, and
// returns how many. The lock is held.
func (w *MemWebhookStore) fail(now time.Time, gone func(*core.Delivery) bool) int {
	n := 0
	for i := range w.deliveries {
		d := &w.deliveries[i]
		if d.To.Channel != core.ChannelWebhook || d.Status != core.DeliveryQueued || !gone(d) {
			continue
		}
		d.Status, d.Reason, d.UpdatedAt = core.DeliveryFailed, webhook.ReasonGone, now
		d.ClaimToken, d.ClaimUntil = "", time.Time{}
		n++
	}
	return n
}

// FindWebhook implements webhook.Store.
func (w *MemWebhookStore) FindWebhook(ctx context.Context, id string) (*webhook.Endpoint, error) {
	unlock, err := w.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	e, ok := w.endpoints[id]
	if !ok {
		return nil, notFound("webhook")
	}
	e = copyEndpoint(e)
	return &e, nil
}

// FindWebhooks implements webhook.Store.
func (w *MemWebhookStore) FindWebhooks(ctx context.Context) ([]*webhook.Endpoint, error) {
	unlock, err := w.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []*webhook.Endpoint
	for _, e := range w.endpoints {
		e = copyEndpoint(e)
		out = append(out, &e)
	}
	slices.SortFunc(out, func(a, b *webhook.Endpoint) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateConversationQueue implements webhook.Store: UpdateConversation
// and the queueing of ds, all or nothing.
func (w *MemWebhookStore) UpdateConversationQueue(ctx context.Context, c *core.Conversation, ds []*core.Delivery) error {
	if c == nil {
		return core.Errorf(core.CodeInvalid, "no conversation")
	}
	unlock, err := w.lock()
	if err != nil {
		return err
	}
	defer unlock()
	old, ok := w.conversations[c.ID]
	if !ok {
		return notFound("conversation")
	}
	if old.Version != c.Version {
		return core.ErrVersion
	}
	if c.State == core.ConversationOpen && !c.Customer.IsZero() {
		for id, o := range w.conversations {
			if id != c.ID && o.State == core.ConversationOpen && o.Customer == c.Customer {
				return core.ErrOpenConversation
			}
		}
	}
	c.Version++
	w.conversations[c.ID] = *c
	w.queue(ds)
	return nil
}

// ClaimWebhookDeliveries implements webhook.Store.
func (w *MemWebhookStore) ClaimWebhookDeliveries(ctx context.Context, id string, now time.Time, limit int, lease time.Duration) ([]*core.Delivery, error) {
	unlock, err := w.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []*core.Delivery
	if limit < 1 {
		return out, nil
	}
	token := core.NewID()
	for i := range w.deliveries {
		d := &w.deliveries[i]
		if d.To.Channel != core.ChannelWebhook || d.To.Address != id || d.Status != core.DeliveryQueued {
			continue
		}
		if len(out) == limit || d.NextAttemptAt.After(now) || d.ClaimUntil.After(now) {
			break // the later ones wait for this one
		}
		d.Attempts++
		d.NextAttemptAt, d.ClaimUntil, d.ClaimToken = now.Add(lease), now.Add(lease), token
		c := *d
		out = append(out, &c)
	}
	return out, nil
}

// RecordWebhookAttempt implements webhook.Store.
func (w *MemWebhookStore) RecordWebhookAttempt(ctx context.Context, a *webhook.Attempt, disableAfter time.Duration) (bool, error) {
	unlock, err := w.lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	e, ok := w.endpoints[a.EndpointID]
	if !ok {
		return false, notFound("webhook")
	}
	disabled := false
	if a.OK() {
		e.LastSuccessAt, e.FailingSince = a.At, time.Time{}
	} else {
		if e.FailingSince.IsZero() {
			e.FailingSince = a.At
		}
		if disableAfter > 0 && e.Enabled() && !e.FailingSince.After(a.At.Add(-disableAfter)) {
			e.DisabledAt, e.UpdatedAt = a.At, a.At
			e.DisabledReason = fmt.Sprintf("no successful delivery for %s; last error: %s", disableAfter, a.Error)
			e.Version++
			disabled = true
		}
	}
	w.endpoints[e.ID] = e
	w.lastAttempt++
	a.ID = w.lastAttempt
	w.attempts = append(w.attempts, *a)
	return disabled, nil
}

// FindWebhookDeliveries implements webhook.Store.
func (w *MemWebhookStore) FindWebhookDeliveries(ctx context.Context, id string, before int64, n int) ([]*core.Delivery, error) {
	unlock, err := w.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []*core.Delivery
	for i := len(w.deliveries) - 1; i >= 0 && len(out) < limit(n); i-- {
		d := w.deliveries[i]
		if d.To.Channel != core.ChannelWebhook || d.To.Address != id || (before > 0 && d.ID >= before) {
			continue
		}
		out = append(out, &d)
	}
	return out, nil
}

// FindWebhookAttempts implements webhook.Store.
func (w *MemWebhookStore) FindWebhookAttempts(ctx context.Context, deliveryIDs []int64) ([]webhook.Attempt, error) {
	unlock, err := w.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []webhook.Attempt
	for _, a := range w.attempts {
		if slices.Contains(deliveryIDs, a.DeliveryID) {
			out = append(out, a)
		}
	}
	return out, nil
}

// FailWebhookDeliveries implements webhook.Store.
func (w *MemWebhookStore) FailWebhookDeliveries(ctx context.Context, now time.Time) (int, error) {
	unlock, err := w.lock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	return w.fail(now, func(d *core.Delivery) bool {
		e, ok := w.endpoints[d.To.Address]
		return !ok || !e.Enabled()
	}), nil
}

package core

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Session returns the session with id as of now: a session whose PIN
// lifetime passed reads as expired at once.
func (e *Engine) Session(ctx context.Context, id string) (*Session, error) {
	s, err := e.store.FindSession(ctx, id)
	if err != nil {
		return nil, err
	}
	s.State = s.Current(e.clock.Now())
	return s, nil
}

// SessionByPIN returns the session whose PIN a customer may still use.
// Unknown, expired, revoked and used PINs all give ErrUnknownPIN. It
// changes nothing: the portal calls it to show a landing page.
func (e *Engine) SessionByPIN(ctx context.Context, pin string) (*Session, error) {
	if !ValidPIN(pin) {
		return nil, ErrUnknownPIN
	}
	s, err := e.store.FindSessionByPIN(ctx, pin)
	if ErrorCode(err) == CodeNotFound {
		return nil, ErrUnknownPIN
	}
	if err != nil {
		return nil, err
	}
	if s.Current(e.clock.Now()) != s.State {
		return nil, ErrUnknownPIN
	}
	return s, nil
}

// Sessions returns the sessions matching f as of now, newest first.
// Filtering on expired includes sessions whose lifetime passed but whose
// expiry the sweeper has not recorded yet; filtering on issued or sent
// excludes them.
func (e *Engine) Sessions(ctx context.Context, f SessionFilter) ([]*Session, error) {
	want := map[State]bool{}
	q := f
	if len(f.States) > 0 {
		q.States = nil
		for _, s := range f.States {
			want[s] = true
			q.States = append(q.States, s)
		}
		if want[StateExpired] {
			q.States = append(q.States, StateIssued, StateSent)
		}
	}
	found, err := e.store.FindSessions(ctx, q)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	out := found[:0]
	for _, s := range found {
		s.State = s.Current(now)
		if len(want) == 0 || want[s.State] {
			out = append(out, s)
		}
	}
	return out, nil
}

// Conversation returns the conversation with id.
func (e *Engine) Conversation(ctx context.Context, id string) (*Conversation, error) {
	return e.store.FindConversation(ctx, id)
}

// Events returns the event log of session id, oldest first.
func (e *Engine) Events(ctx context.Context, id string) ([]Event, error) {
	if _, err := e.store.FindSession(ctx, id); err != nil {
		return nil, err
	}
	return e.store.FindEvents(ctx, id)
}

// Deliveries returns the outbox entries of session id, newest first.
func (e *Engine) Deliveries(ctx context.Context, id string) ([]*Delivery, error) {
	return e.store.FindDeliveries(ctx, DeliveryFilter{SessionID: id})
}

// ReportDelivery applies a platform's later report on a message it
// accepted (a Twilio status callback): delivered, or failed with a reason.
// A report about a delivery already delivered or failed changes nothing.
func (e *Engine) ReportDelivery(ctx context.Context, channel, externalID string, status DeliveryStatus, reason string) (*Delivery, error) {
	if status != DeliverySent && status != DeliveryDelivered && status != DeliveryFailed {
		return nil, Errorf(CodeInvalid, "a platform cannot report status %q", status)
	}
	d, err := e.store.FindDeliveryByExternalID(ctx, channel, externalID)
	if err != nil {
		return nil, err
	}
	if d.Status == DeliveryDelivered || d.Status == DeliveryFailed || d.Status == status {
		return d, nil
	}
	d.Status, d.UpdatedAt = status, e.clock.Now()
	if status == DeliveryFailed {
		d.Reason = reason
	}
	if err := e.store.UpdateDelivery(ctx, d); err != nil {
		if errors.Is(err, ErrDeliveryFinal) {
			return e.store.FindDelivery(ctx, d.ID)
		}
		return nil, err
	}
	e.publishDelivery(ctx, d)
	return d, nil
}

// publish announces a committed change.
func (e *Engine) publish(ch *Change) {
	for i := range ch.Events {
		s := *ch.Session
		u := Update{Session: &s, Event: &ch.Events[i]}
		if i == len(ch.Events)-1 && len(ch.Deliveries) > 0 {
			u.Delivery = ch.Deliveries[0]
		}
		e.emit(u)
	}
	if len(ch.Deliveries) > 0 {
		e.outbox.wake()
	}
}

// publishDelivery announces a delivery whose status changed, with its
// session when it has one.
func (e *Engine) publishDelivery(ctx context.Context, d *Delivery) {
	u := Update{Delivery: d}
	if d.SessionID != "" {
		if s, err := e.store.FindSession(ctx, d.SessionID); err == nil {
			s.State = s.Current(e.clock.Now())
			u.Session = s
		}
	}
	e.emit(u)
}

func (e *Engine) emit(u Update) {
	if e.observe != nil {
		e.observe(u)
	}
	e.hub.Publish(u)
}

// Run delivers the outbox and records expiries until ctx ends, then lets
// the deliveries in flight finish (each within its own timeout) and
// returns nil.
// When the provider is a Watcher, Run also lets it watch the sessions it
// issued and applies what it reports.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { e.sweep(ctx) })
	if w, ok := e.provider.(Watcher); ok {
		wg.Go(func() {
			if err := w.Watch(ctx, e.watched, e.report); err != nil && ctx.Err() == nil {
				e.log.Error("provider watch stopped", "provider", e.provider.Name(), "err", err)
			}
		})
	}
	e.outbox.run(ctx)
	wg.Wait()
	return nil
}

// watched returns the provider's sessions that can still change.
func (e *Engine) watched(ctx context.Context) ([]*Session, error) {
	const most = 1000
	all, err := e.store.FindSessions(ctx, SessionFilter{States: []State{StateIssued, StateSent, StateWaiting, StateActive}, Limit: most})
	if err != nil {
		return nil, err
	}
	if len(all) == most {
		// The newest are watched; a desk with this many open sessions
		// needs more than one provider account anyway.
		e.log.Warn("more open sessions than the provider watch follows", "watched", most)
	}
	out := all[:0]
	for _, s := range all {
		if s.Provider == e.provider.Name() {
			out = append(out, s)
		}
	}
	return out, nil
}

// report applies a watcher's report; a report the state machine refuses
// (the watcher saw a change twice) is logged, not fatal to the watch.
func (e *Engine) report(ctx context.Context, r StatusReport) error {
	_, err := e.Report(ctx, r)
	if err != nil && ErrorCode(err) == CodeInvalidTransition {
		e.log.Debug("provider report ignored", "session_id", r.SessionID, "action", r.Action, "err", err)
		return nil
	}
	return err
}

// sweep records expiries every few seconds; readers already see expired
// sessions as such, so this only writes the log entry and the alert.
func (e *Engine) sweep(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		if n, err := e.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("expire sessions", "err", err)
		} else if n > 0 {
			e.log.Info("sessions expired", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

const sweepEvery = 5 * time.Second

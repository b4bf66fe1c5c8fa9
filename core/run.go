package core

import (
	"context"
	"sync"
	"time"
)

// Run delivers the outbox and records expiries until ctx ends, then lets
// the deliveries in flight finish (each within its own timeout) and
// returns nil.
// When the provider is a Watcher, Run also lets it watch the sessions it
// issued and applies what it reports; with Replicas, Run announces this
// replica's updates to the others and publishes theirs here.
func (e *Engine) Run(ctx context.Context) error {
	e.channels.freeze()
	var wg sync.WaitGroup
	wg.Go(func() { e.sweep(ctx) })
	if e.replicas != nil {
		wg.Go(func() {
			e.replicas.Run(ctx, func(u Update) {
				u.Heard = true
				e.hub.Publish(u)
			}, e.hub.DropAll) // every live view reloads what it shows
		})
	}
	if w, ok := e.provider.(Watcher); ok {
		wg.Go(func() {
			if err := w.Watch(ctx, e.watched, e.report); err != nil && ctx.Err() == nil {
				e.log.Error("provider watch stopped", "provider", e.provider.Name(), "err", err)
			}
		})
	}
	if e.courier != nil {
		e.courier.Run(ctx, e.dispatch())
	} else {
		<-ctx.Done()
	}
	wg.Wait()
	e.stopOnce.Do(func() { close(e.stopped) })
	e.releasing.Wait()
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

// sweep records expiries, escalations and reminders every few seconds;
// readers already see expired sessions as such, so for them this only
// writes the log entry and the alert.
func (e *Engine) sweep(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		if n, err := e.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("expire sessions", "err", err)
		} else if n > 0 {
			e.log.Info("sessions expired", "count", n)
		}
		if n, err := e.RecordDue(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("record what is due", "err", err)
		} else if n > 0 {
			e.log.Info("desk reminded of waiting customers", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

const sweepEvery = 5 * time.Second

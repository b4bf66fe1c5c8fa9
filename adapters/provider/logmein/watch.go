package logmein

import (
	"context"
	"fmt"
	"time"

	"github.com/assistbot/assistbot/core"
)

// maxBackoff caps the wait between polls while getSession keeps failing.
const maxBackoff = 5 * time.Minute

// Watch implements core.Watcher. Every PollInterval it asks live for the
// sessions that can still change and, only when there are some, polls
// getSession for the node and reports what moved: Connecting or Waiting
// is the customer joining, Active is the technician starting (in control
// mode, the console's default; getSession does not say), and Closed…,
// Timed out… or Aborted… is the end. A session first seen further along
// gets the steps it skipped, so the engine's state machine accepts them.
// Failures back off, doubling up to five minutes. Watch returns nil when
// ctx ends.
func (p *Provider) Watch(ctx context.Context, live func(context.Context) ([]*core.Session, error), report func(context.Context, core.StatusReport) error) error {
	if p.opt.NodeID == "" {
		// getSession lists the sessions of a node and requires one.
		p.log.Warn("logmein: session status is not followed: set logmein.node_id to the technician's node ID")
		<-ctx.Done()
		return nil
	}
	w := &watcher{p: p, live: live, report: report, reported: map[string]phase{}, unknown: map[string]bool{}}
	t := time.NewTimer(0)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		err := w.poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			failures = 0
			t.Reset(p.opt.PollInterval)
			continue
		}
		failures++
		wait := backoff(p.opt.PollInterval, failures)
		p.log.Warn("logmein: poll session status", "err", err, "failures", failures, "next_in", wait)
		t.Reset(wait)
	}
}

// backoff is the wait after the failures-th failure in a row.
func backoff(interval time.Duration, failures int) time.Duration {
	return min(interval<<min(failures, 8), max(interval, maxBackoff))
}

// watcher is the state of one Watch: what it reported per session, so
// each change is reported once even before the engine's state shows it.
type watcher struct {
	p        *Provider
	live     func(context.Context) ([]*core.Session, error)
	report   func(context.Context, core.StatusReport) error
	reported map[string]phase
	unknown  map[string]bool // statuses already warned about
}

// poll does one round; it returns an error only when the round could not
// look (live or getSession failed), which backs off.
func (w *watcher) poll(ctx context.Context) error {
	sessions, err := w.live(ctx)
	if err != nil {
		return fmt.Errorf("logmein: live sessions: %w", err)
	}
	ids := map[string]bool{}  // the open sessions
	keys := map[string]bool{} // their PINs' keys
	var open []*core.Session
	for _, s := range sessions {
		if s.State.Open() {
			ids[s.ID] = true
			keys[matchKey(s)] = true
			open = append(open, s)
		}
	}
	for id := range w.reported {
		if !ids[id] {
			delete(w.reported, id)
		}
	}
	if len(open) == 0 {
		return nil
	}
	rows, err := w.p.sessions(ctx)
	if err != nil {
		return fmt.Errorf("logmein: get sessions: %w", err)
	}
	found := match(rows, keys)
	for _, s := range open {
		r, ok := found[matchKey(s)]
		if !ok {
			continue
		}
		to, known := phaseOf(r.status)
		if !known {
			w.warnUnknown(r.status)
			continue
		}
		w.advance(ctx, s, r, to)
	}
	return nil
}

// step is one report that moves a session to a phase.
type step struct {
	action core.Action
	to     phase
}

// steps returns the reports that take a session from one phase to a
// later one; none when it is not later.
func steps(from, to phase) []step {
	if to <= from {
		return nil
	}
	var out []step
	if from < phaseJoined {
		out = append(out, step{core.ActionJoin, phaseJoined})
	}
	switch to {
	case phaseActive:
		out = append(out, step{core.ActionStart, phaseActive})
	case phaseEnded:
		out = append(out, step{core.ActionEnd, phaseEnded})
	}
	return out
}

// advance reports the steps from where the session is to phase to. A
// report that fails is logged and tried again at the next poll.
func (w *watcher) advance(ctx context.Context, s *core.Session, r row, to phase) {
	from := max(phaseOfState(s.State), w.reported[s.ID])
	for _, st := range steps(from, to) {
		rep := core.StatusReport{SessionID: s.ID, Action: st.action}
		switch st.action {
		case core.ActionJoin:
			rep.Device = core.DeviceUnknown // getSession does not say
		case core.ActionStart:
			rep.Mode, rep.Technician = core.ModeControl, r.technician
		}
		if err := w.report(ctx, rep); err != nil {
			if ctx.Err() == nil {
				w.p.log.Warn("logmein: report session status", "session_id", s.ID, "action", st.action, "err", err)
			}
			return
		}
		w.reported[s.ID] = st.to
		w.p.log.Info("logmein: session status", "session_id", s.ID, "status", r.status, "action", st.action)
	}
}

// warnUnknown logs a status it cannot map, once per status.
func (w *watcher) warnUnknown(status string) {
	if w.unknown[status] || len(w.unknown) > 100 {
		return
	}
	w.unknown[status] = true
	w.p.log.Warn("logmein: unknown session status; the session is left as it is (the Rescue user behind the authcode should use English)",
		"status", status)
}

package meshcentral

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core"
)

// Watch implements core.Watcher without polling: it keeps the control
// connection open (reconnecting with backoff, logging while the server
// cannot be reached) and follows the events the server pushes. An agent
// connecting in the group of a session whose PIN is live is the customer
// joining, from a desktop or, with MeshCentral's Android agent, a mobile;
// the last agent of an active session's group disconnecting is the end.
// After each connection opens it lists the groups of the live sessions
// once, to catch what happened while it was closed. It returns nil when
// ctx ends.
func (p *Provider) Watch(ctx context.Context, live func(context.Context) ([]*core.Session, error), report func(context.Context, core.StatusReport) error) error {
	w := &watcher{p: p, live: live, report: report, reported: map[string]core.Action{}}
	defer w.stopRetry()
	return p.client.Listen(ctx, w.locked(w.sync), func(ctx context.Context, push Push) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.push(ctx, push)
	})
}

// watcher is the state of one Watch. Its methods run one at a time, under
// mu: on the Listen goroutine, or on the retry timer's.
type watcher struct {
	p      *Provider
	live   func(context.Context) ([]*core.Session, error)
	report func(context.Context, core.StatusReport) error

	mu sync.Mutex
	// reported is what was last reported per session, so that a report
	// is not repeated before the engine's state shows it.
	reported map[string]core.Action
	retry    *time.Timer
}

// locked returns f run under w.mu.
func (w *watcher) locked(f func(context.Context)) func(context.Context) {
	return func(ctx context.Context) {
		w.mu.Lock()
		defer w.mu.Unlock()
		f(ctx)
	}
}

// retryLater looks at the live sessions again in a while, unless that is
// planned already.
func (w *watcher) retryLater(ctx context.Context) {
	if w.retry != nil {
		return
	}
	again := w.locked(w.sync)
	w.retry = time.AfterFunc(w.p.opt.ReportRetry, func() {
		w.mu.Lock()
		w.retry = nil
		w.mu.Unlock()
		if ctx.Err() == nil {
			again(ctx)
		}
	})
}

// stopRetry cancels a planned retry.
func (w *watcher) stopRetry() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.retry != nil {
		w.retry.Stop()
		w.retry = nil
	}
}

// sessions returns the open sessions that have a device group, by group,
// and forgets what it reported about sessions that are no longer open.
func (w *watcher) sessions(ctx context.Context) (map[string]*core.Session, bool) {
	all, err := w.live(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.p.log.Warn("meshcentral: list live sessions", "err", err)
		}
		return nil, false
	}
	out := map[string]*core.Session{}
	open := map[string]bool{}
	for _, s := range all {
		if s.State.Open() && strings.HasPrefix(s.ProviderRef, "mesh/") {
			out[s.ProviderRef] = s
			open[s.ID] = true
		}
	}
	for id := range w.reported {
		if !open[id] {
			delete(w.reported, id)
		}
	}
	return out, true
}

// sync catches up after a connection opens: an agent already in a live
// session's group is a join, an active session whose group has none an
// end.
func (w *watcher) sync(ctx context.Context) {
	byMesh, ok := w.sessions(ctx)
	if !ok {
		return
	}
	for meshID, s := range byMesh {
		if !s.State.PINLive() && s.State != core.StateActive {
			continue
		}
		nodes, err := w.p.client.Nodes(ctx, meshID)
		if err != nil {
			if ctx.Err() == nil && !IsResult(err, "Invalid group id") {
				w.p.log.Warn("meshcentral: list a live session's devices", "session_id", s.ID, "err", err)
			}
			continue
		}
		w.apply(ctx, s, nodes)
	}
}

// push follows the agents' comings and goings.
func (w *watcher) push(ctx context.Context, p Push) {
	e := p.Event
	if p.Action != "event" || e.Action != "nodeconnect" || e.MeshID == "" {
		return
	}
	byMesh, ok := w.sessions(ctx)
	if !ok {
		return
	}
	s := byMesh[e.MeshID]
	if s == nil {
		return
	}
	arrived := e.Conn&1 != 0
	if arrived && !s.State.PINLive() || !arrived && s.State != core.StateActive {
		return
	}
	// The event does not say what the device is, nor whether another
	// agent of the group is still there.
	nodes, err := w.p.client.Nodes(ctx, e.MeshID)
	if err != nil {
		if ctx.Err() == nil {
			w.p.log.Warn("meshcentral: list a session's devices", "session_id", s.ID, "err", err)
		}
		return
	}
	w.apply(ctx, s, nodes)
}

// apply reports what the devices of s's group mean for it.
func (w *watcher) apply(ctx context.Context, s *core.Session, nodes []Node) {
	n, up := pickNode(nodes)
	switch {
	case up && s.State.PINLive():
		dev := core.DeviceDesktop
		if n.Mobile() {
			dev = core.DeviceMobile
		}
		w.send(ctx, core.StatusReport{SessionID: s.ID, Action: core.ActionJoin, Device: dev})
	case !up && s.State == core.StateActive:
		w.send(ctx, core.StatusReport{SessionID: s.ID, Action: core.ActionEnd})
	}
}

// send reports once per session and action; a report that fails is
// logged, and made again a few seconds later.
func (w *watcher) send(ctx context.Context, r core.StatusReport) {
	if w.reported[r.SessionID] == r.Action {
		return
	}
	if err := w.report(ctx, r); err != nil {
		if ctx.Err() == nil {
			w.p.log.Warn("meshcentral: report session status", "session_id", r.SessionID, "action", r.Action, "err", err, "retry_in", w.p.opt.ReportRetry)
			w.retryLater(ctx)
		}
		return
	}
	w.reported[r.SessionID] = r.Action
	w.p.log.Info("meshcentral: session status", "session_id", r.SessionID, "action", r.Action, "device", r.Device)
}

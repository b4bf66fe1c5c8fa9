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
// joining, from a desktop or, with MeshCentral's Android agent, a mobile:
// once the engine takes the join, the group's invite code goes, so that
// the PIN lets no one else in. The last agent of a waiting or active
// session's group disconnecting is the end. After each connection opens
// it lists the groups of the live sessions once, to catch what happened
// while it was closed; a waiting or active session found without an agent
// then ends only if none is back EndGrace later, since after a server
// restart the customers' agents reconnect too. It returns nil when ctx
// ends.
func (p *Provider) Watch(ctx context.Context, live func(context.Context) ([]*core.Session, error), report func(context.Context, core.StatusReport) error) error {
	w := &watcher{p: p, live: live, report: report, reported: map[string]core.Action{}, failed: map[string]core.Action{}, missing: map[string]bool{}}
	defer w.stopTimers()
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
	// failed is the action of each session's last report that failed,
	// which the retry makes again without waiting EndGrace: what it
	// reports was seen, not found after a restart.
	failed map[string]core.Action
	retry  *time.Timer
	// missing are the groups of waiting or active sessions that had no
	// agent when the connection opened, to look at again at recheck.
	missing map[string]bool
	recheck *time.Timer
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
	w.later(ctx, &w.retry, w.p.opt.ReportRetry, w.sync)
}

// recheckLater looks again, EndGrace from now, at the groups found
// without an agent, unless that is planned already.
func (w *watcher) recheckLater(ctx context.Context) {
	w.later(ctx, &w.recheck, w.p.opt.EndGrace, w.confirmEnds)
}

// later runs f under w.mu after d, with *timer set meanwhile, unless
// *timer is set already.
func (w *watcher) later(ctx context.Context, timer **time.Timer, d time.Duration, f func(context.Context)) {
	if *timer != nil {
		return
	}
	again := w.locked(f)
	*timer = time.AfterFunc(d, func() {
		w.mu.Lock()
		*timer = nil
		w.mu.Unlock()
		if ctx.Err() == nil {
			again(ctx)
		}
	})
}

// stopTimers cancels a planned retry and recheck.
func (w *watcher) stopTimers() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range []**time.Timer{&w.retry, &w.recheck} {
		if *t != nil {
			(*t).Stop()
			*t = nil
		}
	}
}

// sessions returns the open sessions that have a device group, by group,
// and forgets what it reported about sessions that are no longer open. A
// failure is logged, and everything looked at again ReportRetry later:
// the push that asked is not sent again.
func (w *watcher) sessions(ctx context.Context) (map[string]*core.Session, bool) {
	all, err := w.live(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.p.log.Warn("meshcentral: list live sessions", "err", err, "retry_in", w.p.opt.ReportRetry)
			w.retryLater(ctx)
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
	for id := range w.failed {
		if !open[id] {
			delete(w.failed, id)
		}
	}
	return out, true
}

// sync catches up after a connection opens: an agent already in a live
// session's group is a join; a waiting or active session whose group has
// none is looked at again EndGrace later.
func (w *watcher) sync(ctx context.Context) {
	byMesh, ok := w.sessions(ctx)
	if !ok {
		return
	}
	for meshID, s := range byMesh {
		if !s.State.PINLive() && !joined(s.State) {
			continue
		}
		nodes, ok := w.nodes(ctx, s)
		if !ok {
			continue
		}
		if _, up := pickNode(nodes); !up && joined(s.State) && w.failed[s.ID] != core.ActionEnd {
			w.missing[meshID] = true
			w.recheckLater(ctx)
			continue
		}
		w.apply(ctx, s, nodes)
	}
}

// confirmEnds reports the end of the sessions whose groups sync found
// without an agent and that still have none.
func (w *watcher) confirmEnds(ctx context.Context) {
	if len(w.missing) == 0 {
		return
	}
	byMesh, ok := w.sessions(ctx)
	if !ok {
		w.recheckLater(ctx)
		return
	}
	for meshID := range w.missing {
		s := byMesh[meshID]
		if s == nil || !joined(s.State) {
			delete(w.missing, meshID)
			continue
		}
		if nodes, ok := w.nodes(ctx, s); ok {
			delete(w.missing, meshID)
			w.apply(ctx, s, nodes)
		}
	}
	if len(w.missing) > 0 {
		w.recheckLater(ctx) // the groups that could not be listed
	}
}

// nodes lists the devices of s's group. A failure other than the group
// being gone is logged, and the live sessions looked at again
// ReportRetry later.
func (w *watcher) nodes(ctx context.Context, s *core.Session) ([]Node, bool) {
	nodes, err := w.p.client.Nodes(ctx, s.ProviderRef)
	if err != nil {
		if ctx.Err() == nil && !IsResult(err, "Invalid group id") {
			w.p.log.Warn("meshcentral: list a live session's devices", "session_id", s.ID, "err", err, "retry_in", w.p.opt.ReportRetry)
			w.retryLater(ctx)
		}
		return nil, false
	}
	return nodes, true
}

// joined reports whether a session in state st has had its customer's
// agent: its end is the agent leaving.
func joined(st core.State) bool { return st == core.StateWaiting || st == core.StateActive }

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
	if arrived && !s.State.PINLive() || !arrived && !joined(s.State) {
		return
	}
	// The event does not say what the device is, nor whether another
	// agent of the group is still there.
	if nodes, ok := w.nodes(ctx, s); ok {
		w.apply(ctx, s, nodes)
	}
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
		if w.send(ctx, core.StatusReport{SessionID: s.ID, Action: core.ActionJoin, Device: dev}) {
			w.closeInvite(ctx, s)
		}
	case !up && joined(s.State):
		w.send(ctx, core.StatusReport{SessionID: s.ID, Action: core.ActionEnd})
	}
}

// closeInvite removes the invite code of a session whose customer has
// joined: the PIN has done its work, and anyone else who had it could
// otherwise fetch the program and connect in the customer's group. Should
// it fail, the code still goes when the session is released.
func (w *watcher) closeInvite(ctx context.Context, s *core.Session) {
	if err := w.p.client.ClearInviteCodes(ctx, s.ProviderRef); err != nil && ctx.Err() == nil {
		w.p.log.Warn("meshcentral: remove the invite code of a joined session", "session_id", s.ID, "err", err)
	}
}

// send reports once per session and action, and says whether it
// reported now; a report that fails is logged, and made again a few
// seconds later.
func (w *watcher) send(ctx context.Context, r core.StatusReport) bool {
	if w.reported[r.SessionID] == r.Action {
		return false
	}
	if err := w.report(ctx, r); err != nil {
		if ctx.Err() == nil {
			w.p.log.Warn("meshcentral: report session status", "session_id", r.SessionID, "action", r.Action, "err", err, "retry_in", w.p.opt.ReportRetry)
			w.failed[r.SessionID] = r.Action
			w.retryLater(ctx)
		}
		return false
	}
	delete(w.failed, r.SessionID)
	w.reported[r.SessionID] = r.Action
	w.p.log.Info("meshcentral: session status", "session_id", r.SessionID, "action", r.Action, "device", r.Device)
	return true
}

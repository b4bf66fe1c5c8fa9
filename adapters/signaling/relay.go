package signaling

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core"
)

// ShareResume is how long a room keeps the place of a page whose
// connection dropped: a page that reconnects within it is "back", and the
// other side never sees it leave.
const ShareResume = 30 * time.Second

// signalQueue is how many messages may wait for a slow page before the
// hub gives up on it.
const signalQueue = 64

// relay pairs the two pages of a screen share — the customer's portal
// page and the technician's console — in a room per session, and relays
// the signaling messages between them. It knows who shares what and
// writes the share's start, stop and refusal into the session's log. It
// never sees media: that flows browser to browser.
type relay struct {
	engine Engine
	log    *slog.Logger
	// resume is the window of a dropped page; after starts its timer and
	// returns the function that stops it (time.AfterFunc, in tests a
	// timer the test fires).
	resume time.Duration
	after  func(d time.Duration, f func()) (stop func() bool)

	mu    sync.Mutex
	rooms map[string]*room
}

// room is one session's share: at most one page per role, and the places
// kept for pages that dropped.
type room struct {
	id    string
	peers map[role]*peer
	away  map[role]*awayTimer
	// sharing is what the customer shares ("screen", "camera"), or "".
	sharing string
}

// awayTimer is the resume window of a page that dropped.
type awayTimer struct{ stop func() bool }

// peer is one page's connection as the hub sees it: a queue of messages
// for the page, and a way to ask its connection to close.
type peer struct {
	role role
	// who is whom the page connected as: the technician's name, or the
	// customer's key (core.Session.CustomerKey) as it was then.
	who  string
	room *room
	out  chan []byte
	quit chan struct{} // closed to close the connection
	once sync.Once
	// code and reason are the close frame's, set before quit closes.
	code   int
	reason string
}

// newPeer returns the connection of a page that connected as who, before
// it joins a room.
func newPeer(r role, who string) *peer {
	return &peer{role: r, who: who, out: make(chan []byte, signalQueue), quit: make(chan struct{})}
}

// send queues m for the page; a page too slow to take its messages is
// disconnected rather than let the queue grow.
func (p *peer) send(m *signal) {
	select {
	case p.out <- m.encode():
	default:
		p.close(closeTooSlow, "too slow to receive")
	}
}

// close asks the page's connection to close with code and reason once
// what is queued has been written.
func (p *peer) close(code int, reason string) {
	p.once.Do(func() {
		p.code, p.reason = code, reason
		close(p.quit)
	})
}

// Close codes of the signaling socket besides the standard ones: the
// 4000s are the application's own.
const (
	closeNormal    = 1000
	closeGoingAway = 1001
	closePolicy    = 1008
	closeTooSlow   = 4008
)

// note is a log entry a change in a room calls for, written after the
// hub's lock is released.
type note struct {
	id     string
	action core.Action
	detail string
}

func newRelay(e Engine, log *slog.Logger) *relay {
	return &relay{
		engine: e,
		log:    log,
		resume: ShareResume,
		after: func(d time.Duration, f func()) func() bool {
			return time.AfterFunc(d, f).Stop
		},
		rooms: make(map[string]*room),
	}
}

// join puts p in the room of session id. A page of the same role already
// there is replaced: it is told so and disconnected, and a share it was
// making stops. The page is welcomed with what it joined; the other side
// is told it joined, or that it is back within its resume window.
func (h *relay) join(id string, p *peer) {
	h.mu.Lock()
	var notes []note
	r := h.rooms[id]
	if r == nil {
		r = &room{id: id, peers: make(map[role]*peer), away: make(map[role]*awayTimer)}
		h.rooms[id] = r
	}
	if old := r.peers[p.role]; old != nil {
		old.send(&signal{Type: signalTypeBye, Reason: "replaced"})
		old.close(closeNormal, "replaced by another page")
		old.room = nil
		if p.role == roleCustomer && r.sharing != "" {
			r.sharing = ""
			notes = append(notes, note{id, core.ActionShareStop, "replaced by another device"})
		}
	}
	state := "joined"
	if t := r.away[p.role]; t != nil {
		t.stop()
		delete(r.away, p.role)
		state = "back"
	}
	r.peers[p.role] = p
	p.room = r
	other := r.peers[p.role.other()]
	present := other != nil
	p.send(&signal{Type: signalTypeWelcome, Peer: &present, Sharing: r.sharing})
	if other != nil {
		other.send(&signal{Type: signalTypePeer, Role: p.role, State: state})
	}
	h.mu.Unlock()
	h.record(notes)
}

// leaving is how a page's connection ended.
type leaving int

const (
	// leftDropped: the connection broke (the network, a sleeping phone).
	// Media flows browser to browser and may well go on.
	leftDropped leaving = iota
	// leftClosed: the page went away (closed, reloaded, navigated); its
	// share, if any, has stopped with it.
	leftClosed
	// leftBye: the page said it is leaving.
	leftBye
	// leftBroken: the page broke the rules and was disconnected.
	leftBroken
)

// leave takes p out of its room. A page that dropped or went away keeps
// its place for the resume window and the other side sees it "away"; one
// that said bye, or broke the rules, is gone at once.
func (h *relay) leave(p *peer, how leaving) {
	h.mu.Lock()
	r := p.room
	if r == nil || r.peers[p.role] != p {
		h.mu.Unlock()
		return
	}
	delete(r.peers, p.role)
	p.room = nil
	var notes []note
	if how == leftClosed && p.role == roleCustomer && r.sharing != "" {
		r.sharing = ""
		notes = append(notes, note{r.id, core.ActionShareStop, "the customer's page was closed"})
	}
	if (how == leftDropped || how == leftClosed) && h.resume > 0 {
		if other := r.peers[p.role.other()]; other != nil {
			other.send(&signal{Type: signalTypePeer, Role: p.role, State: "away"})
		}
		h.keepPlace(r, p.role)
	} else {
		notes = append(notes, h.gone(r, p.role, "the customer left")...)
	}
	h.mu.Unlock()
	h.record(notes)
}

// keepPlace opens the resume window of role who in r, replacing one open
// already. h.mu is held.
func (h *relay) keepPlace(r *room, who role) {
	if old := r.away[who]; old != nil {
		old.stop()
	}
	t := &awayTimer{}
	r.away[who] = t
	t.stop = h.after(h.resume, func() { h.expire(r, who, t) })
}

// expire ends the resume window t of role in r, if it is still open.
func (h *relay) expire(r *room, who role, t *awayTimer) {
	h.mu.Lock()
	if r.away[who] != t {
		h.mu.Unlock()
		return
	}
	delete(r.away, who)
	notes := h.gone(r, who, "the customer's connection was lost")
	h.mu.Unlock()
	h.record(notes)
}

// gone tells the other side that who has left for good, stops the share
// if the customer was making one, and forgets an empty room. h.mu is held.
func (h *relay) gone(r *room, who role, why string) []note {
	var notes []note
	if other := r.peers[who.other()]; other != nil {
		other.send(&signal{Type: signalTypePeer, Role: who, State: "gone"})
	}
	if who == roleCustomer && r.sharing != "" {
		r.sharing = ""
		notes = append(notes, note{r.id, core.ActionShareStop, why})
	}
	h.forget(r)
	return notes
}

// forget drops r when nobody is in it or expected back. h.mu is held.
func (h *relay) forget(r *room) {
	if len(r.peers) == 0 && len(r.away) == 0 && h.rooms[r.id] == r {
		delete(h.rooms, r.id)
	}
}

// handle acts on a message p sent, already parsed and checked. It returns
// false when the message is not one p's role may send; the caller closes
// the connection.
func (h *relay) handle(p *peer, m *signal) bool {
	if !allowedFrom(p.role, m.Type) {
		return false
	}
	if m.Type == signalTypeBye {
		h.leave(p, leftBye)
		p.close(closeNormal, "bye")
		return true
	}
	h.mu.Lock()
	r := p.room
	if r == nil || r.peers[p.role] != p {
		h.mu.Unlock()
		return true // replaced or ended; its close is on its way
	}
	var notes []note
	switch m.Type {
	case signalTypeStarted:
		r.sharing = m.Source
		notes = append(notes, note{r.id, core.ActionShareStart, m.Source})
	case signalTypeStopped:
		if r.sharing != "" {
			r.sharing = ""
			notes = append(notes, note{r.id, core.ActionShareStop, "stopped by the customer"})
		}
	case signalTypeDeclined:
		notes = append(notes, note{r.id, core.ActionShareDecline, m.Reason})
	}
	// What is relayed is the message as parsed, never the bytes the page
	// sent: the other page sees only known fields of checked values.
	if other := r.peers[p.role.other()]; other != nil {
		other.send(m)
	}
	h.mu.Unlock()
	h.record(notes)
	return true
}

// end closes the room of session id, if there is one: both pages are told
// why and disconnected, and nobody's place is kept.
func (h *relay) end(id, reason string) {
	h.mu.Lock()
	r := h.rooms[id]
	if r == nil {
		h.mu.Unlock()
		return
	}
	var notes []note
	if r.sharing != "" && reason != "shutdown" {
		notes = append(notes, note{id, core.ActionShareStop, "the session " + reason})
	}
	for _, p := range r.peers {
		p.send(&signal{Type: signalTypeBye, Reason: reason})
		p.close(closeNormal, "session "+reason)
		p.room = nil
	}
	for _, t := range r.away {
		t.stop()
	}
	delete(h.rooms, id)
	h.mu.Unlock()
	h.record(notes)
}

// replace disconnects the page of role who in session id's room, telling
// it that the session goes on elsewhere: the customer moved to another
// device, which has the resume window to connect. A page that connected
// as keep stays: it is the one that took over.
func (h *relay) replace(id string, who role, keep string) {
	h.mu.Lock()
	var notes []note
	if r := h.rooms[id]; r != nil {
		if p := r.peers[who]; p != nil && keep != "" && p.who == keep {
			h.mu.Unlock()
			return
		}
		if p := r.peers[who]; p != nil {
			p.send(&signal{Type: signalTypeBye, Reason: "replaced"})
			p.close(closeNormal, "replaced by another device")
			p.room = nil
			delete(r.peers, who)
			if other := r.peers[who.other()]; other != nil {
				other.send(&signal{Type: signalTypePeer, Role: who, State: "away"})
			}
		}
		// The new device has the resume window to connect.
		h.keepPlace(r, who)
		if who == roleCustomer && r.sharing != "" {
			r.sharing = ""
			notes = append(notes, note{id, core.ActionShareStop, "moved to another device"})
		}
	}
	h.mu.Unlock()
	h.record(notes)
}

// roomIDs returns the sessions that have a room now.
func (h *relay) roomIDs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.rooms))
	for id := range h.rooms {
		ids = append(ids, id)
	}
	return ids
}

// closeAll disconnects every page, for a server shutting down.
func (h *relay) closeAll() {
	for _, id := range h.roomIDs() {
		h.end(id, "shutdown")
	}
}

// record writes notes into their sessions' logs. A session that is no
// longer open refuses a share's start or refusal (a race with its end,
// which is in the log already); that is not worth a warning.
func (h *relay) record(notes []note) {
	for _, n := range notes {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := h.engine.Record(ctx, n.id, core.Actor{Kind: core.ActorCustomer}, n.action, n.detail)
		cancel()
		if err != nil && core.ErrorCode(err) != core.CodeInvalidTransition {
			h.log.Warn("record screen share", "session", n.id, "action", n.action, "err", err)
		}
	}
}

// run closes the room of every session that stops being active, until
// ctx ends; then it disconnects every page. When the engine's hub drops
// it for falling behind, it subscribes again and checks every room.
func (h *relay) run(ctx context.Context) {
	for {
		updates, cancel := h.engine.Subscribe(256)
		h.sweep(ctx)
		for open := true; open; {
			select {
			case <-ctx.Done():
				cancel()
				h.closeAll()
				return
			case u, ok := <-updates:
				if !ok {
					open = false
					break
				}
				h.follow(ctx, u)
			}
		}
		cancel()
	}
}

// follow applies a change to a session, made on this replica or another,
// to its room: a session no longer active ends its share; a technician
// who took over watching, or a customer who moved to another device,
// leaves the page that was watching or sharing until then without it,
// wherever the change was made.
func (h *relay) follow(ctx context.Context, u core.Update) {
	s := u.Session
	if s == nil || !h.hasRoom(s.ID) {
		return
	}
	if s.State != core.StateActive {
		h.settle(ctx, s.ID)
		return
	}
	if u.Event == nil {
		return
	}
	switch u.Event.Action {
	case core.ActionWatch:
		h.replace(s.ID, roleTechnician, s.Technician)
	case core.ActionDevice:
		h.replace(s.ID, roleCustomer, s.CustomerKey)
	}
}

// hasRoom reports whether session id has a room.
func (h *relay) hasRoom(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[id] != nil
}

// settle brings session id's room in line with the session as it is
// now: one no longer active ends its share, and a page that connected as
// someone other than whom the session now has in its place (Watch here,
// a move to another device) is sent away. An update says how a session
// was when it changed, and may reach the relay late: one from before the
// session became active (issued, waiting) must not end the room of the
// share that followed, so the session is read again here.
func (h *relay) settle(ctx context.Context, id string) {
	s, err := h.engine.Session(ctx, id)
	switch {
	case core.ErrorCode(err) == core.CodeNotFound:
		h.end(id, string(core.StateClosed))
	case err != nil:
	case s.State != core.StateActive:
		h.end(id, string(s.State))
	default:
		for _, r := range []role{roleTechnician, roleCustomer} {
			if who, ok := h.peerWho(id, r); ok && who != holder(r, s) {
				h.replace(id, r, holder(r, s))
			}
		}
	}
}

// peerWho returns whom the page of role r in session id's room connected
// as, if there is one.
func (h *relay) peerWho(id string, r role) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rm := h.rooms[id]; rm != nil && rm.peers[r] != nil {
		return rm.peers[r].who, true
	}
	return "", false
}

// holder is whom the page of role r in session s's share must have
// connected as: its technician, or its customer's key.
func holder(r role, s *core.Session) string {
	if r == roleTechnician {
		return s.Technician
	}
	return s.CustomerKey
}

// sweep settles every room, after updates may have been missed.
func (h *relay) sweep(ctx context.Context) {
	for _, id := range h.roomIDs() {
		h.settle(ctx, id)
	}
}

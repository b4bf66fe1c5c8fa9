package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

var ctx = context.Background()

// shareRig is a rig with the Hub mounted, whose provider is the builtin
// one (view only), with a session the customer has joined from their own
// browser and alice has started view only. Its relay's resume windows are
// fired by the test, not by the clock.
type shareRig struct {
	*webtest.Rig
	hub      *Hub
	sess     *core.Session
	customer *webtest.Visitor
	alice    *webtest.Visitor
	timers   *manualTimers
	agents   *signIns
	observer *observer
}

func newShareRig(t *testing.T) *shareRig {
	t.Helper()
	r := &shareRig{Rig: webtest.New(t, webtest.Options{}), timers: &manualTimers{}, agents: &signIns{gone: map[string]chan struct{}{}},
		observer: &observer{counts: map[string]int{}}}
	var err error
	r.hub, err = New(Options{
		Engine:     r.Engine,
		PublicURL:  r.URL(),
		Customer:   r.customerSession,
		Technician: r.agents.signedIn,
		Observer:   r.observer,
		Logger:     r.Logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.hub.relay.after = r.timers.after
	r.hub.Mount(r.Server)
	r.Run(r.hub.Run)
	r.Provider.ProviderName, r.Provider.ModeList = builtinProvider, []core.Mode{core.ModeView}
	r.customer, r.alice = r.Visitor(), r.Visitor()
	s := r.Issue("en")
	_, secret := r.Join(s, core.DeviceDesktop)
	r.customer.SetCookie("/", customerCookie, secret)
	r.signIn(r.alice, "alice")
	if r.sess, err = r.Engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}, core.ModeView); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return r
}

// customerCookie is the cookie the rig's customer check reads, as the
// portal's does.
const customerCookie = "assistbot_customer"

// customerSession is the portal's customer check: the session of the
// path, if the request carries the secret of the browser that joined it.
func (r *shareRig) customerSession(req *http.Request) (*core.Session, error) {
	unknown := core.Errorf(core.CodeNotFound, "no such session")
	c, err := req.Cookie(customerCookie)
	if err != nil {
		return nil, unknown
	}
	s, err := r.Engine.Session(req.Context(), req.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if s.CustomerKey == "" || core.SecretKey(c.Value) != s.CustomerKey {
		return nil, unknown
	}
	return s, nil
}

// signIns are the console's sign-ins as the hub sees them: an agent
// cookie, and a channel closed at sign-out.
type signIns struct {
	mu   sync.Mutex
	gone map[string]chan struct{}
}

func (s *signIns) signedIn(r *http.Request) (string, <-chan struct{}, bool) {
	c, err := r.Cookie("agent")
	if err != nil {
		return "", nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	gone, ok := s.gone[c.Value]
	return c.Value, gone, ok
}

// signIn signs v in as agent.
func (r *shareRig) signIn(v *webtest.Visitor, agent string) {
	r.agents.mu.Lock()
	defer r.agents.mu.Unlock()
	r.agents.gone[agent] = make(chan struct{})
	v.SetCookie("/", "agent", agent)
}

// signOut ends agent's sign-in.
func (r *shareRig) signOut(agent string) {
	r.agents.mu.Lock()
	defer r.agents.mu.Unlock()
	close(r.agents.gone[agent])
	delete(r.agents.gone, agent)
}

// observer counts what the hub reports.
type observer struct {
	mu     sync.Mutex
	counts map[string]int
}

func (o *observer) ShareConnection(role string, delta int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts["conn:"+role] += delta
}

func (o *observer) SignalRefused(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts["refused:"+reason]++
}

func (o *observer) count(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[key]
}

// open reports whether session id has a room.
func (h *relay) open(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[id] != nil
}

// manualTimers stands in for time.AfterFunc: the test fires the timers.
type manualTimers struct {
	mu     sync.Mutex
	queued []*manualTimer
}

type manualTimer struct {
	f       func()
	stopped bool
}

func (m *manualTimers) after(d time.Duration, f func()) func() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &manualTimer{f: f}
	m.queued = append(m.queued, t)
	return func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// fire runs every timer that is still armed and reports how many ran.
func (m *manualTimers) fire() int {
	m.mu.Lock()
	var run []func()
	for _, t := range m.queued {
		if !t.stopped {
			t.stopped = true
			run = append(run, t.f)
		}
	}
	m.queued = nil
	m.mu.Unlock()
	for _, f := range run {
		f()
	}
	return len(run)
}

// sock is one page's signaling socket in a test.
type sock struct {
	t    *testing.T
	conn *websocket.Conn
}

// dial opens the signaling socket at path with v's cookies; header adds
// request headers in pairs.
func (r *shareRig) dial(v *webtest.Visitor, path string, header ...string) (*sock, *http.Response, error) {
	r.T.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(r.URL(), "http")+path, &websocket.DialOptions{HTTPClient: v.HC, HTTPHeader: h})
	if err != nil {
		return nil, resp, err
	}
	t := r.T.(*testing.T)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &sock{t: t, conn: conn}, resp, nil
}

func (r *shareRig) customerSock() *sock {
	r.T.Helper()
	s, resp, err := r.dial(r.customer, "/s/"+r.sess.ID+"/signal")
	if err != nil {
		r.T.Fatalf("customer's socket: %v (%v)", err, status(resp))
	}
	return s
}

// pair opens the technician's socket, then the customer's, and reads
// what each is told when both are in: welcome, and the customer joined.
func (r *shareRig) pair() (tech, cust *sock) {
	r.T.Helper()
	tech = r.technicianSock()
	tech.want(map[string]any{"type": "welcome", "peer": false})
	cust = r.customerSock()
	cust.want(map[string]any{"type": "welcome", "peer": true})
	tech.want(map[string]any{"type": "peer", "role": "customer", "state": "joined"})
	return tech, cust
}

func (r *shareRig) technicianSock() *sock {
	r.T.Helper()
	s, resp, err := r.dial(r.alice, "/console/sessions/"+r.sess.ID+"/signal")
	if err != nil {
		r.T.Fatalf("technician's socket: %v (%v)", err, status(resp))
	}
	return s
}

func status(resp *http.Response) any {
	if resp == nil {
		return "no response"
	}
	return resp.StatusCode
}

func (s *sock) send(msg string) {
	s.t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.conn.Write(wctx, websocket.MessageText, []byte(msg)); err != nil {
		s.t.Fatalf("send %s: %v", msg, err)
	}
}

// next reads the next message as a map.
func (s *sock) next() map[string]any {
	s.t.Helper()
	m, err := s.read()
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	return m
}

func (s *sock) read() (map[string]any, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, b, err := s.conn.Read(rctx)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		s.t.Fatalf("server sent %q: %v", b, err)
	}
	return m, nil
}

// want reads the next message and checks the fields of want.
func (s *sock) want(want map[string]any) map[string]any {
	s.t.Helper()
	got := s.next()
	for k, v := range want {
		if got[k] != v {
			s.t.Fatalf("got %v; want %s=%v", got, k, v)
		}
	}
	return got
}

// closed reads until the socket closes and returns its close status and
// reason, skipping messages not in skip... (none by default).
func (s *sock) closed() (websocket.StatusCode, string) {
	s.t.Helper()
	for {
		_, err := s.read()
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Reason
			}
			return websocket.CloseStatus(err), err.Error()
		}
	}
}

// wantEvents waits for the session's log to end with actions, with their
// details.
func (r *shareRig) wantLog(action core.Action, detail string) {
	r.T.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, err := r.Engine.Events(ctx, r.sess.ID)
		if err != nil {
			r.T.Fatal(err)
		}
		if slices.ContainsFunc(evs, func(e core.Event) bool { return e.Action == action && e.Detail == detail }) {
			return
		}
		if time.Now().After(deadline) {
			var got []string
			for _, e := range evs {
				got = append(got, string(e.Action)+"("+e.Detail+")")
			}
			r.T.Fatalf("the log lacks %s(%s): %v", action, detail, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const offerSDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"

// TestSignalRelay pairs the customer's page with the technician's and
// relays a whole negotiation, recording the share in the session's log.
func TestSignalRelay(t *testing.T) {
	r := newShareRig(t)
	cust := r.customerSock()
	cust.want(map[string]any{"type": "welcome", "peer": false})
	tech := r.technicianSock()
	tech.want(map[string]any{"type": "welcome", "peer": true})
	cust.want(map[string]any{"type": "peer", "role": "technician", "state": "joined"})
	if c, tc := r.observer.count("conn:customer"), r.observer.count("conn:technician"); c != 1 || tc != 1 {
		t.Errorf("open sockets reported: customer %d, technician %d; want 1 and 1", c, tc)
	}

	tech.send(`{"type":"ready"}`)
	cust.want(map[string]any{"type": "ready"})
	cust.send(`{"type":"share-started","source":"screen"}`)
	tech.want(map[string]any{"type": "share-started", "source": "screen"})
	r.wantLog(core.ActionShareStart, "screen")

	cust.send(`{"type":"offer","sdp":` + quote(offerSDP) + `}`)
	tech.want(map[string]any{"type": "offer", "sdp": offerSDP})
	tech.send(`{"type":"answer","sdp":` + quote(offerSDP) + `}`)
	cust.want(map[string]any{"type": "answer", "sdp": offerSDP})
	cust.send(`{"type":"candidate","candidate":"candidate:1 1 udp 2122260223 192.0.2.7 54321 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null}`)
	got := tech.want(map[string]any{"type": "candidate", "sdpMid": "0", "sdpMLineIndex": float64(0)})
	if _, ok := got["usernameFragment"]; ok {
		t.Errorf("a null field was relayed: %v", got)
	}
	tech.send(`{"type":"candidate","candidate":"candidate:2 1 udp 2122260223 192.0.2.8 5000 typ host","sdpMid":"0"}`)
	cust.want(map[string]any{"type": "candidate", "candidate": "candidate:2 1 udp 2122260223 192.0.2.8 5000 typ host"})

	cust.send(`{"type":"share-stopped"}`)
	tech.want(map[string]any{"type": "share-stopped"})
	r.wantLog(core.ActionShareStop, "stopped by the customer")
	cust.send(`{"type":"declined","reason":"declined"}`)
	tech.want(map[string]any{"type": "declined", "reason": "declined"})
	r.wantLog(core.ActionShareDecline, "declined")

	// The customer says bye: the technician sees them gone at once.
	cust.send(`{"type":"bye"}`)
	tech.want(map[string]any{"type": "peer", "role": "customer", "state": "gone"})
	if code, _ := cust.closed(); code != websocket.StatusNormalClosure {
		t.Errorf("bye closed the socket with %d", code)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestSignalRefusesOthers: only the browser that joined, and only the
// technician who started the session, may open its sockets, and only
// while it is being viewed.
func TestSignalRefusesOthers(t *testing.T) {
	r := newShareRig(t)
	stranger := r.Visitor()
	bob := r.Visitor()
	r.signIn(bob, "bob")
	other := r.Issue("en")

	cases := []struct {
		name   string
		v      *webtest.Visitor
		path   string
		header []string
		status int
	}{
		{"no cookie", stranger, "/s/" + r.sess.ID + "/signal", nil, http.StatusNotFound},
		{"another session's cookie", r.customer, "/s/" + other.ID + "/signal", nil, http.StatusNotFound},
		{"unknown session", r.customer, "/s/nope/signal", nil, http.StatusNotFound},
		{"console signed out", stranger, "/console/sessions/" + r.sess.ID + "/signal", nil, http.StatusUnauthorized},
		{"another agent", bob, "/console/sessions/" + r.sess.ID + "/signal", nil, http.StatusForbidden},
		{"session not viewed", r.alice, "/console/sessions/" + other.ID + "/signal", nil, http.StatusForbidden},
		{"foreign page", r.customer, "/s/" + r.sess.ID + "/signal", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"foreign page, console", r.alice, "/console/sessions/" + r.sess.ID + "/signal", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, resp, err := r.dial(c.v, c.path, c.header...)
			if err == nil {
				t.Fatal("the socket opened")
			}
			if resp == nil || resp.StatusCode != c.status {
				t.Fatalf("status %v; want %d", status(resp), c.status)
			}
		})
	}
	if r.hub.relay.open(other.ID) {
		t.Error("a refused socket opened a room")
	}

	// Alice may not watch a session she did not start, even one being
	// viewed; nor may anyone once it has ended.
	if _, err := r.Engine.End(ctx, r.sess.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/s/" + r.sess.ID + "/signal"} {
		if _, resp, err := r.dial(r.customer, path); err == nil || resp.StatusCode != http.StatusConflict {
			t.Errorf("%s after the end: %v %v", path, err, status(resp))
		}
	}
	if _, resp, err := r.dial(r.alice, "/console/sessions/"+r.sess.ID+"/signal"); err == nil || resp.StatusCode != http.StatusConflict {
		t.Errorf("technician after the end: %v %v", err, status(resp))
	}
}

// TestSignalRefusesBadMessages: a message too large, not JSON, of an
// unknown type, with a field it may not carry, or one the sender's side
// may not send closes the socket with a reason; the other side sees the
// sender gone.
func TestSignalRefusesBadMessages(t *testing.T) {
	cases := []struct {
		name   string
		msg    string
		binary bool
		code   websocket.StatusCode
		reason string
		metric string // assistbot_signal_refusals_total's reason
	}{
		{"oversized", `{"type":"offer","sdp":"v=0` + strings.Repeat("a", maxSignalBytes) + `"}`, false, websocket.StatusMessageTooBig, "larger than 65536 bytes", refusedTooLarge},
		{"not json", `{"type":`, false, websocket.StatusPolicyViolation, "not a JSON object", refusedMalformed},
		{"unknown type", `{"type":"hello"}`, false, websocket.StatusPolicyViolation, "unknown type", refusedMalformed},
		{"extra field", `{"type":"share-started","source":"screen","x":1}`, false, websocket.StatusPolicyViolation, `field "x" is not allowed`, refusedMalformed},
		{"bad sdp", `{"type":"offer","sdp":"hello"}`, false, websocket.StatusPolicyViolation, "sdp is not a session description", refusedMalformed},
		{"bad candidate", `{"type":"candidate","candidate":"rm -rf /","sdpMid":"0"}`, false, websocket.StatusPolicyViolation, "not an ICE candidate", refusedMalformed},
		{"wrong side", `{"type":"answer","sdp":"v=0"}`, false, websocket.StatusPolicyViolation, "answer is not for the customer to send", refusedNotAllow},
		{"binary", `{"type":"bye"}`, true, websocket.StatusUnsupportedData, "text messages only", refusedBinary},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newShareRig(t)
			tech, cust := r.pair()
			typ := websocket.MessageText
			if c.binary {
				typ = websocket.MessageBinary
			}
			if err := cust.conn.Write(ctx, typ, []byte(c.msg)); err != nil {
				t.Fatal(err)
			}
			code, reason := cust.closed()
			if code != c.code || !strings.Contains(reason, c.reason) {
				t.Errorf("closed with %d %q; want %d %q", code, reason, c.code, c.reason)
			}
			tech.want(map[string]any{"type": "peer", "role": "customer", "state": "gone"})
			webtest.WaitFor(t, "the refusal reported", func() bool { return r.observer.count("refused:"+c.metric) == 1 })
		})
	}
}

// TestSignalRateLimit: a page flooding the socket is disconnected.
func TestSignalRateLimit(t *testing.T) {
	r := newShareRig(t)
	cust := r.customerSock()
	cust.want(map[string]any{"type": "welcome"})
	// Twice the burst: the allowance refills as the server reads, and a
	// slow reader must not let the flood through.
	for range 2 * signalBurst {
		if err := cust.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"candidate","candidate":"","sdpMid":"0"}`)); err != nil {
			break // closed already
		}
	}
	if code, reason := cust.closed(); code != websocket.StatusPolicyViolation || reason != "too many messages" {
		t.Errorf("closed with %d %q", code, reason)
	}
}

// TestSignalResume: a page whose connection drops keeps its place for the
// resume window; one that comes back in time is "back" and the share goes
// on; one that does not is gone, and its share is recorded as stopped.
func TestSignalResume(t *testing.T) {
	r := newShareRig(t)
	tech, cust := r.pair()
	cust.send(`{"type":"share-started","source":"camera"}`)
	tech.want(map[string]any{"type": "share-started"})

	// The network drops (no close frame).
	_ = cust.conn.CloseNow()
	tech.want(map[string]any{"type": "peer", "role": "customer", "state": "away"})
	cust = r.customerSock()
	cust.want(map[string]any{"type": "welcome", "peer": true, "sharing": "camera"})
	tech.want(map[string]any{"type": "peer", "role": "customer", "state": "back"})
	if n := r.timers.fire(); n != 0 {
		t.Errorf("%d resume windows still open after the page came back", n)
	}

	// It drops again and does not come back.
	_ = cust.conn.CloseNow()
	tech.want(map[string]any{"type": "peer", "state": "away"})
	// The window opens just after the technician is told: wait for it.
	n := 0
	for deadline := time.Now().Add(5 * time.Second); n == 0 && time.Now().Before(deadline); {
		if n = r.timers.fire(); n == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if n != 1 {
		t.Fatalf("%d resume windows fired; want 1", n)
	}
	tech.want(map[string]any{"type": "peer", "role": "customer", "state": "gone"})
	r.wantLog(core.ActionShareStop, "the customer's connection was lost")

	// The technician's page drops too; the room is forgotten once its
	// window passes.
	_ = tech.conn.CloseNow()
	deadline := time.Now().Add(5 * time.Second)
	for r.timers.fire() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if r.hub.relay.open(r.sess.ID) {
		t.Error("an empty room is kept")
	}
}

// TestSignalDeadConnection: a page that stops answering pings (its
// network vanished without a word) is dropped, and the other side sees it
// away.
func TestSignalDeadConnection(t *testing.T) {
	r := newShareRig(t)
	// The interval is also how long a pong may take: the technician's
	// side answers only while the test reads, which a loaded machine can
	// hold up for a while.
	r.hub.ping = time.Second
	tech, _ := r.pair()
	// The customer's side reads no more, so it answers no ping; the
	// technician's reads (and so answers them) all along.
	tech.want(map[string]any{"type": "peer", "role": "customer", "state": "away"})
}

// TestSignalPageClosed: a page that goes away (closed tab, reload) ends
// its share at once; its place is kept for a reload.
func TestSignalPageClosed(t *testing.T) {
	r := newShareRig(t)
	tech, cust := r.pair()
	cust.send(`{"type":"share-started","source":"screen"}`)
	tech.want(map[string]any{"type": "share-started"})
	if err := cust.conn.Close(websocket.StatusGoingAway, ""); err != nil {
		t.Fatal(err)
	}
	tech.want(map[string]any{"type": "peer", "state": "away"})
	r.wantLog(core.ActionShareStop, "the customer's page was closed")
	cust = r.customerSock()
	cust.want(map[string]any{"type": "welcome", "peer": true})
	if got := tech.next(); got["state"] != "back" {
		t.Errorf("after the reload the technician got %v", got)
	}
}

// TestSignalReplace: a second device of the same customer replaces the
// first, whose share stops; a second console tab replaces the first.
func TestSignalReplace(t *testing.T) {
	r := newShareRig(t)
	tech, first := r.pair()
	first.send(`{"type":"share-started","source":"screen"}`)
	tech.want(map[string]any{"type": "share-started"})

	second := r.customerSock()
	first.want(map[string]any{"type": "bye", "reason": "replaced"})
	if code, _ := first.closed(); code != websocket.StatusNormalClosure {
		t.Errorf("the replaced page was closed with %d", code)
	}
	second.want(map[string]any{"type": "welcome", "peer": true})
	tech.want(map[string]any{"type": "peer", "role": "customer", "state": "joined"})
	r.wantLog(core.ActionShareStop, "replaced by another device")

	tech2 := r.technicianSock()
	tech.want(map[string]any{"type": "bye", "reason": "replaced"})
	tech2.want(map[string]any{"type": "welcome", "peer": true})
	second.want(map[string]any{"type": "peer", "role": "technician", "state": "joined"})
	// The replaced page closing changes nothing for the others.
	second.send(`{"type":"share-started","source":"screen"}`)
	tech2.want(map[string]any{"type": "share-started"})
}

// TestSignalSessionEnd: ending the session tells both pages and closes
// their sockets.
func TestSignalSessionEnd(t *testing.T) {
	r := newShareRig(t)
	tech, cust := r.pair()
	cust.send(`{"type":"share-started","source":"screen"}`)
	tech.want(map[string]any{"type": "share-started"})
	if _, err := r.Engine.End(ctx, r.sess.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	r.wantLog(core.ActionShareStop, "the session ended")
	for name, s := range map[string]*sock{"customer": cust, "technician": tech} {
		s.want(map[string]any{"type": "bye", "reason": "ended"})
		if code, reason := s.closed(); code != websocket.StatusNormalClosure || reason != "session ended" {
			t.Errorf("%s's socket closed with %d %q", name, code, reason)
		}
	}
}

// TestSignalSignOut: signing out closes the technician's socket.
func TestSignalSignOut(t *testing.T) {
	r := newShareRig(t)
	tech := r.technicianSock()
	tech.want(map[string]any{"type": "welcome"})
	r.signOut("alice")
	tech.want(map[string]any{"type": "bye", "reason": "signed_out"})
	if code, _ := tech.closed(); code != websocket.StatusPolicyViolation {
		t.Errorf("closed with %d", code)
	}
}

// TestNoSharePageForOtherProviders: a provider with its own viewer gets
// no socket.
func TestNoSharePageForOtherProviders(t *testing.T) {
	r := newShareRig(t)
	r.Provider.ProviderName = "fake"
	s := r.Issue("en")
	customer := r.Visitor()
	_, secret := r.Join(s, core.DeviceDesktop)
	customer.SetCookie("/", customerCookie, secret)
	if _, err := r.Engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}, core.ModeView); err != nil {
		t.Fatal(err)
	}
	if _, resp, err := r.dial(customer, "/s/"+s.ID+"/signal"); err == nil || resp.StatusCode != http.StatusConflict {
		t.Errorf("socket of another provider's session: %v %v", err, status(resp))
	}
	if _, resp, err := r.dial(r.alice, "/console/sessions/"+s.ID+"/signal"); err == nil || resp.StatusCode != http.StatusConflict {
		t.Errorf("technician's socket of another provider's session: %v %v", err, status(resp))
	}
}

// TestCustomerMoved: when the customer moves to another device (the
// portal's handoff), the computer's page is told and disconnected, its
// share stops, the technician sees the customer away, and the new device
// is "back" when it connects; the old device's cookie opens nothing. The
// move may be handled on this replica or on another, whose change this
// one hears as the engine's update.
func TestCustomerMoved(t *testing.T) {
	for _, here := range []bool{true, false} {
		r := newShareRig(t)
		tech, computer := r.pair()
		computer.send(`{"type":"share-started","source":"screen"}`)
		tech.want(map[string]any{"type": "share-started"})

		_, secret, err := r.Engine.Handoff(ctx, r.sess.ID, r.sess.CustomerKey, core.DeviceMobile)
		if err != nil {
			t.Fatal(err)
		}
		if here {
			r.hub.CustomerMoved(r.sess.ID)
		} // else: moved on another replica, heard as the engine's update
		computer.want(map[string]any{"type": "bye", "reason": "replaced"})
		tech.want(map[string]any{"type": "peer", "role": "customer", "state": "away"})
		r.wantLog(core.ActionShareStop, "moved to another device")
		if _, resp, err := r.dial(r.customer, "/s/"+r.sess.ID+"/signal"); err == nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("the computer still opens the socket: %v %v", err, status(resp))
		}
		phone := r.Visitor()
		phone.SetCookie("/", customerCookie, secret)
		phoneSock, resp, err := r.dial(phone, "/s/"+r.sess.ID+"/signal")
		if err != nil {
			t.Fatalf("the phone's socket: %v %v", err, status(resp))
		}
		phoneSock.want(map[string]any{"type": "welcome", "peer": true})
		tech.want(map[string]any{"type": "peer", "role": "customer", "state": "back"})
	}
}

// TestTechnicianChanged: when someone else watches (the console's Watch
// here), the previous watcher is told and refused from then on, and the
// customer sees the technician away, then back with the new one; whether
// the take-over was made on this replica or on another, whose change
// this one hears as the engine's update.
func TestTechnicianChanged(t *testing.T) {
	for _, here := range []bool{true, false} {
		r := newShareRig(t)
		bob := r.Visitor()
		r.signIn(bob, "bob")
		tech, cust := r.pair()

		if _, err := r.Engine.Watch(ctx, r.sess.ID, core.Actor{Kind: core.ActorAgent, Name: "bob"}); err != nil {
			t.Fatal(err)
		}
		if here {
			r.hub.TechnicianChanged(r.sess.ID)
		}
		tech.want(map[string]any{"type": "bye", "reason": "replaced"})
		cust.want(map[string]any{"type": "peer", "role": "technician", "state": "away"})
		if _, resp, err := r.dial(r.alice, "/console/sessions/"+r.sess.ID+"/signal"); err == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("alice after bob took over: %v %v", err, status(resp))
		}
		bobSock, resp, err := r.dial(bob, "/console/sessions/"+r.sess.ID+"/signal")
		if err != nil {
			t.Fatalf("bob's socket: %v %v", err, status(resp))
		}
		bobSock.want(map[string]any{"type": "welcome", "peer": true})
		cust.want(map[string]any{"type": "peer", "role": "technician", "state": "back"})
	}
}

// TestShareable decides which sessions the pages may share.
func TestShareable(t *testing.T) {
	h, err := New(Options{Engine: (*core.Engine)(nil)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s                   core.Session
		viewable, shareable bool
	}{
		{core.Session{Provider: "builtin", State: core.StateActive, Mode: core.ModeView}, true, true},
		{core.Session{Provider: "builtin", State: core.StateWaiting}, true, false},
		{core.Session{Provider: "builtin", State: core.StateActive, Mode: core.ModeControl}, true, false},
		{core.Session{Provider: "logmein", State: core.StateActive, Mode: core.ModeView}, false, false},
	} {
		if v, s := h.Viewable(&tc.s), h.Shareable(&tc.s); v != tc.viewable || s != tc.shareable {
			t.Errorf("%+v: viewable %v shareable %v", tc.s, v, s)
		}
	}
	if h.CustomerSignal("x") != "/s/x/signal?s=x" || h.TechnicianSignal("x") != "/console/sessions/x/signal?s=x" {
		t.Errorf("signal URLs %q and %q", h.CustomerSignal("x"), h.TechnicianSignal("x"))
	}
}

// The engine is what the hub needs.
var _ Engine = (*core.Engine)(nil)

// updates is an engine whose updates the test sends.
type updates struct {
	Engine
	ch chan core.Update
}

func (u *updates) Subscribe(int) (<-chan core.Update, func()) { return u.ch, func() {} }

// relayFed runs, until the test ends, a relay of the rig's engine that
// hears only the updates the test sends to feed.
func (r *shareRig) relayFed(t *testing.T) (*relay, *updates) {
	feed := &updates{Engine: r.Engine, ch: make(chan core.Update)}
	rel := newRelay(feed, r.Logger)
	rel.after = r.timers.after
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { rel.run(rctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return rel, feed
}

// TestStaleUpdateKeepsRoom: an update from before the session became
// active (it may reach the relay late) does not end the share that
// followed; one saying the session ended does.
func TestStaleUpdateKeepsRoom(t *testing.T) {
	r := newShareRig(t)
	rel, feed := r.relayFed(t)
	rel.join(r.sess.ID, newPeer(roleCustomer, ""))

	stale := *r.sess
	stale.State = core.StateWaiting
	feed.ch <- core.Update{Session: &stale}
	feed.ch <- core.Update{} // the stale one has been handled once this is taken
	if !rel.open(r.sess.ID) {
		t.Fatal("a stale update ended the room")
	}
	if _, err := r.Engine.End(ctx, r.sess.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	ended := *r.sess
	ended.State = core.StateEnded
	feed.ch <- core.Update{Session: &ended}
	feed.ch <- core.Update{}
	if rel.open(r.sess.ID) {
		t.Error("the end of the session left its room open")
	}
}

// TestLateUpdateKeepsWhoTookOver: the update of a take-over may reach the
// relay after the page that took over connected: that page stays, and
// only a page that connected as someone else leaves.
func TestLateUpdateKeepsWhoTookOver(t *testing.T) {
	r := newShareRig(t)
	rel, feed := r.relayFed(t)
	closed := func(p *peer) bool {
		select {
		case <-p.quit:
			return true
		default:
			return false
		}
	}
	// The take-overs, made in the store as they would be; the relay
	// hears of them only through what the test feeds it.
	if _, err := r.Engine.Watch(ctx, r.sess.ID, core.Actor{Kind: core.ActorAgent, Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	moved, _, err := r.Engine.Handoff(ctx, r.sess.ID, r.sess.CustomerKey, core.DeviceMobile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who    role
		action core.Action
		now    string // whom the session now has in the role's place
		edit   func(s *core.Session, to string)
	}{
		{roleTechnician, core.ActionWatch, "bob", func(s *core.Session, to string) { s.Technician = to }},
		{roleCustomer, core.ActionDevice, moved.CustomerKey, func(s *core.Session, to string) { s.CustomerKey = to }},
	} {
		p := newPeer(tc.who, tc.now)
		rel.join(r.sess.ID, p)
		update := func(to string) {
			s := *moved
			tc.edit(&s, to)
			feed.ch <- core.Update{Session: &s, Event: &core.Event{SessionID: s.ID, Action: tc.action}}
			feed.ch <- core.Update{} // the one before has been handled once this is taken
		}
		if update(tc.now); closed(p) {
			t.Errorf("%s: the page that took over left on the late update of its take-over", tc.action)
		}
		if update("someone else"); !closed(p) {
			t.Errorf("%s: the page stayed when someone else took over", tc.action)
		}
	}
}

// takeOverInTheGap is the engine as the technician's socket sees it, with
// bob taking the session over ("Watch here") right after the socket's
// check that alice is its technician, before it joins the share.
type takeOverInTheGap struct {
	Engine
	once sync.Once
	take func()
}

func (e *takeOverInTheGap) Session(ctx context.Context, id string) (*core.Session, error) {
	s, err := e.Engine.Session(ctx, id)
	e.once.Do(e.take)
	return s, err
}

// TestTakeOverBetweenCheckAndJoin: a take-over that lands between the
// socket's check of its technician and its joining the share sends the
// page away once it has joined.
func TestTakeOverBetweenCheckAndJoin(t *testing.T) {
	r := newShareRig(t)
	cust, resp, err := r.dial(r.customer, "/s/"+r.sess.ID+"/signal")
	if err != nil {
		t.Fatalf("the customer's socket: %v %v", err, status(resp))
	}
	cust.want(map[string]any{"type": "welcome", "peer": false})
	r.hub.engine = &takeOverInTheGap{Engine: r.Engine, take: func() {
		if _, err := r.Engine.Watch(ctx, r.sess.ID, core.Actor{Kind: core.ActorAgent, Name: "bob"}); err != nil {
			t.Error(err)
		}
	}}
	tech, resp, err := r.dial(r.alice, "/console/sessions/"+r.sess.ID+"/signal")
	if err != nil {
		t.Fatalf("alice's socket: %v %v", err, status(resp))
	}
	tech.want(map[string]any{"type": "welcome", "peer": true})
	tech.want(map[string]any{"type": "bye", "reason": "replaced"})
}

package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/assistbot/assistbot/core"
)

// shareRig is a console rig whose provider is the builtin one (view
// only), with a session the customer has joined from their own browser
// and alice has started view only. Its hub's resume windows are fired by
// the test, not by the clock.
type shareRig struct {
	*consoleRig
	sess     *core.Session
	customer *visitor
	alice    *visitor
	timers   *manualTimers
}

func newShareRig(t *testing.T) *shareRig {
	t.Helper()
	r := newConsoleRig(t, func(o *Options, co *ConsoleOptions) {
		co.ICEServers = func() []ICEServer {
			return []ICEServer{{URLs: []string{"turn:turn.example.org:3478?transport=udp"}, Username: "1700000000:assistbot", Credential: "short-lived"}}
		}
	})
	r.provider.ProviderName, r.provider.ModeList = builtinProvider, []core.Mode{core.ModeView}
	timers := &manualTimers{}
	r.console.hub.after = timers.after
	sr := &shareRig{consoleRig: r, customer: r.visitor(), alice: r.visitor(), timers: timers}
	s := r.issue("en")
	if resp, body := sr.customer.post("/join", url.Values{"code": {s.PIN}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d\n%s", resp.StatusCode, body)
	}
	sr.alice.signIn("alice", alicePW)
	var err error
	if sr.sess, err = r.engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}, core.ModeView); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return sr
}

// open reports whether session id has a room.
func (h *signalHub) open(id string) bool {
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
func (r *shareRig) dial(v *visitor, path string, header ...string) (*sock, *http.Response, error) {
	r.t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(r.ts.URL, "http")+path, &websocket.DialOptions{HTTPClient: v.hc, HTTPHeader: h})
	if err != nil {
		return nil, resp, err
	}
	t := r.t.(*testing.T)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &sock{t: t, conn: conn}, resp, nil
}

func (r *shareRig) customerSock() *sock {
	r.t.Helper()
	s, resp, err := r.dial(r.customer, "/s/"+r.sess.ID+"/signal")
	if err != nil {
		r.t.Fatalf("customer's socket: %v (%v)", err, status(resp))
	}
	return s
}

// pair opens the technician's socket, then the customer's, and reads
// what each is told when both are in: welcome, and the customer joined.
func (r *shareRig) pair() (tech, cust *sock) {
	r.t.Helper()
	tech = r.technicianSock()
	tech.want(map[string]any{"type": "welcome", "peer": false})
	cust = r.customerSock()
	cust.want(map[string]any{"type": "welcome", "peer": true})
	tech.want(map[string]any{"type": "peer", "role": "customer", "state": "joined"})
	return tech, cust
}

func (r *shareRig) technicianSock() *sock {
	r.t.Helper()
	s, resp, err := r.dial(r.alice, "/console/sessions/"+r.sess.ID+"/signal")
	if err != nil {
		r.t.Fatalf("technician's socket: %v (%v)", err, status(resp))
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
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, err := r.engine.Events(ctx, r.sess.ID)
		if err != nil {
			r.t.Fatal(err)
		}
		if slices.ContainsFunc(evs, func(e core.Event) bool { return e.Action == action && e.Detail == detail }) {
			return
		}
		if time.Now().After(deadline) {
			var got []string
			for _, e := range evs {
				got = append(got, string(e.Action)+"("+e.Detail+")")
			}
			r.t.Fatalf("the log lacks %s(%s): %v", action, detail, got)
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
	_, metrics := r.get("/metrics")
	wantContains(t, metrics, `assistbot_share_connections{role="customer"} 1`, `assistbot_share_connections{role="technician"} 1`)

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
	stranger := r.visitor()
	bob := r.visitor()
	bob.signIn("bob", bobPW)
	other := r.issue("en")

	cases := []struct {
		name   string
		v      *visitor
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
	if r.console.hub.open(other.ID) {
		t.Error("a refused socket opened a room")
	}

	// Alice may not watch a session she did not start, even one being
	// viewed; nor may anyone once it has ended.
	if _, err := r.engine.End(ctx, r.sess.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}); err != nil {
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
			_, metrics := r.get("/metrics")
			wantContains(t, metrics, `assistbot_signal_refusals_total{reason="`+c.metric+`"} 1`)
		})
	}
}

// TestSignalRateLimit: a page flooding the socket is disconnected.
func TestSignalRateLimit(t *testing.T) {
	r := newShareRig(t)
	cust := r.customerSock()
	cust.want(map[string]any{"type": "welcome"})
	for range signalBurst + 1 {
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
	if n := r.timers.fire(); n != 1 {
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
	if r.console.hub.open(r.sess.ID) {
		t.Error("an empty room is kept")
	}
}

// TestSignalDeadConnection: a page that stops answering pings (its
// network vanished without a word) is dropped, and the other side sees it
// away.
func TestSignalDeadConnection(t *testing.T) {
	r := newShareRig(t)
	r.console.signalPing = 100 * time.Millisecond
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
	if _, err := r.engine.End(ctx, r.sess.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}); err != nil {
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
	if resp, body := r.alice.post("/console/logout", url.Values{"csrf": {r.alice.csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d %s", resp.StatusCode, body)
	}
	tech.want(map[string]any{"type": "bye", "reason": "signed_out"})
	if code, _ := tech.closed(); code != websocket.StatusPolicyViolation {
		t.Errorf("closed with %d", code)
	}
}

// TestSharePage: the status page of a session being viewed asks the
// customer to share, with the ICE servers and the socket's path, and does
// not reload itself; other providers' sessions get no share.
func TestSharePage(t *testing.T) {
	r := newShareRig(t)
	resp, page := r.customer.get("/s/" + r.sess.ID)
	wantStatus(t, resp, page, http.StatusOK)
	wantContains(t, page, `id="share"`, "Share my screen", "Stop sharing", "Don&#39;t share",
		"can see your screen but cannot control it", `"signal":"/s/`+r.sess.ID+`/signal"`,
		`"urls":["turn:turn.example.org:3478?transport=udp"]`, `"credential":"short-lived"`, "/assets/share.js?v=")
	wantNotContains(t, page, `http-equiv="refresh"`)

	// The technician's page has the viewer, beside the chat.
	resp, page = r.alice.get("/console/sessions/" + r.sess.ID)
	wantStatus(t, resp, page, http.StatusOK)
	wantContains(t, page, `id="screen"`, `data-signal="/console/sessions/`+r.sess.ID+`/signal"`, `id="screen-video"`,
		`id="session-chat"`, `id="reply"`, "/assets/viewer.js?v=", `data-technician="alice"`, "Full screen",
		"Remote control needs a provider")
}

// TestNoSharePageForOtherProviders: a provider with its own viewer gets
// no share on the status page and no screen on the console.
func TestNoSharePageForOtherProviders(t *testing.T) {
	r := newConsoleRig(t)
	s := r.issue("en")
	customer := r.visitor()
	customer.post("/join", url.Values{"code": {s.PIN}})
	if _, err := r.engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}, core.ModeView); err != nil {
		t.Fatal(err)
	}
	resp, page := customer.get("/s/" + s.ID)
	wantStatus(t, resp, page, http.StatusOK)
	wantContains(t, page, "can see your screen but cannot control it", `http-equiv="refresh"`)
	wantNotContains(t, page, `id="share"`, "share.js")
	alice := r.visitor()
	alice.signIn("alice", alicePW)
	resp, page = alice.get("/console/sessions/" + s.ID)
	wantStatus(t, resp, page, http.StatusOK)
	wantNotContains(t, page, `id="screen"`, "viewer.js")
	if _, resp, err := (&shareRig{consoleRig: r}).dial(customer, "/s/"+s.ID+"/signal"); err == nil || resp.StatusCode != http.StatusConflict {
		t.Errorf("socket of another provider's session: %v %v", err, status(resp))
	}
}

// TestChatLinksToSharePage: a web chat customer whose session is being
// viewed through the builtin provider finds the share page from the chat
// (in the browser that joined, which holds the session's cookie).
func TestChatLinksToSharePage(t *testing.T) {
	r := newShareRig(t)
	c := r.openChat("en")
	c.say("My screen is frozen", "id", "m1")
	conv := r.chatConv(c)
	s, _, err := r.engine.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	_, body := c.get("/chat/transcript")
	wantNotContains(t, body, "chat-share")
	if resp, body := c.post("/join", url.Values{"code": {s.PIN}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d %s", resp.StatusCode, body)
	}
	_, body = c.get("/chat/transcript")
	wantNotContains(t, body, "chat-share") // waiting: nothing to share yet
	if _, err := r.engine.Start(ctx, s.ID, core.Actor{Kind: core.ActorTechnician, Name: "alice"}, core.ModeView); err != nil {
		t.Fatal(err)
	}
	_, body = c.get("/chat/transcript")
	wantContains(t, body, `id="chat-share" href="/s/`+s.ID+`"`, "Show the technician your screen")
	resp, page := c.get("/s/" + s.ID)
	wantStatus(t, resp, page, http.StatusOK)
	wantContains(t, page, `id="share-start"`)
}

// TestWatchHere: a session started elsewhere (here by bob) is watched by
// whoever presses Watch here; the previous watcher is told and refused
// from then on, and the log says who took over from whom.
func TestWatchHere(t *testing.T) {
	r := newShareRig(t)
	bob := r.visitor()
	bob.signIn("bob", bobPW)
	resp, page := bob.get("/console/sessions/" + r.sess.ID)
	wantStatus(t, resp, page, http.StatusOK)
	wantContains(t, page, `id="watch-here"`, "alice started this session. Press Watch here")
	_, mine := r.alice.get("/console/sessions/" + r.sess.ID)
	wantNotContains(t, mine, `id="watch-here"`)

	tech, cust := r.pair()

	resp, out := bob.fetch("/console/sessions/"+r.sess.ID+"/watch", url.Values{})
	if resp.StatusCode != http.StatusOK || out["session"] != r.sess.ID {
		t.Fatalf("watch here: %d %v", resp.StatusCode, out)
	}
	tech.want(map[string]any{"type": "bye", "reason": "replaced"})
	cust.want(map[string]any{"type": "peer", "role": "technician", "state": "away"})
	if s := r.session(r.sess.ID); s.Technician != "bob" {
		t.Errorf("the technician is %q", s.Technician)
	}
	r.wantLog(core.ActionWatch, "instead of alice")
	if _, resp, err := r.dial(r.alice, "/console/sessions/"+r.sess.ID+"/signal"); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("alice after bob took over: %v %v", err, status(resp))
	}
	bobSock, resp, err := r.dial(bob, "/console/sessions/"+r.sess.ID+"/signal")
	if err != nil {
		t.Fatalf("bob's socket: %v %v", err, status(resp))
	}
	bobSock.want(map[string]any{"type": "welcome", "peer": true})
	cust.want(map[string]any{"type": "peer", "role": "technician", "state": "back"})

	// Without the CSRF token nothing changes.
	bob.csrf = ""
	if resp, _ := bob.fetch("/console/sessions/"+r.sess.ID+"/watch", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("watch without a token: %d", resp.StatusCode)
	}
}

package logmein_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/provider/logmein"
	"github.com/assistbot/assistbot/adapters/provider/logmein/logmeintest"
	"github.com/assistbot/assistbot/core"
)

// engine stands in for core.Engine's side of Watch: it lists the open
// sessions and applies reports through the state machine, ignoring the
// ones it refuses as the engine does.
type engine struct {
	mu        sync.Mutex
	sessions  map[string]*core.Session
	reports   []core.StatusReport
	liveCalls int
	failNext  int // reports to refuse with an error
}

func newEngine() *engine { return &engine{sessions: map[string]*core.Session{}} }

// add records a session issued with tk, as the engine does.
func (e *engine) add(id string, tk core.Ticket) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sessions[id] = &core.Session{ID: id, Provider: logmein.Name, State: core.StateIssued, PIN: tk.PIN, ProviderRef: tk.Ref}
}

func (e *engine) live(ctx context.Context) ([]*core.Session, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.liveCalls++
	var out []*core.Session
	for _, s := range e.sessions {
		if s.State.Open() {
			c := *s
			out = append(out, &c)
		}
	}
	return out, nil
}

func (e *engine) report(ctx context.Context, r core.StatusReport) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failNext > 0 {
		e.failNext--
		return errors.New("store is down")
	}
	e.reports = append(e.reports, r)
	s := e.sessions[r.SessionID]
	if next, err := core.Next(s.State, r.Action); err == nil {
		s.State = next
	}
	return nil
}

func (e *engine) state(id string) core.State {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions[id].State
}

func (e *engine) actions() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, r := range e.reports {
		out = append(out, string(r.Action))
	}
	return strings.Join(out, " ")
}

func (e *engine) lives() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.liveCalls
}

// watch runs p.Watch until the test ends.
func watch(t *testing.T, p *logmein.Provider, e *engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Watch(ctx, e.live, e.report) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch = %v", err)
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// issue asks p for a PIN for a new session that e knows.
func issue(t *testing.T, p *logmein.Provider, e *engine) string {
	t.Helper()
	req := request()
	tk, err := p.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	e.add(req.SessionID, tk)
	return req.SessionID
}

func withNode(o *logmein.Options) { o.NodeID = "337366" }

func TestWatchFollowsASession(t *testing.T) {
	fake := logmeintest.New(t)
	p, _ := newProvider(t, fake, withNode)
	e := newEngine()
	id := issue(t, p, e)
	other := issue(t, p, e) // never entered: its PIN stays unused
	watch(t, p, e)

	polls := func() int { return len(fake.Calls("getSession")) }
	waitFor(t, "a poll", func() bool { return polls() > 0 })
	if e.actions() != "" {
		t.Fatalf("reported %q before the customer came", e.actions())
	}

	fake.Move(id, "Connecting", "")
	waitFor(t, "waiting", func() bool { return e.state(id) == core.StateWaiting })
	fake.Move(id, "Waiting", "")
	n := polls()
	waitFor(t, "three more polls", func() bool { return polls() >= n+3 })

	fake.Move(id, "Active", "Tom Tech")
	waitFor(t, "active", func() bool { return e.state(id) == core.StateActive })
	fake.Move(id, "On Hold", "Tom Tech")
	n = polls()
	waitFor(t, "three more polls", func() bool { return polls() >= n+3 })

	fake.Move(id, "Closed by technician", "Tom Tech")
	waitFor(t, "ended", func() bool { return e.state(id) == core.StateEnded })

	if got := e.actions(); got != "join start end" {
		t.Errorf("reports = %q, want each change once", got)
	}
	e.mu.Lock()
	join, start := e.reports[0], e.reports[1]
	e.mu.Unlock()
	if join.SessionID != id || join.Device != core.DeviceUnknown {
		t.Errorf("join report %+v", join)
	}
	if start.Mode != core.ModeControl || start.Technician != "Tom Tech" {
		t.Errorf("start report %+v", start)
	}
	if e.state(other) != core.StateIssued {
		t.Errorf("the other session moved to %s", e.state(other))
	}
	for _, c := range fake.Calls("getSession") {
		if c.Path != "getSession_v3.aspx" || c.HTTPMethod != "POST" || c.Query != "" ||
			c.Form.Get("node") != "337366" || c.Form.Get("noderef") != "NODE" || c.Form.Get("authcode") != fake.AuthCode() {
			t.Fatalf("getSession call %s %s?%s %v", c.HTTPMethod, c.Path, c.Query, c.Form.Get("node"))
		}
	}
}

// TestWatchFollowsTheCurrentCode: after "Generate another code" the
// session is followed through its new PIN's Rescue session alone; a
// customer who still enters the code given up on, and leaves, neither
// joins nor ends it.
func TestWatchFollowsTheCurrentCode(t *testing.T) {
	fake := logmeintest.New(t)
	fake.SetPINs("111111", "222222")
	p, _ := newProvider(t, fake, withNode)
	e := newEngine()
	req := request()
	if _, err := p.Issue(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	tk, err := p.Issue(context.Background(), req) // another code, for the same session
	if err != nil {
		t.Fatal(err)
	}
	e.add(req.SessionID, tk)
	watch(t, p, e)
	fake.MovePIN("111111", "Closed by waiting customer", "")
	n := len(fake.Calls("getSession"))
	waitFor(t, "three polls", func() bool { return len(fake.Calls("getSession")) >= n+3 })
	if got := e.actions(); got != "" {
		t.Fatalf("the code given up on reported %q", got)
	}
	fake.MovePIN("222222", "Waiting", "")
	waitFor(t, "waiting", func() bool { return e.state(req.SessionID) == core.StateWaiting })
}

// TestWatchCatchesUp sees a session first when it is already active, then
// already closed: the skipped steps are reported in order.
func TestWatchCatchesUp(t *testing.T) {
	fake := logmeintest.New(t)
	p, _ := newProvider(t, fake, withNode)
	e := newEngine()
	a, b := issue(t, p, e), issue(t, p, e)
	fake.Move(a, "Active", "Ana")
	fake.Move(b, "Closed by waiting customer", "")
	watch(t, p, e)
	waitFor(t, "both moved", func() bool { return e.state(a) == core.StateActive && e.state(b) == core.StateEnded })
	if got := e.actions(); strings.Count(got, "join") != 2 || strings.Count(got, "start") != 1 || strings.Count(got, "end") != 1 {
		t.Errorf("reports = %q", got)
	}
}

// TestWatchIsIdleWithoutSessions polls the engine, not the API, while no
// session is live.
func TestWatchIsIdleWithoutSessions(t *testing.T) {
	fake := logmeintest.New(t)
	p, _ := newProvider(t, fake, withNode)
	e := newEngine()
	watch(t, p, e)
	waitFor(t, "five rounds", func() bool { return e.lives() >= 5 })
	if n := len(fake.Calls("getSession")); n != 0 {
		t.Errorf("%d getSession calls with nothing to watch", n)
	}
}

func TestWatchBacksOffAndRecovers(t *testing.T) {
	fake := logmeintest.New(t)
	fake.Queue("getSession",
		logmeintest.Answer{Status: 500, Body: "Server Error"},
		logmeintest.Answer{Body: "ERROR"},
		logmeintest.Answer{Body: "garbage"},
	)
	p, logs := newProvider(t, fake, withNode)
	e := newEngine()
	id := issue(t, p, e)
	fake.Move(id, "Waiting", "")
	start := time.Now()
	watch(t, p, e)
	waitFor(t, "waiting", func() bool { return e.state(id) == core.StateWaiting })
	// Three failures wait 20+40+80ms at a 10ms interval.
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Errorf("recovered after %v: no backoff", d)
	}
	if s := logs.String(); strings.Count(s, "poll session status") != 3 {
		t.Errorf("want three logged failures:\n%s", s)
	}
}

// TestWatchRetriesAFailedReport tells the engine twice when the first
// report failed.
func TestWatchRetriesAFailedReport(t *testing.T) {
	fake := logmeintest.New(t)
	p, logs := newProvider(t, fake, withNode)
	e := newEngine()
	e.failNext = 1
	id := issue(t, p, e)
	fake.Move(id, "Waiting", "")
	watch(t, p, e)
	waitFor(t, "waiting", func() bool { return e.state(id) == core.StateWaiting })
	if got := e.actions(); got != "join" {
		t.Errorf("reports = %q", got)
	}
	if !strings.Contains(logs.String(), "store is down") {
		t.Errorf("the failed report was not logged:\n%s", logs)
	}
}

func TestWatchUnknownStatus(t *testing.T) {
	fake := logmeintest.New(t)
	p, logs := newProvider(t, fake, withNode)
	e := newEngine()
	id := issue(t, p, e)
	fake.Move(id, "Ativas", "Tom")
	watch(t, p, e)
	waitFor(t, "five polls", func() bool { return len(fake.Calls("getSession")) >= 5 })
	if got := e.actions(); got != "" {
		t.Errorf("reports = %q", got)
	}
	if n := strings.Count(logs.String(), "unknown session status"); n != 1 {
		t.Errorf("warned %d times about the status, want once", n)
	}
}

// TestWatchRenewsAuthCode replaces a requested authcode that getSession
// refuses.
func TestWatchRenewsAuthCode(t *testing.T) {
	fake := logmeintest.New(t)
	p, _ := newProvider(t, fake, func(o *logmein.Options) {
		o.NodeID, o.AuthCode, o.Email, o.Password = "337366", "", logmeintest.Email, logmeintest.Password
	})
	e := newEngine()
	id := issue(t, p, e)
	fake.SetAuthCode("a-newer-authcode")
	fake.Move(id, "Waiting", "")
	watch(t, p, e)
	waitFor(t, "waiting", func() bool { return e.state(id) == core.StateWaiting })
	if n := len(fake.Calls("requestAuthCode")); n != 2 {
		t.Errorf("%d requestAuthCode calls, want 2", n)
	}
}

func TestWatchWithoutNode(t *testing.T) {
	fake := logmeintest.New(t)
	p, logs := newProvider(t, fake, nil)
	e := newEngine()
	issue(t, p, e)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Watch(ctx, e.live, e.report); err != nil {
		t.Fatal(err)
	}
	if e.lives() != 0 || len(fake.Calls("getSession")) != 0 {
		t.Errorf("watched without a node")
	}
	if !strings.Contains(logs.String(), "logmein.node_id") {
		t.Errorf("no hint about logmein.node_id:\n%s", logs)
	}
}

package meshcentral_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/provider/meshcentral"
	"github.com/assistbot/assistbot/adapters/provider/meshcentral/meshcentraltest"
	"github.com/assistbot/assistbot/core"
)

// flakyLive is the engine's list of live sessions whose store fails while
// failing is set.
type flakyLive struct {
	liveSessions
	failing atomic.Bool
	failed  atomic.Int32
	calls   atomic.Int32
}

func (f *flakyLive) live(ctx context.Context) ([]*core.Session, error) {
	f.calls.Add(1)
	if f.failing.Load() {
		f.failed.Add(1)
		return nil, errors.New("database is briefly down")
	}
	return f.liveSessions.live(ctx)
}

// TestWatchJoinAfterAStoreHiccup: the customer's agent connects while
// the store's list of live sessions fails once: the watch looks again a
// moment later and reports the join. (It planned no retry: the join was
// never reported, the desk never alerted, the invite left open.)
func TestWatchJoinAfterAStoreHiccup(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, func(o *meshcentral.Options) { o.ReportRetry = 50 * time.Millisecond })
	req := request()
	tk, err := p.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	l := &flakyLive{}
	l.set(session(req, tk, core.StateSent))
	ch := watchWith(t, p, l.live, nil)
	waitFor(t, func() bool { return fake.Connections() == 1 && l.calls.Load() >= 1 })

	l.failing.Store(true)
	if _, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return l.failed.Load() >= 1 })
	l.failing.Store(false) // the store is back

	select {
	case r := <-ch:
		if r.Action != core.ActionJoin {
			t.Fatalf("report = %+v, want the join", r)
		}
	case <-time.After(3 * time.Second):
		m, _ := fake.Mesh(tk.Ref)
		t.Fatalf("the customer's join was never reported after the store's hiccup (invite codes still %v)", m.InviteCodes)
	}
}

// TestWatchEndAfterAStoreHiccup: the customer closes the program of an
// active session while the store fails once: the session still ends.
func TestWatchEndAfterAStoreHiccup(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, func(o *meshcentral.Options) {
		o.ReportRetry = 50 * time.Millisecond
		o.EndGrace = 100 * time.Millisecond
	})
	req := request()
	tk, err := p.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	node, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{})
	if err != nil {
		t.Fatal(err)
	}
	l := &flakyLive{}
	l.set(session(req, tk, core.StateActive))
	ch := watchWith(t, p, l.live, nil)
	waitFor(t, func() bool { return fake.Connections() == 1 && l.calls.Load() >= 1 })
	time.Sleep(100 * time.Millisecond) // the catch-up after connecting is done

	l.failing.Store(true)
	fake.DisconnectAgent(node)
	waitFor(t, func() bool { return l.failed.Load() >= 1 })
	l.failing.Store(false)

	select {
	case r := <-ch:
		if r.Action != core.ActionEnd {
			t.Fatalf("report = %+v, want the end", r)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the customer left an active session but its end was never reported after the store's hiccup")
	}
}

// TestStartForALongTechnicianName: MeshCentral takes a guest name of at
// most 128 UTF-16 units, as JavaScript counts; a name of 65 emoji (130
// units) made every Start fail with "ask an admin", when names were cut
// at 100 runes.
func TestStartForALongTechnicianName(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, nil)
	ctx := context.Background()
	req := request()
	tk, err := p.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{}); err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("\U0001F600", 65)
	if _, err := p.Start(ctx, session(req, tk, core.StateWaiting), core.ModeControl, name); err != nil {
		t.Errorf("Start for technician %q: %v (%s: %q)", name, err, core.ErrorCode(err), core.ErrorMessage(err))
	}
}

// TestWatchRetriesAFailedEnd: an end the engine failed to take (the store
// was briefly down) is made again ReportRetry later, not EndGrace (30 s)
// later as for a group found without its agent after a restart.
func TestWatchRetriesAFailedEnd(t *testing.T) {
	fake := meshcentraltest.New(t)
	p, _ := newProvider(t, fake, func(o *meshcentral.Options) { o.ReportRetry = 50 * time.Millisecond })
	req := request()
	tk, err := p.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	node, err := fake.JoinWithCode(tk.PIN, meshcentraltest.Agent{})
	if err != nil {
		t.Fatal(err)
	}
	var l liveSessions
	l.set(session(req, tk, core.StateActive))
	var refused atomic.Bool
	ch := watchWith(t, p, l.live, func(core.StatusReport) error {
		if refused.CompareAndSwap(false, true) {
			return core.Errorf(core.CodeUnavailable, "database is down") // the first report
		}
		return nil
	})
	waitFor(t, func() bool { return fake.Connections() == 1 })
	time.Sleep(100 * time.Millisecond)
	fake.DisconnectAgent(node)
	select {
	case r := <-ch:
		if r.Action != core.ActionEnd {
			t.Fatalf("report = %+v", r)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the failed end report was not made again within 3s (ReportRetry is 50ms): it waits for EndGrace")
	}
}

// slowConn delays what the server sends once armed.
type slowConn struct {
	net.Conn
	delay *atomic.Int64
}

func (c slowConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if d := time.Duration(c.delay.Load()); d > 0 {
		time.Sleep(d)
	}
	return n, err
}

// TestIssueAnsweredLateLeavesNoGroup: MeshCentral creates the group but
// answers after RequestTimeout: Issue fails, and the group it made is
// then deleted (it stayed on the server for good).
func TestIssueAnsweredLateLeavesNoGroup(t *testing.T) {
	fake := meshcentraltest.New(t)
	var delay atomic.Int64
	p, logs := newProvider(t, fake, func(o *meshcentral.Options) {
		o.RequestTimeout = 300 * time.Millisecond
		o.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return slowConn{Conn: c, delay: &delay}, nil
		}
	})
	ctx := context.Background()
	// The connection is open.
	if _, err := p.Client().Nodes(ctx, "mesh//none"); !meshcentral.IsResult(err, "Invalid group id") {
		t.Fatalf("warm-up: %v", err)
	}
	delay.Store(int64(600 * time.Millisecond))
	_, err := p.Issue(ctx, request())
	if err == nil {
		t.Fatal("Issue succeeded")
	}
	delay.Store(0)
	deadline := time.Now().Add(10 * time.Second)
	for fake.MeshCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Issue failed (%v), yet %d device group(s) it made stay on the server; log:\n%s", err, fake.MeshCount(), logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

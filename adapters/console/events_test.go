package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/escalation"
)

const eventWait = 5 * time.Second

// TestConsoleEvents follows the engine's updates on the console's event
// stream: a customer who starts waiting carries the alert sentence (what
// the sound's notification says), a message names its conversation.
func TestConsoleEvents(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	st := c.Events("/console/events")
	if ct := st.Resp.Header.Get("Content-Type"); st.Resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("stream: %d %s", st.Resp.StatusCode, ct)
	}

	s, _, err := r.Engine.Issue(ctx, issueFor(pat))
	if err != nil {
		t.Fatal(err)
	}
	ev := nextUpdate(t, st)
	if ev.Kind != "session" || ev.SessionID != s.ID || ev.Action != core.ActionIssue || ev.Alert != "" {
		t.Errorf("issue: %+v", ev)
	}
	r.Join(s, core.DeviceMobile)
	ev = nextUpdate(t, st)
	if ev.Action != core.ActionJoin || ev.State != core.StateWaiting || ev.Alert != "Customer is waiting (phone or tablet)." {
		t.Errorf("join: %+v", ev)
	}
	// The desk has no platform here; the engine's next update is the
	// message.
	if _, _, err := r.Engine.CustomerMessage(ctx, core.Inbound{Customer: pat, Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	ev = nextUpdate(t, st)
	if ev.Kind != "message" || ev.ConversationID != s.ConversationID || ev.Direction != core.FromCustomer {
		t.Errorf("message: %+v", ev)
	}
}

func nextUpdate(t *testing.T, st *webtest.Stream) consoleEvent {
	t.Helper()
	name, data := st.Next(eventWait)
	if name != "update" {
		t.Fatalf("event %q %s; want update", name, data)
	}
	var ev consoleEvent
	if err := json.Unmarshal([]byte(data), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestConsoleEventsResync drops the stream's hub subscription, as the hub
// does to a subscriber that falls behind: the stream subscribes again and
// tells the page to reload everything, then carries on.
func TestConsoleEventsResync(t *testing.T) {
	r := newRig(t)
	subs := make(chan chan core.Update, 4)
	r.console.subscribe = func(buf int) (<-chan core.Update, func()) {
		ch := make(chan core.Update, buf)
		subs <- ch
		return ch, func() {}
	}
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	st := c.Events("/console/events")
	first := <-subs
	close(first) // dropped
	if name, _ := st.Next(eventWait); name != "resync" {
		t.Fatalf("after the drop: %q; want resync", name)
	}
	var second chan core.Update
	select {
	case second = <-subs:
	case <-time.After(eventWait):
		t.Fatal("the stream did not subscribe again")
	}
	second <- core.Update{Session: &core.Session{ID: "s1", ConversationID: "c1", State: core.StateWaiting, Device: core.DeviceDesktop},
		Event: &core.Event{Action: core.ActionJoin}}
	if ev := nextUpdate(t, st); ev.SessionID != "s1" || ev.Alert != "Customer is waiting (computer)." {
		t.Errorf("after the resync: %+v", ev)
	}
}

// TestConsoleEventsEnd: a stream ends when its agent signs out (telling
// the page so) and when the server shuts down.
func TestConsoleEventsEnd(t *testing.T) {
	r := newRig(t)
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	st := c.Events("/console/events")
	c.Post("/console/logout", url.Values{"csrf": {c.CSRF}})
	if name, data := st.Next(eventWait); name != "signout" || !strings.Contains(data, "/console/login") {
		t.Errorf("after sign-out: %q %s", name, data)
	}

	signInAs(c, "alice", alicePW)
	st = c.Events("/console/events")
	r.console.doneOnce.Do(func() { close(r.console.done) }) // what Run does when the server stops
	if name, data := st.Next(eventWait); !strings.HasPrefix(data, "error: ") {
		t.Errorf("after shutdown the stream still sends %q %s", name, data)
	}
}

// TestEventsOutliveReadTimeout: the server's ReadTimeout leaves a read
// deadline on the connection, which would cancel a long stream; the
// stream clears it.
func TestEventsOutliveReadTimeout(t *testing.T) {
	r := newRig(t)
	ts := httptest.NewUnstartedServer(r.Server)
	ts.Config.ReadTimeout = 200 * time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)
	c := r.Visitor()
	c.Base = ts.URL
	signInAs(c, "alice", alicePW)
	st := c.Events("/console/events")
	time.Sleep(3 * ts.Config.ReadTimeout) // past the deadline the server set
	if _, _, err := r.Engine.Issue(ctx, issueFor(pat)); err != nil {
		t.Fatal(err)
	}
	if ev := nextUpdate(t, st); ev.Kind != "session" {
		t.Errorf("after the read timeout: %+v", ev)
	}
}

// TestConsoleRunEnds checks that Run returns when its context ends.
func TestConsoleRunEnds(t *testing.T) {
	r := newRig(t)
	c, err := New(Options{Engine: r.Engine, Bot: r.bot, Catalog: r.Catalog})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(cctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(eventWait):
		t.Fatal("Run did not return")
	}
}

// TestEscalationInQueue: a customer waiting past the first threshold
// stands out in the queue and chimes again, with the reminder as the
// notification; past the last, more so.
func TestEscalationInQueue(t *testing.T) {
	after := []time.Duration{time.Minute, 3 * time.Minute}
	w := webtest.New(t, webtest.Options{Policies: []core.DuePolicy{escalation.Policy{After: after}}})
	r := newRigOn(t, w, nil, func(o *Options) { o.Escalation = after })
	c := r.Visitor()
	signInAs(c, "alice", alicePW)
	req := issueFor(pat)
	req.Desk = core.Endpoint{Channel: core.ChannelConsole}
	s, _, err := r.Engine.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	r.Join(s, core.DeviceDesktop)
	if s, err = r.Engine.Session(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	st := c.Events("/console/events")
	row := func() string {
		t.Helper()
		_, body := c.Get("/console/queue")
		i := strings.Index(body, `data-session="`+s.ID+`"`)
		if i < 0 {
			t.Fatalf("the session is not in the queue:\n%s", body)
		}
		end := strings.Index(body[i:], "</li>")
		return body[strings.LastIndex(body[:i], "<li") : i+end]
	}
	if got := row(); strings.Contains(got, "escalated") {
		t.Errorf("a customer who just joined is escalated: %s", got)
	}
	for i, want := range []struct{ class, alert string }{
		{`class="row state-waiting escalated"`, "Pat has waited 1 min for a technician."},
		{`class="row state-waiting escalated escalated-final"`, "Pat has waited 3 min for a technician."},
	} {
		r.Clock.Add(after[i] - r.Clock.Now().Sub(s.JoinedAt))
		if n, err := r.Engine.RecordDue(ctx); err != nil || n != 1 {
			t.Fatalf("RecordDue = %d, %v", n, err)
		}
		ev := nextUpdate(t, st)
		for ev.Action != core.ActionEscalate {
			ev = nextUpdate(t, st)
		}
		if ev.Alert != want.alert {
			t.Errorf("escalation %d: alert %q, want %q", i+1, ev.Alert, want.alert)
		}
		if got := row(); !strings.Contains(got, want.class) || !strings.Contains(got, "Waiting long") {
			t.Errorf("escalation %d: row %s, want %s", i+1, got, want.class)
		}
	}
}

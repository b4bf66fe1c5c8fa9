package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres/pgtest"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
	"github.com/assistbot/assistbot/core/replicas"
	"github.com/google/go-cmp/cmp"
)

// listener is a Listen call in the background and what it heard.
type listener struct {
	heard      chan core.Announcement
	unreadable chan error
	stop       context.CancelFunc
	done       chan error
	listenings atomic.Int32 // how often it started to listen
}

// listen starts s.Listen and stops it when the test ends, failing the
// test unless it returns nil.
func listen(t *testing.T, s *Store) *listener {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	l := &listener{heard: make(chan core.Announcement, 1024), unreadable: make(chan error, 16), stop: stop, done: make(chan error, 1)}
	go func() {
		l.done <- s.Listen(ctx, func(a core.Announcement) { l.heard <- a }, func() { l.listenings.Add(1) }, func(err error) { l.unreadable <- err })
	}()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-l.done:
			if err != nil && !s.closed.Load() {
				t.Errorf("Listen = %v after its context ended, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Listen did not return after its context ended")
		}
	})
	return l
}

// until broadcasts with send, a new announcement every 20ms, until l
// hears one of them, and returns it: a listener hears only what is
// announced once it listens, and the test cannot see when that is.
func (l *listener) until(t *testing.T, prefix string, send func(core.Announcement) error) core.Announcement {
	t.Helper()
	guard := time.After(20 * time.Second) // a hang, not a measurement
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		if err := send(core.Announcement{SessionID: fmt.Sprintf("%s-%d", prefix, i)}); err != nil {
			t.Fatalf("Broadcast: %v", err)
		}
		for {
			select {
			case a := <-l.heard:
				if strings.HasPrefix(a.SessionID, prefix+"-") {
					return a
				}
				continue
			case <-tick.C:
			case <-guard:
				t.Fatalf("nothing announced as %s-… was heard", prefix)
			}
			break
		}
	}
}

// next returns the first announcement l hears whose session id is one of
// want, skipping those of the warm-ups.
func (l *listener) next(t *testing.T, want ...string) core.Announcement {
	t.Helper()
	guard := time.After(20 * time.Second)
	for {
		select {
		case a := <-l.heard:
			for _, w := range want {
				if a.SessionID == w {
					return a
				}
			}
		case <-guard:
			t.Fatalf("none of %v was heard", want)
		}
	}
}

// TestBroadcast has two stores on one database, as two replicas, and a
// third installation in another schema of it: B hears what A announces,
// whole; never what it announced itself, nor what the other installation
// did; it skips what is no announcement, telling why, and goes on; and
// when its connection drops, it connects again and hears what comes
// next.
func TestBroadcast(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	app := "assistbot-test-" + core.NewID()
	a := openDSN(t, dsn)
	b := openDSN(t, pgtest.WithParam(dsn, "application_name", app))
	other := openTest(t)
	admin := rawConn(t, pgtest.DSN())
	l := listen(t, b)
	l.until(t, "warm-up", func(x core.Announcement) error { return a.Broadcast(ctx, []core.Announcement{x}) })

	at := time.Date(2026, 11, 25, 9, 0, 0, 123456000, time.UTC)
	full := core.Announcement{SessionID: "from-a", DeliveryID: 42, ConversationID: "conv-1", MessageID: 7, Closer: "alice",
		Event: &core.Event{ID: 9, SessionID: "from-a", At: at, Actor: "agent:ada", Action: core.ActionJoin,
			From: core.StateSent, To: core.StateWaiting, Detail: "desktop link to sms:…0123"}}
	// Notifications reach a listener in the order their transactions
	// committed: had B heard its own, or the other installation's, it
	// would have heard it first.
	for _, send := range []func() error{
		func() error { return b.Broadcast(ctx, []core.Announcement{{SessionID: "from-b"}}) },
		func() error { return other.Broadcast(ctx, []core.Announcement{{SessionID: "from-other"}}) },
		func() error { return a.Broadcast(ctx, []core.Announcement{full}) },
	} {
		if err := send(); err != nil {
			t.Fatal(err)
		}
	}
	got := l.next(t, "from-a", "from-b", "from-other")
	if d := cmp.Diff(full, got); d != "" {
		t.Errorf("B heard (-announced +heard):\n%s", d)
	}

	for _, payload := range []string{`{not json`, `{"r":"someone"}`, `{"a":{"s":"x"}}`} {
		if _, err := admin.Exec(ctx, "SELECT pg_notify('assistbot_updates', $1)", payload); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-l.unreadable:
			if !strings.Contains(err.Error(), "no announcement") || strings.Contains(err.Error(), payload) {
				t.Errorf("unreadable(%v) for %s; want why, without the payload", err, payload)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s did not reach unreadable", payload)
		}
	}
	if err := a.Broadcast(ctx, []core.Announcement{{SessionID: "after-junk"}}); err != nil {
		t.Fatal(err)
	}
	l.next(t, "after-junk")

	// An event whose detail NOTIFY cannot carry arrives without it.
	long := full
	long.SessionID = "long"
	ev := *full.Event
	ev.Detail = strings.Repeat("x", 9000)
	long.Event = &ev
	if err := a.Broadcast(ctx, []core.Announcement{long}); err != nil {
		t.Fatalf("Broadcast(long detail): %v", err)
	}
	got = l.next(t, "long")
	ev.Detail = ""
	if d := cmp.Diff(long, got); d != "" {
		t.Errorf("B heard the long announcement as (-want +heard):\n%s", d)
	}

	// Several announcements go in one statement, and are heard one by
	// one, in order; one NOTIFY cannot carry is left out, and named.
	batch := []core.Announcement{{SessionID: "batch-1"}, {SessionID: "huge", Closer: strings.Repeat("x", 8000)}, {SessionID: "batch-2"}, {SessionID: "batch-3"}}
	if err := a.Broadcast(ctx, batch); err == nil || !strings.Contains(err.Error(), `"huge"`) {
		t.Errorf("Broadcast(a batch with one too big) = %v, want an error naming it", err)
	}
	for _, want := range []string{"batch-1", "batch-2", "batch-3"} {
		if got := l.next(t, "batch-1", "batch-2", "batch-3", "huge"); got.SessionID != want {
			t.Fatalf("B heard %q, want %q: the batch in its order, without the one too big", got.SessionID, want)
		}
	}

	if n := l.listenings.Load(); n != 1 {
		t.Errorf("B started to listen %d times before losing the database, want once", n)
	}

	// B loses the database: every one of its connections, the listener's
	// among them, is terminated.
	var before []uint32
	rows, err := admin.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", app)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pid uint32
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		before = append(before, pid)
	}
	if err := rows.Err(); err != nil || len(before) == 0 {
		t.Fatalf("B's connections: %v, %v; want the listener's at least", before, err)
	}
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY ($1)", before); err != nil {
		t.Fatal(err)
	}
	// pg_terminate_backend only signals: until the old connections are
	// gone, the listener's may still hear A once more.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var left int
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY ($1)", before).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of B's connections outlived pg_terminate_backend by 10 s", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.until(t, "after-drop", func(x core.Announcement) error { return a.Broadcast(ctx, []core.Announcement{x}) })
	var listening bool
	err = admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
		WHERE application_name = $1 AND NOT pid = ANY ($2))`, app, before).Scan(&listening)
	if err != nil || !listening {
		t.Errorf("B hears A again, but has no new connection (%v)", err)
	}
	// and says so, for its live views to reload what they missed.
	if n := l.listenings.Load(); n != 2 {
		t.Errorf("B started to listen %d times, want twice: at first and once reconnected", n)
	}
	select {
	case err := <-l.done:
		t.Errorf("Listen returned %v while its context went on", err)
	default:
	}
}

// TestListenEndsWithStore: a store that closes stops listening, and says
// so.
func TestListenEndsWithStore(t *testing.T) {
	s := openTest(t)
	done := make(chan error, 1)
	go func() { done <- s.Listen(context.Background(), func(core.Announcement) {}, func() {}, func(error) {}) }()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if core.ErrorCode(err) != core.CodeUnavailable {
			t.Errorf("Listen after Close = %v, want CodeUnavailable", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not return after Close")
	}
}

// TestUpdatesReachOtherReplicas runs two engines on two stores sharing a
// database: a console following replica B sees what a customer writes
// through replica A, and sees A's agent close the conversation.
func TestUpdatesReachOtherReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	newReplica := func() *core.Engine {
		st := openDSN(t, dsn)
		return core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Replicas: replicas.New(st, st, nil, nil), Store: st, Provider: &coretest.Provider{},
			Channels: []core.Channel{&coretest.Channel{ChannelName: core.ChannelWeb}, &coretest.Channel{ChannelName: core.ChannelConsole}}})
	}
	a, b := newReplica(), newReplica()
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, e := range []*core.Engine{a, b} {
		wg.Go(func() { e.Run(runCtx) })
	}
	defer func() { stop(); wg.Wait() }()
	onB, cancel := b.Subscribe(64)
	defer cancel()
	desk := core.Endpoint{Channel: core.ChannelConsole}
	say := func(chat, text string) (*core.Conversation, *core.Message) {
		t.Helper()
		c, m, err := a.CustomerMessage(ctx, core.Inbound{Customer: core.Endpoint{Channel: core.ChannelWeb, Address: chat}, Text: text, Desk: desk})
		if err != nil {
			t.Fatal(err)
		}
		return c, m
	}
	// B listens once it runs: until then, what A announces is lost.
	guard := time.After(20 * time.Second)
	for i, listening := 0, false; !listening; i++ {
		say(fmt.Sprintf("warm-up-%d", i), "hello?")
		select {
		case u := <-onB:
			listening = u.Message != nil
		case <-time.After(50 * time.Millisecond):
		case <-guard:
			t.Fatal("B never heard of A's messages")
		}
	}

	conv, m := say("chat-1", "my printer is on fire")
	next := func(what string, match func(core.Update) bool) core.Update {
		t.Helper()
		for {
			select {
			case u := <-onB:
				if match(u) {
					return u
				}
			case <-guard:
				t.Fatalf("B never heard of %s", what)
			}
		}
	}
	u := next("the message", func(u core.Update) bool { return u.Message != nil && u.Message.ID == m.ID })
	if u.Message.Text != "my printer is on fire" || u.Conversation == nil || u.Conversation.ID != conv.ID {
		t.Errorf("B heard message %+v of %+v, want %q of %s", u.Message, u.Conversation, m.Text, conv.ID)
	}
	if _, err := a.CloseConversation(ctx, conv.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	u = next("the closing", func(u core.Update) bool {
		return u.Closer != "" && u.Conversation != nil && u.Conversation.ID == conv.ID
	})
	if u.Closer != "alice" || u.Conversation.State != core.ConversationClosed {
		t.Errorf("B heard the closing by %q of %+v", u.Closer, u.Conversation)
	}
}

package core_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
	"github.com/assistbot/assistbot/core/replicas"
)

// bus is a shared store's announcement channel between replicas, in
// memory: each replica hears what the others broadcast.
type bus struct {
	mu    sync.Mutex
	heard map[string]chan core.Announcement
}

// replicaStore is a store shared by replicas: one memory store, and the
// bus.
type replicaStore struct {
	*coretest.MemStore
	bus *bus
	id  string
	// again, when it is sent on, has the listener start over, as after
	// a lost connection.
	again chan struct{}
}

func (s *replicaStore) Broadcast(ctx context.Context, as []core.Announcement) error {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	for id, c := range s.bus.heard {
		if id != s.id {
			for _, a := range as {
				c <- a
			}
		}
	}
	return nil
}

func (s *replicaStore) Listen(ctx context.Context, heard func(core.Announcement), listening func(), _ func(error)) error {
	c := make(chan core.Announcement, 64)
	s.bus.mu.Lock()
	s.bus.heard[s.id] = c
	s.bus.mu.Unlock()
	listening()
	for {
		select {
		case <-ctx.Done():
			return nil
		case a := <-c:
			heard(a)
		case <-s.again:
			listening()
		}
	}
}

// A replica that stopped hearing the others for a while has its live
// views reload what they show (their subscriptions end, as when they fall
// behind) once it hears them again; hearing them at first changes
// nothing.
func TestViewsReloadAfterAGap(t *testing.T) {
	st := &replicaStore{MemStore: coretest.NewMemStore(), bus: &bus{heard: map[string]chan core.Announcement{}}, id: "b", again: make(chan struct{})}
	rep := replicas.New(st, st, nil, nil)
	e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Replicas: rep, Store: st,
		Provider: &coretest.Provider{Pins: coretest.NewPINs("123456")}})
	view, cancel := e.Subscribe(16)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = e.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	select {
	case <-rep.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("the replica never heard the others")
	}
	select {
	case _, ok := <-view:
		t.Fatalf("the view got %v (open %v) when the replica first heard the others", view, ok)
	default:
	}
	st.again <- struct{}{}
	select {
	case _, ok := <-view:
		if ok {
			t.Fatal("the view got an update, not the end of its subscription")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the view was not told to reload after the gap")
	}
}

// A change made on one replica reaches the live views of another: a
// console following replica B sees the customer join through replica A,
// and the relayed message and the closing of the conversation too.
func TestUpdatesReachOtherReplicas(t *testing.T) {
	mem, b := coretest.NewMemStore(), &bus{heard: map[string]chan core.Announcement{}}
	clock := coretest.NewClock(t0)
	newReplica := func(id string) *core.Engine {
		st := &replicaStore{MemStore: mem, bus: b, id: id}
		return core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Replicas: replicas.New(st, st, clock, nil),
			Store: st, Clock: clock,
			Provider: &coretest.Provider{Pins: coretest.NewPINs("123456", "234567")},
			Channels: []core.Channel{&coretest.Channel{ChannelName: core.ChannelWeb}, &coretest.Channel{ChannelName: core.ChannelConsole}},
		})
	}
	a, bEngine := newReplica("a"), newReplica("b")
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, e := range []*core.Engine{a, bEngine} {
		wg.Go(func() { _ = e.Run(runCtx) })
	}
	defer func() { stop(); wg.Wait() }()
	// Wait until both replicas listen, as a running fleet does.
	for deadline := time.Now().Add(5 * time.Second); ; {
		b.mu.Lock()
		n := len(b.heard)
		b.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replicas never listened")
		}
		time.Sleep(time.Millisecond)
	}
	onB, cancel := bEngine.Subscribe(16)
	defer cancel()
	next := func(what string, match func(core.Update) bool) core.Update {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case u := <-onB:
				if match(u) {
					return u
				}
			case <-timeout:
				t.Fatalf("replica b never heard of %s", what)
			}
		}
	}

	chat := core.Endpoint{Channel: core.ChannelWeb, Address: "chat-1"}
	conv, m, err := a.CustomerMessage(ctx, core.Inbound{Customer: chat, Text: "help", Desk: core.Endpoint{Channel: core.ChannelConsole}})
	if err != nil {
		t.Fatal(err)
	}
	u := next("the message", func(u core.Update) bool { return u.Message != nil })
	if u.Message.ID != m.ID || u.Message.Text != "help" || u.Conversation == nil || u.Conversation.ID != conv.ID {
		t.Errorf("b heard message %+v of %+v, want %d of %s", u.Message, u.Conversation, m.ID, conv.ID)
	}
	if !u.Heard {
		t.Error("an update from replica a is not marked heard on b: b would post a's notes again")
	}

	s, _, err := a.Issue(ctx, core.Request{ConversationID: conv.ID, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	u = next("the join", func(u core.Update) bool { return u.Event != nil && u.Event.Action == core.ActionJoin })
	if u.Session == nil || u.Session.ID != s.ID || u.Session.State != core.StateWaiting || u.Session.Device != core.DeviceDesktop {
		t.Errorf("b heard the join with session %+v", u.Session)
	}

	if _, err := a.CloseConversation(ctx, conv.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	u = next("the closing", func(u core.Update) bool { return u.Closer != "" })
	if u.Closer != "alice" || u.Conversation.State != core.ConversationClosed {
		t.Errorf("b heard the closing by %q of %+v", u.Closer, u.Conversation)
	}
}

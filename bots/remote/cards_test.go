package remote_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// TestCardChanged is the rule for "this card changed", which the cards of
// Slack and Discord both follow (their TestCardFollowsSession,
// TestCardNotPostedTwice and TestLinkRetried exercise it end to end).
func TestCardChanged(t *testing.T) {
	v := func(version int) *core.Session { return &core.Session{ID: "s1", Version: version} }
	event := func(a core.Action) *core.Event { return &core.Event{SessionID: "s1", Action: a} }
	link := func(s core.DeliveryStatus) *core.Delivery {
		return &core.Delivery{SessionID: "s1", Notice: core.Notice{Kind: core.NoticeLink}, Status: s}
	}
	desk := &core.Delivery{SessionID: "s1", Notice: core.Notice{Kind: core.NoticeSession}, Status: core.DeliveryDelivered}
	reply := &core.Delivery{ConversationID: "c1", Notice: core.Notice{Kind: core.NoticeText}, Status: core.DeliveryFailed}
	issued := remote.Shown{Version: 1}
	sent := remote.Shown{Version: 2, Link: core.DeliveryQueued}
	for _, tc := range []struct {
		name  string
		u     core.Update
		shown remote.Shown
		want  bool
	}{
		{"the issue the command's card shows", core.Update{Session: v(1), Event: event(core.ActionIssue)}, issued, false},
		{"the customer joined", core.Update{Session: v(2), Event: event(core.ActionJoin)}, issued, true},
		{"the technician started", core.Update{Session: v(3), Event: event(core.ActionStart)}, sent, true},
		{"the PIN expired", core.Update{Session: v(2), Event: event(core.ActionExpire)}, issued, true},
		{"a press elsewhere (the console sent the link)", core.Update{Session: v(2), Event: event(core.ActionSend), Delivery: link(core.DeliveryQueued)}, issued, true},
		{"the agent's own press, shown by its answer", core.Update{Session: v(2), Event: event(core.ActionSend), Delivery: link(core.DeliveryQueued)}, sent, false},
		{"an older change arriving late", core.Update{Session: v(1), Event: event(core.ActionRegenerate)}, sent, false},
		{"the link was delivered", core.Update{Session: v(2), Delivery: link(core.DeliveryDelivered)}, sent, true},
		{"the link was not delivered", core.Update{Session: v(2), Delivery: link(core.DeliveryFailed)}, sent, true},
		{"a retry of the link, still queued", core.Update{Session: v(2), Delivery: link(core.DeliveryQueued)}, sent, false},
		{"the link's status, with a change since", core.Update{Session: v(3), Delivery: link(core.DeliveryDelivered)}, sent, true},
		{"a desk alert delivered", core.Update{Session: v(2), Delivery: desk}, sent, false},
		{"a relayed reply, of no session", core.Update{Delivery: reply}, sent, false},
		{"a conversation closed", core.Update{Conversation: &core.Conversation{ID: "c1"}, Closer: "alice"}, sent, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := remote.CardChanged(tc.u, tc.shown); got != tc.want {
				t.Errorf("CardChanged(%s) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

// drawn is a fake platform's screen: the cards drawn, by handle.
type drawn struct {
	mu    sync.Mutex
	cards []string // "handle: state label, delivery"
	fail  error
}

func (d *drawn) draw(_ context.Context, card *remote.Card, _ *core.Conversation, ref *string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return d.fail
	}
	d.cards = append(d.cards, *ref+": "+card.StateLabel+", "+card.Delivery)
	return nil
}

func (d *drawn) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.cards...)
}

// TestCards follows a card through the book as the platforms use it: the
// command's answer shows it, the engine's updates redraw it when the rule
// says so, a press brings a new handle, a spent handle draws nothing and
// an expired one is left alone.
func TestCards(t *testing.T) {
	r := newRig(t)
	d := &drawn{}
	cards := remote.NewCards(r.bot, remote.CardsOptions[string]{Draw: d.draw, Life: 15 * time.Minute, Now: r.clock.Now})
	sub := r.engine
	updates, stop := sub.Subscribe(64)
	defer stop()
	next := func() core.Update {
		t.Helper()
		select {
		case u := <-updates:
			return u
		case <-time.After(5 * time.Second):
			t.Fatal("no update")
		}
		return core.Update{}
	}

	is, err := r.bot.Issue(ctx, core.Request{Customer: pat, Agent: "alice"}, "")
	if err != nil {
		t.Fatal(err)
	}
	card := r.bot.IssuedCard(is, "en")
	cards.Track(&card, "en", "cmd")
	cards.Update(ctx, next()) // the issue: the card shows it
	cards.Wait()
	if got := d.list(); len(got) != 0 {
		t.Errorf("the command's own card drawn again: %v", got)
	}

	// A press elsewhere (the console) changes the card.
	if _, err := r.bot.Act(ctx, alice, remote.ActionSendMobile, is.Session.ID); err != nil {
		t.Fatal(err)
	}
	cards.Update(ctx, next())
	cards.Wait()
	if got := d.list(); len(got) != 1 || got[0] != "cmd: Link sent, Sending…" {
		t.Errorf("after a send elsewhere: %v", got)
	}

	// The agent presses Regenerate on the card: the press's handle draws
	// it; the engine's update of it then draws nothing more.
	res, err := r.bot.Act(ctx, alice, remote.ActionRegenerate, is.Session.ID)
	if err != nil {
		t.Fatal(err)
	}
	cards.Show(ctx, res.Session, "en", "click")
	cards.Update(ctx, next())
	cards.Wait()
	if got := d.list(); len(got) != 2 || got[1] != "click: PIN issued, Sending…" {
		t.Errorf("after the agent's own press: %v", got)
	}

	t.Run("held while a press is answered with the card", func(t *testing.T) {
		held := cards.Hold(is.Session.ID)
		p, err := r.bot.Press(ctx, alice, remote.ActionSendDesktop, is.Session.ID, func(*core.Session, *core.Conversation) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		cards.Update(ctx, next()) // the press's own update, before its answer
		card := r.bot.PressedCard(ctx, p, "en")
		held.Track(&card, "en", "press")
		held.Release() // again: harmless
		cards.Wait()
		if got := d.list(); len(got) != 2 {
			t.Errorf("the press's own update drew the card: %v", got[2:])
		}
		if card.Delivery != "Sending…" {
			t.Errorf("the press's card shows %q", card.Delivery)
		}
	})
	t.Run("a spent handle", func(t *testing.T) {
		d.fail = remote.ErrCardGone
		r.engine.Join(ctx, res.Session.PIN, core.DeviceDesktop)
		cards.Update(ctx, next())
		cards.Wait()
		d.fail = nil
		// The next press brings a handle that draws what was missed.
		s, _ := r.engine.Session(ctx, is.Session.ID)
		cards.Show(ctx, s, "en", "click2")
		if got := d.list(); len(got) != 3 || got[2] != "click2: Customer is waiting, Sending…" {
			t.Errorf("after a spent handle: %v", got)
		}
	})
	t.Run("catch up", func(t *testing.T) {
		cards.CatchUp(ctx)
		cards.Wait()
		if got := d.list(); len(got) != 4 || !strings.HasPrefix(got[3], "click2: ") {
			t.Errorf("after catching up: %v", got)
		}
	})
	t.Run("an expired handle", func(t *testing.T) {
		if !cards.OnScreen(is.Session.ID) {
			t.Error("the card is not on screen")
		}
		r.clock.Add(16 * time.Minute)
		if cards.OnScreen(is.Session.ID) {
			t.Error("a card whose handle expired is on screen")
		}
		r.engine.End(ctx, is.Session.ID, alice)
		for u := next(); u.Event == nil || u.Event.Action != core.ActionEnd; u = next() {
		}
		cards.CatchUp(ctx)
		cards.Wait()
		if got := d.list(); len(got) != 4 {
			t.Errorf("drawn with an expired handle: %v", got[4:])
		}
	})
	t.Run("forget", func(t *testing.T) {
		cards.Forget(is.Session.ID)
		if cards.OnScreen(is.Session.ID) {
			t.Error("a forgotten card is on screen")
		}
	})
}

// fakeHub is a Subscriber that drops its subscriber on demand, as the
// engine's hub drops one that falls behind.
type fakeHub struct {
	mu   sync.Mutex
	subs []chan core.Update
	n    chan int // the number of the subscription just made
}

func (h *fakeHub) Subscribe(buf int) (<-chan core.Update, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := make(chan core.Update, buf)
	h.subs = append(h.subs, c)
	h.n <- len(h.subs)
	return c, func() {}
}

// send publishes u to the latest subscriber; drop closes it.
func (h *fakeHub) send(u core.Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs[len(h.subs)-1] <- u
}

func (h *fakeHub) drop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.subs[len(h.subs)-1])
}

// TestFollower hands updates on in order, and when the hub drops it,
// subscribes again and catches up.
func TestFollower(t *testing.T) {
	hub := &fakeHub{n: make(chan int, 4)}
	got := make(chan string, 8)
	f := remote.Follower{
		Buffer:  4,
		Update:  func(_ context.Context, u core.Update) { got <- "update " + u.Session.ID },
		CatchUp: func(context.Context) { got <- "catch up" },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx, hub); close(done) }()
	want := func(s string) {
		t.Helper()
		select {
		case g := <-got:
			if g != s {
				t.Errorf("got %q, want %q", g, s)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q", s)
		}
	}
	<-hub.n
	hub.send(core.Update{Session: &core.Session{ID: "a"}})
	hub.send(core.Update{Session: &core.Session{ID: "b"}})
	want("update a")
	want("update b")
	hub.drop()
	if n := <-hub.n; n != 2 {
		t.Errorf("subscription %d", n)
	}
	want("catch up")
	hub.send(core.Update{Session: &core.Session{ID: "c"}})
	want("update c")
	cancel()
	<-done
}

// TestCardsDrawFailure logs a failed drawing, and draws again at the next
// change.
func TestCardsDrawFailure(t *testing.T) {
	r := newRig(t)
	d := &drawn{fail: errors.New("platform down")}
	cards := remote.NewCards(r.bot, remote.CardsOptions[string]{Draw: d.draw, Life: time.Hour, Now: r.clock.Now})
	is, _ := r.bot.Issue(ctx, core.Request{Customer: pat, Agent: "alice"}, "")
	card := r.bot.IssuedCard(is, "en")
	cards.Track(&card, "en", "cmd")
	j, _, _ := r.engine.Join(ctx, is.Session.PIN, core.DeviceDesktop)
	cards.Update(ctx, core.Update{Session: j, Event: &core.Event{Action: core.ActionJoin}})
	cards.Wait()
	d.fail = nil
	cards.Update(ctx, core.Update{Session: j, Event: &core.Event{Action: core.ActionJoin}})
	cards.Wait()
	if got := d.list(); len(got) != 1 || got[0] != "cmd: Customer is waiting, " {
		t.Errorf("drawn %v", got)
	}
}

package core_test

import (
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/escalation"
	"github.com/assistbot/assistbot/core/outbox"
)

// escalationReplicas returns two engines on one store and clock, as two
// replicas, escalating after 1 and 3 minutes of waiting and reminding
// of a link unopened for 5 minutes.
func escalationReplicas(t *testing.T) (a, b *core.Engine, store *coretest.MemStore, clock *coretest.Clock) {
	t.Helper()
	store, clock = coretest.NewMemStore(), coretest.NewClock(t0)
	p := &coretest.Provider{Pins: coretest.NewPINs("123456", "234567")}
	replica := func() *core.Engine {
		return core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: store, Provider: p, Clock: clock,
			Channels: []core.Channel{&coretest.Channel{ChannelName: core.ChannelSMS}, &coretest.Channel{ChannelName: core.ChannelSlack}},
			Policies: []core.DuePolicy{escalation.Policy{After: []time.Duration{time.Minute, 3 * time.Minute}, Unopened: 5 * time.Minute}}})
	}
	return replica(), replica(), store, clock
}

// reminders returns the reminders queued for the desk about session id.
func reminders(t *testing.T, store *coretest.MemStore, id string) []*core.Delivery {
	t.Helper()
	all, err := store.FindDeliveries(ctx, core.DeliveryFilter{SessionID: id})
	if err != nil {
		t.Fatal(err)
	}
	var out []*core.Delivery
	for i := len(all) - 1; i >= 0; i-- { // oldest first
		if all[i].Notice.Kind == core.NoticeReminder {
			out = append(out, all[i])
		}
	}
	return out
}

// sweepBoth runs both replicas' sweeps at once, as their tickers would.
func sweepBoth(t *testing.T, a, b *core.Engine) {
	t.Helper()
	var wg sync.WaitGroup
	for _, e := range []*core.Engine{a, b} {
		wg.Go(func() {
			if _, err := e.RecordDue(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestEscalation: a customer waiting past each threshold escalates once,
// whichever of two replicas sweeps first, with a reminder for the desk
// naming the agent; the last threshold's is final; nothing follows once
// a technician starts.
func TestEscalation(t *testing.T) {
	a, b, store, clock := escalationReplicas(t)
	s, _, err := a.Issue(ctx, core.Request{Customer: pat, Desk: desk, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		after time.Duration
		want  int // reminders so far
	}{{59 * time.Second, 0}, {time.Second, 1}, {time.Minute, 1}, {time.Minute, 2}, {10 * time.Minute, 2}}
	for _, st := range steps {
		clock.Add(st.after)
		for range 3 {
			sweepBoth(t, a, b)
		}
		if got := reminders(t, store, s.ID); len(got) != st.want {
			t.Fatalf("%v after the join: %d reminders, want %d", clock.Now().Sub(t0), len(got), st.want)
		}
	}
	got := reminders(t, store, s.ID)
	for i, d := range got {
		n := d.Notice
		if n.Action != core.ActionEscalate || n.Level != i+1 || n.Final != (i == 1) || n.Actor != "alice" || d.To != desk {
			t.Errorf("reminder %d: %+v to %v", i+1, n, d.To)
		}
	}
	if got[0].Notice.Waited != time.Minute || got[1].Notice.Waited != 3*time.Minute {
		t.Errorf("waited %v and %v, want 1m0s and 3m0s", got[0].Notice.Waited, got[1].Notice.Waited)
	}
	events, _ := a.Events(ctx, s.ID)
	n := 0
	for _, ev := range events {
		if ev.Action == core.ActionEscalate {
			n++
			if ev.From != core.StateWaiting || ev.To != core.StateWaiting {
				t.Errorf("escalation changed the state: %+v", ev)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d escalations in the log, want 2", n)
	}

	// A started session is not waiting any more.
	s2, _, err := a.Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550124"}, Desk: desk, Agent: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Join(ctx, s2.PIN, core.DeviceMobile); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Start(ctx, s2.ID, core.Actor{Kind: core.ActorTechnician, Name: "tom"}, core.ModeView); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	sweepBoth(t, a, b)
	if got := reminders(t, store, s2.ID); len(got) != 0 {
		t.Errorf("a started session escalated: %+v", got[0].Notice)
	}
}

// TestUnopenedReminder: an agent is reminded once that the customer has
// not opened the link sent five minutes ago; sending it again starts
// over; a link opened in time reminds nobody.
// TestEscalationAfterAPause: the sweepers were stopped (a restart, a
// deploy) past both thresholds: the desk hears once, at the final level,
// and not again at the next sweeps.
func TestEscalationAfterAPause(t *testing.T) {
	a, b, store, clock := escalationReplicas(t)
	s, _, err := a.Issue(ctx, core.Request{Customer: pat, Desk: desk, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	clock.Add(4 * time.Minute)
	for range 3 {
		sweepBoth(t, a, b)
		clock.Add(5 * time.Second)
	}
	got := reminders(t, store, s.ID)
	if len(got) != 1 || got[0].Notice.Level != 2 || !got[0].Notice.Final {
		for _, d := range got {
			t.Logf("reminder: %+v", d.Notice)
		}
		t.Fatalf("%d reminders after a pause past both thresholds, want one, final", len(got))
	}
}

func TestUnopenedReminder(t *testing.T) {
	a, b, store, clock := escalationReplicas(t)
	s, _, err := a.Issue(ctx, core.Request{Customer: pat, Desk: desk, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Send(ctx, s.ID, alice, core.LinkMobile); err != nil {
		t.Fatal(err)
	}
	clock.Add(4*time.Minute + 59*time.Second)
	sweepBoth(t, a, b)
	if got := reminders(t, store, s.ID); len(got) != 0 {
		t.Fatalf("reminded before five minutes: %+v", got[0].Notice)
	}
	clock.Add(time.Second)
	sweepBoth(t, a, b)
	clock.Add(time.Minute)
	sweepBoth(t, a, b)
	got := reminders(t, store, s.ID)
	if len(got) != 1 || got[0].Notice.Action != core.ActionRemind || got[0].Notice.Level != 0 || got[0].Notice.Actor != "alice" ||
		got[0].Notice.Waited != 5*time.Minute {
		t.Fatalf("reminders %+v, want one reminder of a link unopened for 5m", got)
	}
	if _, _, err := b.Send(ctx, s.ID, alice, core.LinkDesktop); err != nil {
		t.Fatal(err)
	}
	clock.Add(5 * time.Minute)
	sweepBoth(t, a, b)
	if got := reminders(t, store, s.ID); len(got) != 2 {
		t.Errorf("%d reminders after the link was sent again and left unopened, want 2", len(got))
	}
	// The customer joins in time: no reminder, and the wait starts now.
	if _, err := a.Regenerate(ctx, s.ID, alice); err != nil {
		t.Fatal(err)
	}
	cur, _ := a.Session(ctx, s.ID)
	if _, _, err := a.Send(ctx, s.ID, alice, core.LinkDesktop); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	if _, _, err := a.Join(ctx, cur.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	clock.Add(30 * time.Second)
	sweepBoth(t, a, b)
	if got := reminders(t, store, s.ID); len(got) != 2 {
		t.Errorf("%d reminders after the customer joined in time, want still 2", len(got))
	}
}

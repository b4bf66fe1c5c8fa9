package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/escalation"
	"github.com/assistbot/assistbot/core/outbox"
)

// RunEscalationOnce runs one engine per store of stores, all on one
// database (replicas) or all on one store (a single process), escalating
// after 1 and 3 minutes, with one clock: however their sweeps race, each
// threshold a waiting customer passes is one event in the log and one
// reminder for the desk.
func RunEscalationOnce(t *testing.T, stores []core.Store) {
	ctx := context.Background()
	clock := coretest.NewClock(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	p := &coretest.Provider{Pins: core.RandomPINs{}}
	var engines []*core.Engine
	for _, st := range stores {
		engines = append(engines, core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: st, Provider: p, Clock: clock,
			Channels: []core.Channel{&coretest.Channel{ChannelName: core.ChannelSMS}, &coretest.Channel{ChannelName: core.ChannelConsole}},
			Policies: []core.DuePolicy{escalation.Policy{After: []time.Duration{time.Minute, 3 * time.Minute}}}}))
	}
	s, _, err := engines[0].Issue(ctx, core.Request{Customer: core.Endpoint{Channel: core.ChannelSMS, Address: "+12015550123"},
		Desk: core.Endpoint{Channel: core.ChannelConsole}, Agent: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := engines[len(engines)-1].Join(ctx, s.PIN, core.DeviceDesktop); err != nil {
		t.Fatal(err)
	}
	count := func() (events, reminders int) {
		t.Helper()
		log, err := engines[0].Events(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range log {
			if ev.Action == core.ActionEscalate {
				events++
			}
		}
		ds, err := stores[0].FindDeliveries(ctx, core.DeliveryFilter{SessionID: s.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Notice.Kind == core.NoticeReminder {
				reminders++
			}
		}
		return events, reminders
	}
	var waited time.Duration
	for _, step := range []struct {
		after time.Duration
		want  int
	}{{30 * time.Second, 0}, {30 * time.Second, 1}, {time.Minute, 1}, {time.Minute, 2}, {time.Hour, 2}} {
		clock.Add(step.after)
		waited += step.after
		for range 4 {
			var wg sync.WaitGroup
			for _, e := range engines {
				wg.Go(func() {
					if _, err := e.RecordDue(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		if events, reminders := count(); events != step.want || reminders != step.want {
			t.Fatalf("%v after the join, %d engines: %d escalations and %d reminders, want %d of each",
				waited, len(engines), events, reminders, step.want)
		}
	}
}

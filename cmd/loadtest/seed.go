package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assistbot/assistbot/adapters/store/postgres"
	"github.com/assistbot/assistbot/adapters/store/sqlite"
	"github.com/assistbot/assistbot/core"
)

// runSeed is "loadtest seed".
func runSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	driver := fs.String("store", "sqlite", "sqlite or postgres")
	dsn := fs.String("dsn", "assistbot.db", "the SQLite file or the PostgreSQL connection string")
	n := fs.Int("sessions", 1_000_000, "how many sessions to store")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	if err := seed(ctx, *driver, *dsn, *n, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stored %d sessions with their events in %s\n", *n, time.Since(start).Round(time.Second))
	return nil
}

// seed stores n finished sessions, a month old or less, each with its
// conversation and the events of its life: what a busy desk's database
// holds after a while. It goes through the store's own API.
func seed(ctx context.Context, driver, dsn string, n int, progress io.Writer) error {
	var st core.Store
	var err error
	switch driver {
	case "sqlite":
		st, err = sqlite.Open(ctx, dsn)
	case "postgres":
		st, err = postgres.Open(ctx, dsn)
	default:
		return fmt.Errorf("--store %q: use sqlite or postgres", driver)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	var next, done atomic.Int64
	now := time.Now().UTC().Truncate(time.Microsecond)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				if err := st.CreateSession(ctx, finished(i, now)); err != nil {
					errs <- fmt.Errorf("session %d: %w", i, err)
					return
				}
				if d := done.Add(1); d%100_000 == 0 {
					fmt.Fprintf(progress, "  %d\n", d)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}

// finished returns the i-th seeded session: seven in ten ended after a
// technician's work, the rest closed or expired.
func finished(i int64, now time.Time) *core.Change {
	at := now.Add(-time.Duration(i%(30*24*60)) * time.Minute).Add(-time.Hour)
	convID, id := core.NewID(), core.NewID()
	customer := core.Endpoint{Channel: core.ChannelWeb, Address: fmt.Sprintf("seed-%d", i)}
	conv := &core.Conversation{ID: convID, Customer: customer, Desk: core.Endpoint{Channel: core.ChannelConsole},
		Locale: "en", State: core.ConversationClosed, CreatedAt: at, UpdatedAt: at}
	s := &core.Session{ID: id, ConversationID: convID, Provider: "builtin", PIN: fmt.Sprintf("%06d", i%1_000_000),
		PINExpiresAt: at.Add(20 * time.Minute), Device: core.DeviceDesktop, Agent: "alice", Locale: "en",
		CreatedAt: at, UpdatedAt: at.Add(10 * time.Minute)}
	ev := func(d time.Duration, a core.Action, from, to core.State, actor string) core.Event {
		return core.Event{SessionID: id, At: at.Add(d), Actor: actor, Action: a, From: from, To: to}
	}
	events := []core.Event{ev(0, core.ActionIssue, "", core.StateIssued, "agent:alice")}
	switch i % 10 {
	case 7:
		s.State = core.StateClosed
		events = append(events, ev(time.Minute, core.ActionClose, core.StateIssued, core.StateClosed, "agent:alice"))
	case 8, 9:
		s.State = core.StateExpired
		events = append(events, ev(20*time.Minute, core.ActionExpire, core.StateIssued, core.StateExpired, "system"))
	default:
		s.State, s.Mode, s.Technician = core.StateEnded, core.ModeView, "tom"
		s.JoinedAt, s.StartedAt, s.EndedAt = at.Add(2*time.Minute), at.Add(3*time.Minute), at.Add(10*time.Minute)
		events = append(events,
			ev(time.Minute, core.ActionSend, core.StateIssued, core.StateSent, "agent:alice"),
			ev(2*time.Minute, core.ActionJoin, core.StateSent, core.StateWaiting, "customer"),
			ev(3*time.Minute, core.ActionStart, core.StateWaiting, core.StateActive, "technician:tom"),
			ev(10*time.Minute, core.ActionEnd, core.StateActive, core.StateEnded, "technician:tom"))
	}
	return &core.Change{Conversation: conv, Session: s, Events: events}
}

package replicas_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/replicas"
)

// slowBroadcaster holds its first Broadcast until release is closed, as a
// database busy for a while would, and records every batch it is given.
type slowBroadcaster struct {
	entered chan struct{}
	release chan struct{}

	mu      sync.Mutex
	batches [][]core.Announcement
}

func newSlowBroadcaster() *slowBroadcaster {
	return &slowBroadcaster{entered: make(chan struct{}), release: make(chan struct{})}
}

func (b *slowBroadcaster) Broadcast(ctx context.Context, as []core.Announcement) error {
	b.mu.Lock()
	first := len(b.batches) == 0
	b.batches = append(b.batches, append([]core.Announcement(nil), as...))
	b.mu.Unlock()
	if first {
		close(b.entered)
		<-b.release
	}
	return nil
}

func (b *slowBroadcaster) Listen(ctx context.Context, _ func(core.Announcement), _ func(), _ func(error)) error {
	<-ctx.Done()
	return nil
}

// sent returns the session ids of every batch broadcast so far.
func (b *slowBroadcaster) sent() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ids [][]string
	for _, batch := range b.batches {
		var s []string
		for _, a := range batch {
			s = append(s, a.SessionID)
		}
		ids = append(ids, s)
	}
	return ids
}

// count returns how many announcements were broadcast so far.
func (b *slowBroadcaster) count() int {
	n := 0
	for _, batch := range b.sent() {
		n += len(batch)
	}
	return n
}

// records keeps what a slog.Logger logs.
type records struct {
	mu   sync.Mutex
	list []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, rec)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// warnings returns the message and the "updates" attribute of each
// warning logged.
func (r *records) warnings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var w []string
	for _, rec := range r.list {
		if rec.Level != slog.LevelWarn {
			continue
		}
		line := rec.Message
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == "updates" {
				line += fmt.Sprintf(" updates=%v", a.Value)
			}
			return true
		})
		w = append(w, line)
	}
	return w
}

func update(id string) core.Update { return core.Update{Session: &core.Session{ID: id}} }

// run starts r and returns a function that stops it and waits for it.
func run(t *testing.T, r *replicas.Replicas) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, func(core.Update) {}, func() {}) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond, for a test that cannot see when a goroutine got
// there; the guard catches a hang, it measures nothing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for guard := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(guard) {
			t.Fatalf("gave up waiting: %s", what)
		}
	}
}

// While one announcement is on its way, those that follow wait, and go
// together in the next round trip, in their order: at thousands of
// updates a second, one round trip each could not keep up.
func TestWaitingAnnouncementsGoTogether(t *testing.T) {
	b := newSlowBroadcaster()
	r := replicas.New(b, coretest.NewMemStore(), nil, nil)
	run(t, r)
	r.Announce(update("first"))
	<-b.entered
	for i := range 5 {
		r.Announce(update(fmt.Sprint("then-", i)))
	}
	close(b.release)
	waitFor(t, "six announcements broadcast", func() bool { return b.count() == 6 })
	got := fmt.Sprint(b.sent())
	if want := "[[first] [then-0 then-1 then-2 then-3 then-4]]"; got != want {
		t.Errorf("batches broadcast = %s, want %s", got, want)
	}
}

// When the database is too slow and the queue fills up, what does not
// fit is dropped, and the log says how many in one line instead of a
// line per update, which flooded it just when the replica was busiest.
func TestDroppedAnnouncementsAreCountedInOneLine(t *testing.T) {
	b := newSlowBroadcaster()
	log := &records{}
	r := replicas.New(b, coretest.NewMemStore(), nil, slog.New(log))
	stop := run(t, r)
	r.Announce(update("first"))
	<-b.entered
	const queued, over = 1024, 300
	for i := range queued + over {
		r.Announce(update(fmt.Sprint("u-", i)))
	}
	if w := log.warnings(); len(w) != 0 {
		t.Errorf("logged while the database was busy: %q; want one line once it answers", w)
	}
	close(b.release)
	waitFor(t, "the queue broadcast", func() bool { return b.count() == 1+queued })
	stop()
	want := fmt.Sprintf("updates were not announced to the other replicas: too many were waiting; the others show them on their next reload updates=%d", over)
	if w := log.warnings(); len(w) != 1 || w[0] != want {
		t.Errorf("warnings = %q, want one: %q", w, want)
	}
	// Nothing queued was lost, and the order held.
	var ids []string
	for _, batch := range b.sent()[1:] {
		ids = append(ids, batch...)
	}
	for i, id := range ids {
		if want := fmt.Sprint("u-", i); id != want {
			t.Fatalf("announcement %d broadcast is %q, want %q", i, id, want)
		}
	}
}

// lateBroadcaster hears one announcement as its replica shuts down.
type lateBroadcaster struct{}

func (lateBroadcaster) Broadcast(context.Context, []core.Announcement) error { return nil }

func (lateBroadcaster) Listen(ctx context.Context, heard func(core.Announcement), _ func(), _ func(error)) error {
	<-ctx.Done()
	heard(core.Announcement{SessionID: "s1"})
	return nil
}

// ctxStore reads nothing once the context of the read has ended, as a
// database does.
type ctxStore struct{ *coretest.MemStore }

func (s ctxStore) FindSession(ctx context.Context, id string) (*core.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.MemStore.FindSession(ctx, id)
}

// An announcement heard while the replica shuts down cannot be read any
// more; that is no reason to warn in the log.
func TestShutdownCutsReadsQuietly(t *testing.T) {
	log := &records{}
	r := replicas.New(lateBroadcaster{}, ctxStore{coretest.NewMemStore()}, nil, slog.New(log))
	stop := run(t, r)
	stop()
	if w := log.warnings(); len(w) != 0 {
		t.Errorf("warnings at shutdown: %q", w)
	}
}

package retention_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/retention"
)

// epoch is the tests' now.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// backlog is a store holding old rows that Prune deletes batch by batch.
type backlog struct {
	mu       sync.Mutex
	sessions int // finished sessions past any retention
	calls    []time.Time
	limits   []int
	fail     error
	locked   bool // another replica holds the lock
}

func (b *backlog) Prune(_ context.Context, before time.Time, limit int) (retention.Pruned, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, before)
	b.limits = append(b.limits, limit)
	if b.fail != nil {
		return retention.Pruned{}, b.fail
	}
	n := min(limit, b.sessions)
	b.sessions -= n
	return retention.Pruned{Sessions: n, Events: 3 * n}, nil
}

func (b *backlog) TryLock(context.Context, string) (<-chan struct{}, func(), bool, error) {
	if b.locked {
		return nil, nil, false, nil
	}
	return make(chan struct{}), func() {}, true, nil
}

func TestPruneDeletesTheBacklogInBatches(t *testing.T) {
	store := &backlog{sessions: 1234}
	var logs bytes.Buffer
	var observed []retention.Pruned
	p := retention.New(retention.Options{Store: store, Keep: 90 * 24 * time.Hour, Batch: 500, Pause: time.Millisecond,
		Clock: coretest.NewClock(epoch), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Observe: func(n retention.Pruned) { observed = append(observed, n) }})
	got, err := p.Prune(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.Sessions != 1234 || got.Events != 3702 || store.sessions != 0 {
		t.Errorf("pruned %+v, %d sessions left; want all 1234 sessions and their 3702 events", got, store.sessions)
	}
	// 500, 500, 234: the third batch was not full, so there is no fourth.
	if len(store.calls) != 3 {
		t.Errorf("%d batches, want 3", len(store.calls))
	}
	want := epoch.Add(-90 * 24 * time.Hour)
	for i, before := range store.calls {
		if !before.Equal(want) || store.limits[i] != 500 {
			t.Errorf("batch %d: before %s limit %d, want %s and 500", i, before, store.limits[i], want)
		}
	}
	if len(observed) != 1 || observed[0] != got {
		t.Errorf("observed %+v, want one report of %+v", observed, got)
	}
	if !strings.Contains(logs.String(), "sessions=1234") || !strings.Contains(logs.String(), "events=3702") {
		t.Errorf("the log does not say what was pruned:\n%s", logs.String())
	}

	// Nothing left: nothing said.
	logs.Reset()
	if got, err := p.Prune(t.Context()); err != nil || !got.Zero() {
		t.Errorf("second prune: %+v, %v", got, err)
	}
	if logs.Len() != 0 || len(observed) != 1 {
		t.Errorf("a prune that deleted nothing reported: %q, %d observations", logs.String(), len(observed))
	}
}

func TestPruneKeepsEverythingWithoutRetention(t *testing.T) {
	store := &backlog{sessions: 10}
	p := retention.New(retention.Options{Store: store})
	if got, err := p.Prune(t.Context()); err != nil || !got.Zero() || len(store.calls) != 0 {
		t.Errorf("with no retention: pruned %+v (%v) in %d calls", got, err, len(store.calls))
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Run(ctx); err != nil || len(store.calls) != 0 {
		t.Errorf("Run with no retention: %v, %d calls", err, len(store.calls))
	}
}

func TestPruneLeavesItToTheReplicaHoldingTheLock(t *testing.T) {
	store := &backlog{sessions: 10, locked: true}
	p := retention.New(retention.Options{Store: store, Keep: time.Hour})
	if got, err := p.Prune(t.Context()); err != nil || !got.Zero() || len(store.calls) != 0 {
		t.Errorf("with the lock held elsewhere: pruned %+v (%v) in %d calls", got, err, len(store.calls))
	}
}

func TestRunLogsAFailureAndGoesOn(t *testing.T) {
	store := &backlog{sessions: 10, fail: errors.New("disk full")}
	var logs bytes.Buffer
	p := retention.New(retention.Options{Store: store, Keep: time.Hour, Every: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	for {
		store.mu.Lock()
		n := len(store.calls)
		store.mu.Unlock()
		if n >= 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if !strings.Contains(logs.String(), "disk full") {
		t.Errorf("the failure was not logged:\n%s", logs.String())
	}
}

// lostLock is a store whose lock is lost after the first batch.
type lostLock struct {
	backlog
	lost chan struct{}
}

func (l *lostLock) TryLock(context.Context, string) (<-chan struct{}, func(), bool, error) {
	return l.lost, func() {}, true, nil
}

func (l *lostLock) Prune(ctx context.Context, before time.Time, limit int) (retention.Pruned, error) {
	if err := ctx.Err(); err != nil {
		return retention.Pruned{}, err
	}
	n, err := l.backlog.Prune(ctx, before, limit)
	if len(l.calls) == 1 {
		close(l.lost) // the database dropped the lock's connection
		// and the pruner, told so, cancels what it asked of the store
		// before this batch is over, however late its goroutine runs.
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
		}
	}
	return n, err
}

func TestPruneStopsWhenTheLockIsLost(t *testing.T) {
	store := &lostLock{backlog: backlog{sessions: 1000}, lost: make(chan struct{})}
	p := retention.New(retention.Options{Store: store, Keep: time.Hour, Batch: 100, Pause: 50 * time.Millisecond})
	got, err := p.Prune(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.Sessions != 100 || len(store.calls) > 1 {
		t.Errorf("pruned %d sessions in %d batches after losing the lock, want the first batch of 100 alone", got.Sessions, len(store.calls))
	}
}

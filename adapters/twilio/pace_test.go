package twilio

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// fakeTime is a clock for the pacer: sleeping records the wait and, when
// advance is set, moves the clock.
type fakeTime struct {
	mu      sync.Mutex
	now     time.Time
	advance bool
	slept   []time.Duration
	fail    error
}

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slept = append(f.slept, d)
	if f.fail != nil {
		return f.fail
	}
	if f.advance {
		f.now = f.now.Add(d)
	}
	return nil
}

func (f *fakeTime) Slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.slept)
}

func newFakePacer(mps float64) (*pacer, *fakeTime) {
	ft := &fakeTime{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	p := newPacer(mps)
	p.now, p.sleep = ft.Now, ft.Sleep
	return p, ft
}

// TestPacerQueuesEveryMessage lets five messages from one number ask at
// the same instant at 2 per second: each waits its turn, half a second
// apart, and none is dropped; another number does not wait for them.
func TestPacerQueuesEveryMessage(t *testing.T) {
	p, ft := newFakePacer(2)
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() { errs <- p.wait(context.Background(), "+12015550100", "busy") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a message was refused: %v", err)
		}
	}
	got := ft.Slept()
	slices.Sort(got)
	want := []time.Duration{500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v (the first goes at once)", got, want)
	}
	if err := p.wait(context.Background(), "MG0123", "busy"); err != nil || len(ft.Slept()) != 4 {
		t.Errorf("another sender waited: %v, waits %v", err, ft.Slept())
	}
}

// TestPacerGivesBackCanceledTurns: a message whose context ends while it
// waits is retried later, and its turn goes to the next message.
func TestPacerGivesBackCanceledTurns(t *testing.T) {
	p, ft := newFakePacer(1)
	ctx := context.Background()
	if err := p.wait(ctx, "+12015550100", "busy"); err != nil {
		t.Fatal(err)
	}
	ft.fail = context.Canceled
	err := p.wait(ctx, "+12015550100", "busy")
	if core.ErrorCode(err) != core.CodeRateLimited || core.ErrorMessage(err) != "busy" {
		t.Fatalf("canceled wait: %v", err)
	}
	ft.fail = nil
	if err := p.wait(ctx, "+12015550100", "busy"); err != nil {
		t.Fatal(err)
	}
	if got := ft.Slept(); len(got) != 2 || got[1] != time.Second {
		t.Errorf("waits %v: the canceled turn was not given back", got)
	}
}

// TestPacerDeadline: a wait longer than the delivery may take is not
// started; the outbox is told when to come back.
func TestPacerDeadline(t *testing.T) {
	p, ft := newFakePacer(0.5)
	if err := p.wait(context.Background(), "+12015550100", "busy"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := p.wait(ctx, "+12015550100", "busy")
	if retry, ok := core.RetryAfter(err); core.ErrorCode(err) != core.CodeRateLimited || !ok || retry != 2*time.Second {
		t.Errorf("err %v, retry %v", err, retry)
	}
	if len(ft.Slept()) != 0 {
		t.Errorf("it waited %v", ft.Slept())
	}
}

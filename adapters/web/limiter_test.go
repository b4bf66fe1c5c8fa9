package web

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core/coretest"
)

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// TestLimiter follows one client through its allowance: three attempts a
// minute, refilled evenly, with a warning on the first refusal of each
// period only.
func TestLimiter(t *testing.T) {
	clock := coretest.NewClock(t0)
	l := NewLimiter(LimiterOptions{PerClient: 3, Clock: clock})
	for i := range 3 {
		if no := l.Take("a"); no.Wait != 0 {
			t.Fatalf("attempt %d refused: %+v", i, no)
		}
	}
	no := l.Take("a")
	if no.Wait != 20*time.Second || no.Global || !no.Warn {
		t.Errorf("fourth attempt: %+v; want a 20s wait with a warning", no)
	}
	if again := l.Take("a"); again.Wait == 0 || again.Warn {
		t.Errorf("fifth attempt: %+v; want refused without a second warning", again)
	}
	if no := l.Take("b"); no.Wait != 0 {
		t.Errorf("another client is limited: %+v", no)
	}
	clock.Add(19 * time.Second)
	if no := l.Take("a"); RetryAfter(no.Wait) != "1" {
		t.Errorf("19s later: %+v; want a wait of one second", no)
	}
	clock.Add(time.Second)
	if no := l.Take("a"); no.Wait != 0 {
		t.Errorf("20s later: %+v", no)
	}
	clock.Add(time.Minute)
	for range 3 {
		l.Take("a")
	}
	if no := l.Take("a"); !no.Warn {
		t.Errorf("a period later the refusal does not warn again: %+v", no)
	}
}

// TestLimiterRefund: an attempt that did not count is given back, and a
// client whose allowance is whole again is forgotten.
func TestLimiterRefund(t *testing.T) {
	clock := coretest.NewClock(t0)
	l := NewLimiter(LimiterOptions{PerClient: 1, Clock: clock})
	for i := range 5 {
		if no := l.Take("a"); no.Wait != 0 {
			t.Fatalf("attempt %d refused although each was refunded: %+v", i, no)
		}
		l.Refund("a")
	}
	if n := l.Len(); n != 0 {
		t.Errorf("%d clients remembered with whole allowances", n)
	}
	l.Take("a")
	if no := l.Take("a"); no.Wait == 0 {
		t.Error("an attempt beyond the allowance went ahead")
	}
	l.Refund("x") // never took: nothing happens
}

// TestLimiterGlobal: the allowance of everyone together refuses a client
// that has its own left, and says so.
func TestLimiterGlobal(t *testing.T) {
	clock := coretest.NewClock(t0)
	l := NewLimiter(LimiterOptions{PerClient: 100, Global: 2, Clock: clock})
	l.Take("a")
	l.Take("b")
	no := l.Take("c")
	if no.Wait != 30*time.Second || !no.Global || !no.Warn {
		t.Errorf("third client: %+v; want the global limit's 30s with a warning", no)
	}
	l.Refund("a")
	if no := l.Take("c"); no.Wait != 0 {
		t.Errorf("after a refund: %+v", no)
	}
}

// TestLimiterTakesAtomically: however many attempts one client sends at
// once, no more than its allowance go ahead.
func TestLimiterTakesAtomically(t *testing.T) {
	l := NewLimiter(LimiterOptions{PerClient: 10, Global: 1000, Clock: coretest.NewClock(t0)})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ahead := 0
	for range 30 {
		wg.Go(func() {
			if l.Take("one address").Wait == 0 {
				mu.Lock()
				ahead++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ahead != 10 {
		t.Errorf("%d of 30 simultaneous attempts went ahead; want 10", ahead)
	}
}

// TestLimiterBounded: the clients remembered stay bounded: idle clients
// are forgotten, and one with endless addresses only pushes out the
// oldest.
func TestLimiterBounded(t *testing.T) {
	clock := coretest.NewClock(t0)
	l := NewLimiter(LimiterOptions{PerClient: 5, Global: 1 << 30, Clock: clock})
	for i := range DefaultMaxClients + 500 {
		l.Take(fmt.Sprintf("client-%d", i))
	}
	if n := l.Len(); n != DefaultMaxClients {
		t.Errorf("size = %d, want the cap %d", n, DefaultMaxClients)
	}
	if no := l.Take(fmt.Sprintf("client-%d", DefaultMaxClients+499)); no.Wait != 0 {
		t.Errorf("a client with one attempt of five must wait %s", no.Wait)
	}
	clock.Add(time.Minute)
	l.Take("late")
	if n := l.Len(); n != 1 {
		t.Errorf("size after a minute = %d, want 1: idle clients must be forgotten", n)
	}
}

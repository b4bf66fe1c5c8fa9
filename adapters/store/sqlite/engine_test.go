package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

// tinyPINs draws from a space of size PINs at random, so that concurrent
// issues collide often. It counts its draws.
type tinyPINs struct {
	size  int
	draws atomic.Int64
}

func (p *tinyPINs) PIN(digits int) (string, error) {
	p.draws.Add(1)
	return fmt.Sprintf("%0*d", digits, 424200+rand.IntN(p.size)), nil
}

// TestConcurrentIssueUniquePINs runs the engine on SQLite with a PIN
// source of 30 values and 12 agents who each, over and over, issue a
// session, regenerate its PIN and close it: at most 12 PINs are live at
// once, so there is always a free one, but most draws hit a live PIN.
// Whatever the interleaving, no two live sessions may hold the same PIN,
// and every Issue and Regenerate either succeeds or gives up with the
// documented CodeConflict ("try again").
func TestConcurrentIssueUniquePINs(t *testing.T) {
	const (
		space  = 30
		agents = 12
		rounds = 25
	)
	ctx := context.Background()
	st := openTemp(t)
	pins := &tinyPINs{size: space}
	e := core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: st, Provider: &coretest.Provider{Pins: pins}})
	agent := core.Actor{Kind: core.ActorAgent, Name: "alice"}

	// live holds the PIN of every session between the commit that made
	// it live and the call that ends it: a subset of its real lifetime,
	// so two sessions in live with one PIN really overlapped.
	var mu sync.Mutex
	live := map[string]string{} // pin → session id
	hold := func(pin, id string) {
		mu.Lock()
		defer mu.Unlock()
		if other, ok := live[pin]; ok {
			t.Errorf("sessions %s and %s are both live with pin %s", other, id, pin)
		}
		live[pin] = id
	}
	drop := func(pin, id string) {
		mu.Lock()
		defer mu.Unlock()
		if live[pin] == id {
			delete(live, pin)
		}
	}
	// refused reports whether err is the documented answer to a PIN
	// space too full to find a free one in a few tries; any other error
	// fails the test.
	var conflicts atomic.Int64
	refused := func(op string, err error) bool {
		if err == nil {
			return false
		}
		if core.ErrorCode(err) != core.CodeConflict {
			t.Errorf("%s: %v (code %s), want success or %s", op, err, core.ErrorCode(err), core.CodeConflict)
		} else {
			conflicts.Add(1)
		}
		return true
	}

	var issued, regenerated atomic.Int64
	stop := make(chan struct{})
	var checks sync.WaitGroup
	// A reader checks the store's own view of the live PINs meanwhile.
	checks.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			list, err := st.FindSessions(ctx, core.SessionFilter{States: []core.State{core.StateIssued, core.StateSent}})
			if err != nil {
				t.Errorf("FindSessions: %v", err)
				return
			}
			seen := map[string]string{}
			for _, s := range list {
				if other, ok := seen[s.PIN]; ok {
					t.Errorf("the store holds sessions %s and %s live with pin %s", other, s.ID, s.PIN)
				}
				seen[s.PIN] = s.ID
			}
		}
	})
	var wg sync.WaitGroup
	for range agents {
		wg.Go(func() {
			for range rounds {
				s, _, err := e.Issue(ctx, core.Request{Agent: agent.Name})
				if refused("Issue", err) {
					continue
				}
				issued.Add(1)
				hold(s.PIN, s.ID)
				old := s.PIN
				drop(old, s.ID) // live until Regenerate commits, but no longer counted
				n, err := e.Regenerate(ctx, s.ID, agent)
				if !refused("Regenerate", err) {
					regenerated.Add(1)
					hold(n.PIN, n.ID)
					old = n.PIN
				}
				drop(old, s.ID)
				if _, err := e.Close(ctx, s.ID, agent); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	checks.Wait()

	t.Logf("%d issued, %d regenerated, %d refused with a conflict, %d pins drawn from %d",
		issued.Load(), regenerated.Load(), conflicts.Load(), pins.draws.Load(), space)
	// The test means something only if PINs collided and most operations
	// still got one.
	if ops := issued.Load() + regenerated.Load(); pins.draws.Load() <= ops {
		t.Errorf("%d pins drawn for %d sessions and regenerations: no collision was exercised", pins.draws.Load(), ops)
	}
	if issued.Load() < agents*rounds/2 {
		t.Errorf("only %d of %d issues succeeded", issued.Load(), agents*rounds)
	}
	if list, err := st.FindSessions(ctx, core.SessionFilter{States: []core.State{core.StateIssued, core.StateSent}}); err != nil || len(list) != 0 {
		t.Errorf("%d sessions still live after every one was closed (%v)", len(list), err)
	}
}

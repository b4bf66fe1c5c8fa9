package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// testConcurrentPINs races many creators over few PINs. Every session
// stays live, so each PIN drawn is won exactly once and every other
// attempt at it must fail with ErrPINInUse.
func testConcurrentPINs(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	const workers, perWorker, pins = 32, 50, 20
	c := f.conversation(core.Endpoint{})
	if err := f.st.CreateConversation(ctx, c); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	var (
		mu       sync.Mutex
		won      []*core.Session
		drawn    = map[string]bool{}
		refused  int
		failures []error
		wg       sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range perWorker {
				pin := fmt.Sprintf("9%05d", r.IntN(pins))
				s := NewSession(fmt.Sprintf("race-%02d-%02d", w, i), c.ID, pin, core.StateIssued, At(time.Duration(i)*time.Second))
				err := f.st.CreateSession(ctx, &core.Change{Session: s,
					Events: []core.Event{NewEvent(s, core.ActionIssue, "", core.StateIssued, s.CreatedAt)}})
				mu.Lock()
				drawn[pin] = true
				switch {
				case err == nil:
					won = append(won, s)
				case errors.Is(err, core.ErrPINInUse):
					refused++
				default:
					failures = append(failures, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range failures {
		t.Errorf("CreateSession: %v, want nil or ErrPINInUse", err)
	}
	if len(won) != len(drawn) || len(won)+refused != workers*perWorker {
		t.Errorf("%d creates won and %d refused for %d PINs drawn; want one win per PIN and %d attempts",
			len(won), refused, len(drawn), workers*perWorker)
	}
	for _, s := range won {
		wantSame(t, "session that won its PIN", s, f.findSession(s.ID))
		if evs := f.findEvents(s.ID); len(evs) != 1 {
			t.Errorf("session %s has %d events, want 1", s.ID, len(evs))
		}
	}
	live, err := f.st.FindSessions(ctx, core.SessionFilter{States: []core.State{core.StateIssued, core.StateSent}, Limit: 1000})
	if err != nil {
		t.Fatalf("FindSessions: %v", err)
	}
	holders := map[string]string{}
	for _, s := range live {
		if other, ok := holders[s.PIN]; ok {
			t.Errorf("sessions %s and %s share the live PIN %s", other, s.ID, s.PIN)
		}
		holders[s.PIN] = s.ID
	}
	if len(live) != len(won) {
		t.Errorf("%d live sessions, want %d", len(live), len(won))
	}
}

// testConcurrentUpdate has two writers update the same read of a session
// at once, many times over: exactly one may win each race.
func testConcurrentUpdate(t *testing.T, f *storeFixture) {
	for round := range 10 {
		s := f.issue(fmt.Sprintf("50000%d", round), core.StateIssued)
		reads := []*core.Session{f.findSession(s.ID), f.findSession(s.ID)}
		reads[0].State, reads[1].State = core.StateSent, core.StateClosed
		errs := make([]error, 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, r := range reads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = f.st.UpdateSession(t.Context(), &core.Change{Session: r,
					Events: []core.Event{NewEvent(r, core.ActionSend, core.StateIssued, r.State, At(time.Hour))}})
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner < 0:
				winner = i
			case err == nil:
				t.Fatalf("round %d: both updates of version 1 succeeded", round)
			default:
				wantIs(t, fmt.Sprintf("round %d: losing update", round), err, core.ErrVersion)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no update succeeded: %v", round, errs)
		}
		wantSame(t, "session after the race", reads[winner], f.findSession(s.ID))
		if evs := f.findEvents(s.ID); len(evs) != 2 {
			t.Errorf("round %d: %d events, want 2 (issue and the winner's)", round, len(evs))
		}
	}
}

// testConcurrentOpenConversation races creators of a conversation for one
// customer: one wins, the others get ErrOpenConversation.
func testConcurrentOpenConversation(t *testing.T, f *storeFixture) {
	const n = 16
	ep := core.Endpoint{Channel: core.ChannelSMS, Address: "+15550100077"}
	convs := make([]*core.Conversation, n)
	for i := range convs {
		convs[i] = f.conversation(ep)
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f.st.CreateConversation(t.Context(), c)
		}()
	}
	close(start)
	wg.Wait()
	var winners []string
	for i, err := range errs {
		if err == nil {
			winners = append(winners, convs[i].ID)
		} else {
			wantIs(t, "losing CreateConversation", err, core.ErrOpenConversation)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d conversations created, want 1", len(winners))
	}
	got, err := f.st.FindOpenConversation(t.Context(), ep)
	if err != nil || got.ID != winners[0] {
		t.Errorf("FindOpenConversation = %v, %v; want %s", got, err, winners[0])
	}
}

// testConcurrentClaims has workers claim and send one outbox at once, many
// deliveries to a few recipients: every delivery is claimed once, and the
// claims of each recipient's deliveries follow the order they were queued
// in, without a gap, a later one never before an earlier one was saved.
func testConcurrentClaims(t *testing.T, f *storeFixture) {
	ctx := t.Context()
	const workers, keys, perKey = 8, 12, 20
	now := At(time.Hour)
	s := f.issue("500100", core.StateIssued)
	queued := map[string][]int64{}
	for range perKey {
		var ds []*core.Delivery
		for k := range keys {
			d := newDelivery(s, now)
			d.To.Address = fmt.Sprintf("+1555030%04d", k)
			ds = append(ds, d)
		}
		f.queue(s, ds...)
		for _, d := range ds {
			queued[d.To.Address] = append(queued[d.To.Address], d.ID)
		}
	}
	var (
		mu      sync.Mutex
		claimed = map[string][]int64{} // by recipient, in the order the claims returned
		seen    = map[int64]bool{}
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	for range workers {
		wg.Go(func() {
			<-start
			for {
				got, err := f.st.ClaimDeliveries(ctx, now, 5, time.Hour)
				if err != nil {
					t.Errorf("ClaimDeliveries: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					if seen[d.ID] {
						t.Errorf("delivery %d claimed twice", d.ID)
					}
					seen[d.ID] = true
					claimed[d.To.Address] = append(claimed[d.To.Address], d.ID)
				}
				mu.Unlock()
				for _, d := range got {
					d.Status, d.UpdatedAt = core.DeliverySent, now
					if err := f.st.UpdateDelivery(ctx, d); err != nil {
						t.Errorf("UpdateDelivery(%d) by its claim's holder: %v", d.ID, err)
					}
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for to, ids := range queued {
		wantSame(t, "deliveries to "+to+" in the order claimed", ids, claimed[to])
	}
	sent, err := f.st.FindDeliveries(ctx, core.DeliveryFilter{SessionID: s.ID, Status: core.DeliverySent, Limit: 1000})
	if err != nil {
		t.Fatalf("FindDeliveries: %v", err)
	}
	if len(sent) != keys*perKey {
		t.Errorf("%d deliveries sent, want %d", len(sent), keys*perKey)
	}
	for _, d := range sent {
		if d.Attempts != 1 || d.ClaimToken != "" {
			t.Errorf("delivery %d: %d attempts, claim %q; want the one attempt of its one claim, ended", d.ID, d.Attempts, d.ClaimToken)
		}
	}
}

package twilio_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/twilio"
)

// TestDeliverPacesPerNumber sends three replies at twilio.mps 2 on a clock
// the test moves: Deliver holds each until its turn, so Twilio sees them
// half a second apart, in order.
func TestDeliverPacesPerNumber(t *testing.T) {
	h := newHarness(t, func(o *twilio.Options) { o.MPS = 2 })
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var at []time.Time
	twilio.SetPaceClock(h.sms,
		func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(d)
			return nil
		})
	for _, text := range []string{"one", "two", "three"} {
		if _, err := h.ch.Deliver(context.Background(), textDelivery(customer, text)); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		at = append(at, now)
		mu.Unlock()
	}
	var bodies []string
	for _, m := range h.fake.Sent() {
		bodies = append(bodies, m.Form.Get("Body"))
	}
	if !slices.Equal(bodies, []string{"one", "two", "three"}) {
		t.Errorf("Twilio got %v", bodies)
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap != 500*time.Millisecond {
			t.Errorf("message %d went %v after the one before, want 500ms", i+1, gap)
		}
	}
}

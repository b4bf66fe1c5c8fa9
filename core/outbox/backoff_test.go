package outbox

import (
	"testing"
	"time"
)

// TestBackoff: each retry waits longer than the one before, up to the
// five-minute cap, never nothing.
func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for attempt := 1; attempt <= 12; attempt++ {
		b := backoff(attempt)
		if b <= 0 || b > 5*time.Minute {
			t.Errorf("backoff(%d) = %v", attempt, b)
		}
		if attempt <= 8 && b < prev/2 {
			t.Errorf("backoff(%d) = %v shrank from %v", attempt, b, prev)
		}
		prev = b
	}
	if b := backoff(20); b < 4*time.Minute {
		t.Errorf("backoff(20) = %v, want near the 5m cap", b)
	}
}

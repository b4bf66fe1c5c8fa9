package twilio

import (
	"context"
	"time"
)

// SetPaceClock replaces the clock that paces s's messages, so that tests
// see the waits without waiting.
func SetPaceClock(s *SMS, now func() time.Time, sleep func(context.Context, time.Duration) error) {
	s.pace.now, s.pace.sleep = now, sleep
}

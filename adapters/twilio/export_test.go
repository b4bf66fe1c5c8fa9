package twilio

import (
	"context"
	"time"
)

// SetPaceClock replaces the clock that paces a's messages, so that tests
// see the waits without waiting.
func SetPaceClock(a *Adapter, now func() time.Time, sleep func(context.Context, time.Duration) error) {
	a.pace.now, a.pace.sleep = now, sleep
}

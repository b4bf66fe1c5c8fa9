package core

import "time"

// Clock tells the time. The engine reads time only through a Clock so tests
// can move it instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC, to the microsecond: the finest
// precision every store keeps, so a time read back equals the time written.
type SystemClock struct{}

// Now returns the current time in UTC, truncated to the microsecond.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

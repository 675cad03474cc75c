package parley

import "time"

// Clock tells the time. It is injected everywhere a deadline, expiry or edit
// window is computed, so tests and simulations can move time at will.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

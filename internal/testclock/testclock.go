// Package testclock is the clock tests set and move by hand: deadlines,
// expiries, retention and rate limits are computed from a parley.Clock, so a
// test can step through a year in microseconds. It is for tests only.
package testclock

import (
	"sync"
	"time"
)

// Start is where a clock made by New starts: a fixed instant, so that
// times in test failures are the same from run to run.
var Start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// Clock is a parley.Clock that moves only when told. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock set at Start.
func New() *Clock { return At(Start) }

// At returns a clock set at t.
func At(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (back, when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

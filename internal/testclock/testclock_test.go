package testclock_test

import (
	"testing"
	"time"

	"parley"
	"parley/internal/testclock"
)

var _ parley.Clock = (*testclock.Clock)(nil)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	c := testclock.New()
	if got := c.Now(); !got.Equal(testclock.Start) {
		t.Fatalf("new clock at %v, want %v", got, testclock.Start)
	}
	c.Advance(90 * time.Minute)
	if got, want := c.Now(), testclock.Start.Add(90*time.Minute); !got.Equal(want) {
		t.Fatalf("after Advance: %v, want %v", got, want)
	}
	later := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	c.Set(later)
	if got := c.Now(); !got.Equal(later) {
		t.Fatalf("after Set: %v, want %v", got, later)
	}
}

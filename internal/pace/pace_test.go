package pace_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"parley/internal/pace"
)

// TestRestTakesAsLongAsTheStep: a job that works for a step rests at
// least as long, so it keeps to half of the time; a rest ends when the
// job's context does.
func TestRestTakesAsLongAsTheStep(t *testing.T) {
	p := pace.New(t.Context())
	step := 30 * time.Millisecond
	time.Sleep(step) // the step's work
	start := time.Now()
	if err := p.Rest(); err != nil {
		t.Fatal(err)
	}
	if rested := time.Since(start); rested < step {
		t.Fatalf("rested %s after a step of %s", rested, step)
	}

	ctx, cancel := context.WithCancel(t.Context())
	p = pace.New(ctx)
	time.Sleep(step)
	cancel()
	if err := p.Rest(); !errors.Is(err, context.Canceled) {
		t.Fatalf("rest after the job ended: %v", err)
	}
}

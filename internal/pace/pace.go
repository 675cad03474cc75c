// Package pace keeps long background jobs (a bank import, re-screening,
// taking a large import into the matcher) to about half of one CPU and of
// the store's one writer, so that on a small machine the server's requests
// keep theirs: a post waits for at most one step of the job, and finds a
// CPU free. A job calls Rest after each step of a few milliseconds, and
// rests as long as the step took; it then takes about twice its CPU time.
package pace

import (
	"context"
	"time"
)

// Pacer paces one job. It is not safe for concurrent use.
type Pacer struct {
	ctx   context.Context
	start time.Time
}

// New starts pacing a job that runs until ctx ends.
func New(ctx context.Context) *Pacer { return &Pacer{ctx: ctx, start: time.Now()} }

// Rest ends a step: it waits as long as the step took (since New or the
// last Rest), or until the job's context ends, whose error it returns, and
// starts the next step.
func (p *Pacer) Rest() error {
	t := time.NewTimer(time.Since(p.start))
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
	p.start = time.Now()
	return nil
}

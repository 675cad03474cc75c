package media

import (
	"container/list"
	"context"
	"runtime/debug"
	"sync"
	"time"

	"parley"
)

// A Budget is memory shared by the image decodes that run at once: each
// decode takes its cost (decodeCost, worked out from the header) from the
// budget before it decodes a pixel and gives it back when done, so the
// decodes in flight never take more than the budget together, however many
// uploads arrive. An upload that finds no room waits its turn, first come
// first served, for at most the budget's wait, and is then refused as
// EUnavailable with a Retry-After: a burst queues for a while, then sheds,
// and never runs the server out of memory.
//
// A Budget is safe for use by many goroutines.
type Budget struct {
	size int64
	wait time.Duration

	mu      sync.Mutex
	used    int64
	waiters list.List // of *budgetWaiter, in order of arrival
	// high is the most used since memory was last returned to the system.
	high int64
}

// ReturnAfter is how much decoding memory must have been in use at once
// for the budget to hand the memory back to the operating system when the
// last decode ends. Go's runtime keeps freed memory for reuse and returns
// it slowly: measured after six interlaced 16-bit PNGs of 3000×3000
// decoded three at a time, the process still held 484 MiB six seconds
// later (a garbage collection alone changed nothing); debug.FreeOSMemory
// brought it to 11 MiB. Below this much, keeping the memory costs little
// and saves the collection.
const ReturnAfter = 64 << 20

// freeOSMemory is debug.FreeOSMemory; a variable for tests.
var freeOSMemory = debug.FreeOSMemory

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed when the waiter has its share
}

// NewBudget returns a budget of size bytes whose uploads wait at most wait
// for room. It panics if size is not positive.
func NewBudget(size int64, wait time.Duration) *Budget {
	if size <= 0 {
		panic("media: NewBudget: the size must be positive")
	}
	return &Budget{size: size, wait: wait}
}

// Size is the budget in bytes.
func (b *Budget) Size() int64 { return b.size }

// InUse is the memory taken by the decodes running now, in bytes.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Acquire takes n bytes of the budget, waiting for room at most the budget's
// wait and while ctx lasts, and returns the function that gives them back.
// A cost larger than the whole budget takes the whole budget: that decode
// runs alone. A nil budget bounds nothing.
func (b *Budget) Acquire(ctx context.Context, n int64) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	n = min(max(n, 1), b.size)
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.used+n <= b.size {
		b.used += n
		b.high = max(b.high, b.used)
		b.mu.Unlock()
		return b.releaser(n), nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	e := b.waiters.PushBack(w)
	b.mu.Unlock()

	timer := time.NewTimer(b.wait)
	defer timer.Stop()
	select {
	case <-w.ready:
		return b.releaser(n), nil
	case <-timer.C:
	case <-ctx.Done():
	}
	b.mu.Lock()
	select {
	case <-w.ready:
		// Granted while giving up: keep it rather than lose it.
		b.mu.Unlock()
		return b.releaser(n), nil
	default:
	}
	front := b.waiters.Front() == e
	b.waiters.Remove(e)
	if front {
		// Those queued behind may fit now that this one has gone.
		b.grant()
	}
	b.mu.Unlock()
	e2 := parley.Errorf(parley.EUnavailable, "the server is busy decoding other images; try again in %d seconds", retrySeconds(b.wait))
	e2.RetryAfter = b.wait
	return nil, e2
}

// releaser returns the function that gives n bytes back, once.
func (b *Budget) releaser(n int64) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.used -= n
			b.grant()
			idle := b.used == 0 && b.high >= ReturnAfter
			if idle {
				b.high = 0
			}
			b.mu.Unlock()
			if idle {
				// The burst is over: give its memory back, away from the
				// request that happened to end it.
				go freeOSMemory()
			}
		})
	}
}

// grant hands room to the waiters at the front of the queue, in order,
// while they fit. b.mu is held.
func (b *Budget) grant() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if b.used+w.n > b.size {
			return
		}
		b.used += w.n
		b.high = max(b.high, b.used)
		b.waiters.Remove(e)
		close(w.ready)
	}
}

// retrySeconds is d in whole seconds, at least one.
func retrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

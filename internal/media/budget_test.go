package media

import (
	"context"
	"testing"
	"time"

	"parley"
)

// TestBudget: decodes take their cost from the budget and give it back;
// one that finds no room waits in turn, gets it when room is given back,
// and is refused as EUnavailable with a Retry-After when its wait runs out
// or its request ends; an oversized cost takes the whole budget.
func TestBudget(t *testing.T) {
	ctx := context.Background()
	b := NewBudget(100, time.Hour)
	r60, err := b.Acquire(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	r40, err := b.Acquire(ctx, 40)
	if err != nil || b.InUse() != 100 {
		t.Fatalf("40 more: %v, in use %d", err, b.InUse())
	}

	// Full: a waiter gets its share when room is given back, and not before.
	got := make(chan func(), 1)
	go func() {
		r, err := b.Acquire(ctx, 50)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	waitFor(t, func() bool { return waiting(b) == 1 })
	r40() // 60 in use: 50 does not fit yet
	r40() // giving back twice changes nothing
	if b.InUse() != 60 || waiting(b) != 1 {
		t.Fatalf("in use %d, waiting %d", b.InUse(), waiting(b))
	}
	r60()
	r50 := <-got
	if b.InUse() != 50 {
		t.Fatalf("in use %d, want 50", b.InUse())
	}

	// A cost larger than the budget takes all of it.
	go func() {
		r, err := b.Acquire(ctx, 1000)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	waitFor(t, func() bool { return waiting(b) == 1 })
	r50()
	rAll := <-got
	if b.InUse() != 100 {
		t.Fatalf("in use %d, want the whole budget", b.InUse())
	}

	// A request that ends while waiting is refused, and leaves the queue.
	cctx, cancel := context.WithCancel(ctx)
	refused := make(chan error, 1)
	go func() { _, err := b.Acquire(cctx, 10); refused <- err }()
	waitFor(t, func() bool { return waiting(b) == 1 })
	cancel()
	if err := <-refused; parley.ErrorCode(err) != parley.EUnavailable {
		t.Fatalf("cancelled: %v", err)
	}
	if waiting(b) != 0 {
		t.Fatal("the cancelled waiter is still queued")
	}
	rAll()

	// The wait runs out: refused with a Retry-After.
	short := NewBudget(10, 20*time.Millisecond)
	rs, _ := short.Acquire(ctx, 10)
	_, err = short.Acquire(ctx, 1)
	if parley.ErrorCode(err) != parley.EUnavailable || parley.ErrorRetryAfter(err) != 20*time.Millisecond {
		t.Fatalf("after the wait: %v (retry after %v)", err, parley.ErrorRetryAfter(err))
	}
	rs()
	if r, err := short.Acquire(ctx, 1); err != nil {
		t.Fatalf("after the room was given back: %v", err)
	} else {
		r()
	}

	// First come, first served: a small cost that would fit does not pass
	// a large one that waits ahead of it.
	b2 := NewBudget(100, time.Hour)
	r70, _ := b2.Acquire(ctx, 70)
	order := make(chan int64, 2)
	go func() { r, _ := b2.Acquire(ctx, 80); order <- 80; r() }()
	waitFor(t, func() bool { return waiting(b2) == 1 })
	go func() { r, _ := b2.Acquire(ctx, 30); order <- 30; r() }()
	waitFor(t, func() bool { return waiting(b2) == 2 })
	if b2.InUse() != 70 {
		t.Fatalf("in use %d: the 30 passed the 80 waiting ahead", b2.InUse())
	}
	r70()
	if first := <-order; first != 80 {
		t.Errorf("%d went first", first)
	}
	<-order
}

func waiting(b *Budget) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiters.Len()
}

// waitFor polls cond, which another goroutine makes true, failing after a
// generous deadline; it synchronises on the condition, never on time alone.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBudgetReturnsMemoryAfterABurst: when the last decode of a burst that
// used ReturnAfter or more ends, the memory goes back to the system, once;
// not while a decode still runs, and not after small decodes.
func TestBudgetReturnsMemoryAfterABurst(t *testing.T) {
	freed := make(chan struct{}, 10)
	old := freeOSMemory
	freeOSMemory = func() { freed <- struct{}{} }
	t.Cleanup(func() { freeOSMemory = old })
	ctx := context.Background()
	b := NewBudget(4*ReturnAfter, time.Hour)

	small, _ := b.Acquire(ctx, ReturnAfter/4)
	small()
	big1, _ := b.Acquire(ctx, ReturnAfter/2)
	big2, _ := b.Acquire(ctx, ReturnAfter/2)
	big1()
	select {
	case <-freed:
		t.Fatal("memory returned while a decode still runs")
	default:
	}
	big2()
	<-freed // the burst of 64 MiB at once is over
	again, _ := b.Acquire(ctx, ReturnAfter/4)
	again()
	select {
	case <-freed:
		t.Fatal("memory returned again after a small decode")
	default:
	}
}

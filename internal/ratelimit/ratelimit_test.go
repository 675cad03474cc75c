package ratelimit

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/testclock"
)

// step is one call to Allow after moving the clock.
type step struct {
	advance time.Duration
	key     string
	ok      bool
	retry   time.Duration
}

func TestAllow(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{"burst then the rate", 1, 3, []step{
			{0, "ip", true, 0},
			{0, "ip", true, 0},
			{0, "ip", true, 0},
			{0, "ip", false, time.Second},
			{500 * time.Millisecond, "ip", false, 500 * time.Millisecond},
			{500 * time.Millisecond, "ip", true, 0},
			{0, "ip", false, time.Second},
		}},
		{"keys are independent", 1, 1, []step{
			{0, "a", true, 0},
			{0, "a", false, time.Second},
			{0, "b", true, 0},
			{0, "b", false, time.Second},
		}},
		{"refill stops at the burst", 1, 2, []step{
			{0, "ip", true, 0},
			{0, "ip", true, 0},
			{time.Hour, "ip", true, 0},
			{0, "ip", true, 0},
			{0, "ip", false, time.Second},
		}},
		{"five a minute", 5.0 / 60, 5, []step{
			{0, "ip", true, 0},
			{0, "ip", true, 0},
			{0, "ip", true, 0},
			{0, "ip", true, 0},
			{0, "ip", true, 0},
			{0, "ip", false, 12 * time.Second},
			{11 * time.Second, "ip", false, time.Second},
			{time.Second, "ip", true, 0},
			{0, "ip", false, 12 * time.Second},
		}},
		{"refused requests take nothing", 2, 1, []step{
			{0, "ip", true, 0},
			{0, "ip", false, 500 * time.Millisecond},
			{0, "ip", false, 500 * time.Millisecond},
			{250 * time.Millisecond, "ip", false, 250 * time.Millisecond},
			{250 * time.Millisecond, "ip", true, 0},
		}},
		{"a clock stepping back gives nothing", 1, 1, []step{
			{0, "ip", true, 0},
			{-time.Hour, "ip", false, time.Second},
			{time.Hour, "ip", false, time.Second},
			{time.Second, "ip", true, 0},
		}},
		{"a step back and forth is not counted as time passed", 1, 2, []step{
			{0, "ip", true, 0},
			{-time.Hour, "ip", true, 0},
			{time.Hour, "ip", false, time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := testclock.New()
			l := New(tt.rate, tt.burst, clock.Now)
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				ok, retry := l.Allow(s.key)
				// Retry-After is rounded up to the nanosecond; allow for it.
				if ok != s.ok || retry < s.retry || retry > s.retry+time.Microsecond {
					t.Errorf("step %d: Allow(%q) = %v, %v; want %v, %v", i, s.key, ok, retry, s.ok, s.retry)
				}
			}
		})
	}
}

// TestRetryAfterIsEnough checks that waiting exactly the returned duration
// always succeeds, whatever rounding the rate causes.
func TestRetryAfterIsEnough(t *testing.T) {
	for _, rate := range []float64{1, 3, 7.0 / 60, 1.0 / 3600, 0.3, 1000} {
		clock := testclock.New()
		l := New(rate, 2, clock.Now)
		for i := range 50 {
			ok, retry := l.Allow("ip")
			if ok {
				continue
			}
			clock.Advance(retry)
			if ok, again := l.Allow("ip"); !ok {
				t.Fatalf("rate %v, call %d: refused again after waiting %v (then %v)", rate, i, retry, again)
			}
		}
	}
}

func TestForgetsIdleKeys(t *testing.T) {
	clock := testclock.New()
	l := New(1, 10, clock.Now) // a bucket is full again after 10 s
	for i := range 100 {
		l.Allow(fmt.Sprint("10.0.0.", i))
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("Len = %d, want 100", n)
	}
	clock.Advance(5 * time.Second)
	l.Allow("recent")
	clock.Advance(5 * time.Second)
	l.Allow("another")
	if n := l.Len(); n != 2 {
		t.Errorf("Len = %d after the first 100 went idle, want 2", n)
	}
}

func TestMaxKeysDropsLeastRecentlyUsed(t *testing.T) {
	clock := testclock.New()
	l := New(1.0/60, 1, clock.Now) // a bucket needs a minute to refill
	l.maxKeys = 3
	for _, key := range []string{"a", "b", "c"} {
		if ok, _ := l.Allow(key); !ok {
			t.Fatalf("first Allow(%q) refused", key)
		}
		clock.Advance(time.Second)
	}
	l.Allow("a") // refused, but now the most recently used: "b" is the oldest
	l.Allow("d") // makes room by forgetting "b"
	if n := l.Len(); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
	for _, tt := range []struct {
		key string
		ok  bool
	}{
		{"a", false}, // remembered: still limited
		{"c", false}, // remembered: still limited
		{"b", true},  // forgotten: a fresh bucket, for which "d" is dropped
	} {
		if ok, _ := l.Allow(tt.key); ok != tt.ok {
			t.Errorf("Allow(%q) = %v, want %v", tt.key, ok, tt.ok)
		}
	}
	if n := l.Len(); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
}

// TestMemoryBoundUnderFlood checks that a flood of distinct keys never grows
// the limiter past MaxKeys.
func TestMemoryBoundUnderFlood(t *testing.T) {
	clock := testclock.New()
	l := New(1.0/60, 5, clock.Now)
	l.maxKeys = 1000
	for i := range 50_000 {
		l.Allow(fmt.Sprint("key-", i))
		if i%1000 == 0 {
			clock.Advance(time.Millisecond)
		}
	}
	if n := l.Len(); n != 1000 {
		t.Errorf("Len = %d, want 1000", n)
	}
}

// TestConcurrentAllow checks that racing callers share one bucket exactly:
// with the clock stopped, burst requests pass and no more.
func TestConcurrentAllow(t *testing.T) {
	clock := testclock.New()
	const burst = 25
	l := New(1, burst, clock.Now)
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if ok, _ := l.Allow("ip"); ok {
					allowed.Add(1)
				}
				l.Allow(fmt.Sprint("other-", allowed.Load()))
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != burst {
		t.Errorf("%d requests passed, want %d", got, burst)
	}
}

// TestMemoryPerKey checks the figure DefaultMaxKeys is sized by: a
// remembered key costs about 200 bytes and at most 300, so DefaultMaxKeys of
// them stay within 30 MB.
func TestMemoryPerKey(t *testing.T) {
	const n = 20_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("2001:db8::%x", i) // an IPv6 address, the longest usual key
	}
	clock := testclock.New()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := New(1.0/60, 5, clock.Now)
	for _, k := range keys {
		l.Allow(k)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perKey := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per key", perKey)
	if perKey > 300 {
		t.Errorf("%.0f bytes per remembered key, want at most 300 (DefaultMaxKeys is sized by it)", perKey)
	}
	runtime.KeepAlive(l)
}

func TestNewRefusesUselessSettings(t *testing.T) {
	for _, tt := range []struct {
		rate  float64
		burst int
	}{{0, 1}, {-1, 1}, {1, 0}, {1, -5}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%v, %d) did not panic", tt.rate, tt.burst)
				}
			}()
			New(tt.rate, tt.burst, nil)
		}()
	}
	if ok, _ := New(1, 1, nil).Allow("ip"); !ok {
		t.Error("a Limiter with the real clock refused its first request")
	}
}

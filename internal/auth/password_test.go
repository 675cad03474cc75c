package auth

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHashFormat(t *testing.T) {
	h := NewHasher(1, DefaultArgon2Params)
	encoded, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	// 16 bytes of salt are 22 base64 characters, 32 bytes of key 43.
	want := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !want.MatchString(encoded) {
		t.Errorf("Hash = %q, want the PHC format %s", encoded, want)
	}
	ok, err := h.Verify(context.Background(), encoded, "correct horse battery staple")
	if err != nil || !ok {
		t.Errorf("Verify of the right password = %v, %v", ok, err)
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(2, TestArgon2Params)
	encoded, err := h.Hash(ctx, "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.Hash(ctx, "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if encoded == again {
		t.Error("two hashes of one password are equal; the salt is not random")
	}

	tests := []struct {
		password string
		want     bool
	}{
		{"hunter2", true},
		{"Hunter2", false},
		{"hunter2 ", false},
		{"hunter", false},
		{"", false},
	}
	for _, tt := range tests {
		if ok, err := h.Verify(ctx, encoded, tt.password); err != nil || ok != tt.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.password, ok, err, tt.want)
		}
	}
}

// TestVerifyReadsParamsFromTheHash checks that hashes made with other
// settings, by this package or by the reference argon2 command-line tool,
// still verify: the settings can be raised without locking anyone out.
func TestVerifyReadsParamsFromTheHash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(1, Argon2Params{Memory: 64, Time: 3, Threads: 2, SaltLen: 8, KeyLen: 16})
	encoded, err := old.Hash(ctx, "old password")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHasher(1, TestArgon2Params)

	tests := []struct {
		encoded, password string
	}{
		{encoded, "old password"},
		// echo -n "correct horse battery staple" | argon2 parley-salt-0001 -id -t 2 -m 10 -p 1 -l 32 -e
		{"$argon2id$v=19$m=1024,t=2,p=1$cGFybGV5LXNhbHQtMDAwMQ$3qPzP8Bk9Tm6rmSXlXY5UsLZUEFrSBsJ7Qe9QvFzyGQ", "correct horse battery staple"},
		// echo -n password | argon2 somesalt -id -t 2 -k 19456 -p 1 -l 32 -e
		{"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E", "password"},
	}
	for _, tt := range tests {
		if ok, err := h.Verify(ctx, tt.encoded, tt.password); err != nil || !ok {
			t.Errorf("Verify(%q, %q) = %v, %v; want true", tt.encoded, tt.password, ok, err)
		}
		if ok, err := h.Verify(ctx, tt.encoded, tt.password+"x"); err != nil || ok {
			t.Errorf("Verify(%q) of a wrong password = %v, %v; want false", tt.encoded, ok, err)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	const salt, key = "c29tZXNhbHQ", "PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E"
	tests := []string{
		"",
		"$",
		"hunter2",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", // bcrypt
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$m=19456,t=2,p=1$" + salt + "$" + key, // no version
		"argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt,
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1,x=3$" + salt + "$" + key,
		"$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=0x10,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key,
		"$argon2id$v=19$m=4,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key, // 4 TiB
		"$argon2id$v=19$m=99999999999999999999,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=4294967295,p=1$" + salt + "$" + key, // forever
		"$argon2id$v=19$m=19456,t=2,p=1$$" + key,                      // no salt
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key,                // 4-byte salt
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",                // no key
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$a2V5",            // 3-byte key
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "==",   // padding
		"$argon2id$v=19$m=19456,t=2,p=1$c29t!!!hbHQ$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:len(key)-1] + "-",
	}
	h := NewHasher(1, TestArgon2Params)
	for _, encoded := range tests {
		ok, err := h.Verify(context.Background(), encoded, "password")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v; want false, ErrMalformedHash", encoded, ok, err)
		}
	}
}

// TestHasherBoundsConcurrency checks that with one slot, hashes run one at a
// time however many callers there are.
func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(1, TestArgon2Params)
	var active, most atomic.Int32
	h.inSlot = func() {
		n := active.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(10 * time.Millisecond) // long enough for the others to try
		active.Add(-1)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := h.Hash(context.Background(), "password"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Go(func() {
		if err := h.DummyVerify(context.Background()); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	if got := most.Load(); got != 1 {
		t.Errorf("%d hashes ran at once, want 1", got)
	}
}

// TestHasherRunsUpToTheBound checks the other side: with two slots, two
// hashes run together and a third waits. The third is started once the two
// hold their slots, and the hasher tells when a caller finds every slot
// taken, so the test knows it waits rather than guessing from a pause.
func TestHasherRunsUpToTheBound(t *testing.T) {
	h := NewHasher(2, TestArgon2Params)
	entered := make(chan struct{})
	release := make(chan struct{})
	waiting := make(chan struct{}, 1)
	h.inSlot = func() {
		entered <- struct{}{}
		<-release
	}
	h.noSlot = func() { waiting <- struct{}{} }
	var wg sync.WaitGroup
	hash := func() {
		wg.Go(func() {
			if _, err := h.Hash(context.Background(), "password"); err != nil {
				t.Error(err)
			}
		})
	}
	hash()
	hash()
	<-entered
	<-entered
	hash()
	select {
	case <-waiting:
	case <-entered:
		t.Fatal("a third hash started while two slots were taken")
	case <-time.After(10 * time.Second):
		t.Fatal("a third hash neither started nor waited for a slot")
	}
	close(release)
	<-entered
	wg.Wait()
}

// TestHasherWaitEndsWithContext checks that a caller waiting for a slot gives
// up when its request ends, instead of queueing forever behind a flood.
func TestHasherWaitEndsWithContext(t *testing.T) {
	h := NewHasher(1, TestArgon2Params)
	encoded, err := h.Hash(context.Background(), "password")
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	release := make(chan struct{})
	h.inSlot = func() {
		entered <- struct{}{}
		<-release
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Hash(context.Background(), "holds the only slot")
	}()
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "password"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash = %v, want %v", err, context.DeadlineExceeded)
	}
	if _, err := h.Verify(ctx, encoded, "password"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify = %v, want %v", err, context.DeadlineExceeded)
	}
	if err := h.DummyVerify(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DummyVerify = %v, want %v", err, context.DeadlineExceeded)
	}
	close(release)
	<-done

	// A request that is already over does no work even when a slot is free.
	h.inSlot = func() { t.Error("hashed for a cancelled request") }
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := h.Hash(cancelled, "password"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash = %v, want %v", err, context.Canceled)
	}
}

// DummyVerify must cost what a real Verify costs, so that a sign-in for an
// unknown username takes as long as one with a wrong password. It verifies
// against a hash made with the hasher's own parameters; that is checked here
// without timing, which other work on a shared machine would make flaky.
func TestDummyVerifyDoesTheWork(t *testing.T) {
	h := NewHasher(1, DefaultArgon2Params)
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(h.dummy, want) {
		t.Fatalf("dummy hash %q does not use the hasher's parameters %q", h.dummy, want)
	}
	if err := h.DummyVerify(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestNewHasherRefusesBadParams(t *testing.T) {
	for _, p := range []Argon2Params{
		{},
		{Memory: 19456, Time: 2, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 19456, Time: 2, Threads: 1, SaltLen: 0, KeyLen: 32},
		{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 0},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%+v) did not panic", p)
				}
			}()
			NewHasher(1, p)
		}()
	}
}

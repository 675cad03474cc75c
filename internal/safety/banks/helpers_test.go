package banks_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/internal/pdq"
	"parley/internal/safety/banks"
	"parley/internal/store/sqlite"
)

// clock is a settable clock for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// env is a service over a fresh SQLite database, with the actors tests use.
type env struct {
	db     *sqlite.DB
	dbPath string
	svc    *banks.Service
	clock  *clock
	mod    banks.Actor // a moderator
	cli    banks.Actor // the command line
}

func setup(t testing.TB) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{now: t0}
	mod := &parley.User{Username: "mia", Role: parley.RoleModerator}
	if err := db.CreateUser(context.Background(), mod); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, dbPath: path, svc: banks.NewService(db, c), clock: c,
		mod: banks.UserActor(mod), cli: banks.SystemActor("parley banks test", "tester")}
}

// blockBank creates an enabled block bank.
func (e *env) blockBank(t testing.TB, name string, action banks.Action) *banks.Bank {
	t.Helper()
	in := banks.Bank{Name: name, Kind: banks.KindBlock, Category: "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
		Keywords: []string{"KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"}, Action: action, Enabled: true}
	if action == banks.ActionLabel {
		in.Label = "graphic"
	}
	b, err := e.svc.CreateBank(context.Background(), e.mod, in)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// allowBank creates an enabled allow bank.
func (e *env) allowBank(t testing.TB, name string) *banks.Bank {
	t.Helper()
	b, err := e.svc.CreateBank(context.Background(), e.mod, banks.Bank{Name: name, Kind: banks.KindAllow, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// add adds one entry or fails the test.
func (e *env) add(t testing.TB, b *banks.Bank, typ banks.EntryType, value string) *banks.Entry {
	t.Helper()
	en, _, err := e.svc.AddEntry(context.Background(), e.mod, b.ID, banks.Entry{Type: typ, Value: value, Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return en
}

// randomPDQ returns a random hash with exactly 128 bits set, like a real
// one.
func randomPDQ(rng *rand.Rand) pdq.Hash {
	var h pdq.Hash
	for _, k := range rng.Perm(256)[:128] {
		h[k/8] |= 1 << (k % 8)
	}
	return h
}

// flip returns h with n bits changed, keeping the number of set bits.
func flip(rng *rand.Rand, h pdq.Hash, n int) pdq.Hash {
	var ones, zeros []int
	for k := range 256 {
		if h[k/8]>>(k%8)&1 == 1 {
			ones = append(ones, k)
		} else {
			zeros = append(zeros, k)
		}
	}
	rng.Shuffle(len(ones), func(i, j int) { ones[i], ones[j] = ones[j], ones[i] })
	rng.Shuffle(len(zeros), func(i, j int) { zeros[i], zeros[j] = zeros[j], zeros[i] })
	for i := 0; i < n; i++ {
		k := ones[i/2]
		if i%2 == 1 {
			k = zeros[i/2]
		}
		h[k/8] ^= 1 << (k % 8)
	}
	return h
}

// wantCode fails unless err has the code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

// wantErrorContains fails unless err has the code and its message holds
// every want.
func wantErrorContains(t testing.TB, err error, code string, want ...string) {
	t.Helper()
	wantCode(t, err, code)
	for _, w := range want {
		if !strings.Contains(parley.ErrorMessage(err), w) {
			t.Fatalf("error %q does not say %q", parley.ErrorMessage(err), w)
		}
	}
}

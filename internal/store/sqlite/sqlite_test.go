package sqlite_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"parley"
	"parley/internal/store/sqlite"
	"parley/internal/store/storetest"
)

// open returns a new database in a fresh file, closed when t ends.
func open(t testing.TB) *sqlite.DB {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "parley.db"))
}

func openPath(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t) })
}

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	db := openPath(t, path)
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v < 1 {
		t.Fatalf("SchemaVersion = %d after Open, want at least 1", v)
	}
	for range 2 {
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if again, err := db.SchemaVersion(ctx); err != nil || again != v {
		t.Fatalf("SchemaVersion after Migrate = %d, %v; want %d", again, err, v)
	}
	// A second handle on the same file finds nothing to do.
	db2 := openPath(t, path)
	if again, err := db2.SchemaVersion(ctx); err != nil || again != v {
		t.Fatalf("SchemaVersion of a second handle = %d, %v; want %d", again, err, v)
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u := &parley.User{Username: "keeper", Role: parley.RoleMember}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	c := &parley.Chat{Kind: parley.ChatGroup, Title: "Kept", OwnerID: u.ID}
	if err := db.CreateChat(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertMessage(ctx, &parley.Message{ChatID: c.ID, SenderID: u.ID, Text: "still here"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertMessage(ctx, &parley.Message{ChatID: c.ID, SenderID: u.ID, Text: "after close"}); parley.ErrorCode(err) != parley.EUnavailable {
		t.Fatalf("InsertMessage after Close: %v, want EUnavailable", err)
	}

	db = openPath(t, path)
	m, err := db.FindMessage(ctx, c.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "still here" || m.SenderName != "keeper" {
		t.Fatalf("message after reopen = %+v", m)
	}
	if n, err := db.CountPendingEvents(ctx); err != nil || n != 2 {
		t.Fatalf("pending events after reopen = %d, %v; want 2", n, err)
	}
	// The counters continue where they stopped.
	up, err := db.InsertMessage(ctx, &parley.Message{ChatID: c.ID, SenderID: u.ID, Text: "next"})
	if err != nil {
		t.Fatal(err)
	}
	if up.Message.Seq != 2 || up.Pts != 2 {
		t.Fatalf("after reopen: seq %d pts %d, want 2 2", up.Message.Seq, up.Pts)
	}
}

func TestInsertMessageSingle(t *testing.T) {
	ctx := t.Context()
	db := open(t)
	u := &parley.User{Username: "single", DisplayName: "Single", Role: parley.RoleMember}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	c := &parley.Chat{Kind: parley.ChatGroup, Title: "Single", OwnerID: u.ID}
	if err := db.CreateChat(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertMessage(ctx, &parley.Message{ChatID: c.ID, SenderID: u.ID, Text: "batched"}); err != nil {
		t.Fatal(err)
	}
	msg := &parley.Message{ChatID: c.ID, SenderID: u.ID, Text: "alone", CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	up, err := db.InsertMessageSingle(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Seq != 2 || msg.ID == 0 || up.Pts != 2 || up.Kind != parley.UpdateMessageNew || up.Message.SenderName != "Single" {
		t.Fatalf("InsertMessageSingle: message %+v, update %+v", msg, up)
	}
	got, err := db.FindMessage(ctx, c.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != "alone" || got.ID != msg.ID || !got.CreatedAt.Equal(msg.CreatedAt) {
		t.Fatalf("stored message = %+v", got)
	}
	ups, err := db.ListUpdates(ctx, c.ID, 1, 10)
	if err != nil || len(ups) != 1 || ups[0].Message.Text != "alone" {
		t.Fatalf("ListUpdates = %v, %v", ups, err)
	}
	evs, err := db.PendingEvents(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; len(evs) != 3 || last.Subject != parley.ChatSubject(c.ID) || last.Kind != parley.UpdateMessageNew {
		t.Fatalf("events = %v", evs)
	}
	_, err = db.InsertMessageSingle(ctx, &parley.Message{ChatID: c.ID + 1, SenderID: u.ID, Text: "lost"})
	if parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("InsertMessageSingle into a missing chat: %v, want ENotFound", err)
	}
}

func TestOutboxSignal(t *testing.T) {
	ctx := t.Context()
	db := open(t)
	u := &parley.User{Username: "signal", Role: parley.RoleMember}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	select {
	case <-db.OutboxSignal():
		t.Fatal("signalled before any event was written")
	default:
	}
	c := &parley.Chat{Kind: parley.ChatGroup, Title: "Signal", OwnerID: u.ID}
	if err := db.CreateChat(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	wantSignal := func(what string) {
		t.Helper()
		select {
		case <-db.OutboxSignal():
		case <-time.After(time.Second):
			t.Fatalf("no signal after %s", what)
		}
	}
	wantSignal("CreateChat")
	if _, err := db.InsertMessage(ctx, &parley.Message{ChatID: c.ID, SenderID: u.ID, Text: "wake up"}); err != nil {
		t.Fatal(err)
	}
	wantSignal("InsertMessage")
	if _, err := db.InsertMessageSingle(ctx, &parley.Message{ChatID: c.ID, SenderID: u.ID, Text: "one"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.EditMessage(ctx, c.ID, 1, "edited", time.Now()); err != nil {
		t.Fatal(err)
	}
	// Two commits while nobody listened leave one signal, not two.
	wantSignal("InsertMessageSingle and EditMessage")
	select {
	case <-db.OutboxSignal():
		t.Fatal("a second signal was buffered")
	default:
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), ":memory:"); err == nil {
		t.Fatal("Open(:memory:) succeeded; the two pools would see different databases")
	}
}

// benchSetup returns a database with one account and one group.
func benchSetup(b *testing.B) (*sqlite.DB, *parley.User, *parley.Chat) {
	db := open(b)
	ctx := context.Background()
	u := &parley.User{Username: "bench", Role: parley.RoleMember}
	if err := db.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	c := &parley.Chat{Kind: parley.ChatGroup, Title: "Bench", OwnerID: u.ID}
	if err := db.CreateChat(ctx, c, 0); err != nil {
		b.Fatal(err)
	}
	return db, u, c
}

// BenchmarkInsertMessage measures group commit: many goroutines inserting
// at once, as the HTTP API does under load.
func BenchmarkInsertMessage(b *testing.B) {
	db, u, c := benchSetup(b)
	b.SetParallelism(32) // many concurrent posters per core, as behind an HTTP server
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			msg := &parley.Message{ChatID: c.ID, SenderID: u.ID, Text: "benchmark message"}
			if _, err := db.InsertMessage(ctx, msg); err != nil {
				b.Error(err)
				return
			}
			n.Add(1)
		}
	})
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkInsertMessageSingle is the baseline: the same concurrent load,
// but one transaction, and one fsync, per message.
func BenchmarkInsertMessageSingle(b *testing.B) {
	db, u, c := benchSetup(b)
	b.SetParallelism(32)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			msg := &parley.Message{ChatID: c.ID, SenderID: u.ID, Text: "benchmark message"}
			if _, err := db.InsertMessageSingle(ctx, msg); err != nil {
				b.Error(err)
				return
			}
			n.Add(1)
		}
	})
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "msgs/s")
}

package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"parley"
	"parley/internal/audit"
	"parley/internal/testclock"
)

// appendAudits appends n entries to the audit log.
func appendAudits(t *testing.T, s Store, n int) {
	t.Helper()
	for i := range n {
		must(t, s.AppendAudit(t.Context(), &parley.AuditEntry{At: t0.Add(time.Duration(i) * time.Second), ActorID: 7,
			Action: "test.act", TargetType: "chat", TargetID: fmt.Sprint(i), Details: `{"n":1}`}))
	}
}

// testAuditCheckpoints: the newest entry's id; checkpoints are saved once
// per entry (the first stays), the last is the one of the highest entry,
// and they page by entry id.
func testAuditCheckpoints(t *testing.T, s Store) {
	ctx := t.Context()
	if id, err := s.LastAuditEntryID(ctx); err != nil || id != 0 {
		t.Fatalf("LastAuditEntryID of an empty log = %d, %v", id, err)
	}
	appendAudits(t, s, 3)
	if id, err := s.LastAuditEntryID(ctx); err != nil || id != 3 {
		t.Fatalf("LastAuditEntryID = %d, %v; want 3", id, err)
	}
	last, err := s.LastAuditCheckpoint(ctx)
	must(t, err)
	if last != nil {
		t.Fatalf("checkpoint of an empty store: %+v", last)
	}
	for _, id := range []int64{20, 5, 10} {
		must(t, s.SaveAuditCheckpoint(ctx, &audit.Checkpoint{EntryID: id, Hash: []byte{byte(id)}, VerifiedAt: at(time.Duration(id) * time.Minute)}))
	}
	must(t, s.SaveAuditCheckpoint(ctx, &audit.Checkpoint{EntryID: 10, Hash: []byte("other"), VerifiedAt: at(time.Hour)}))
	last, err = s.LastAuditCheckpoint(ctx)
	must(t, err)
	if last.EntryID != 20 || !bytes.Equal(last.Hash, []byte{20}) {
		t.Fatalf("last checkpoint %+v", last)
	}
	sameTime(t, "VerifiedAt", last.VerifiedAt, at(20*time.Minute))
	page, err := s.ListAuditCheckpoints(ctx, 5, 1)
	must(t, err)
	if len(page) != 1 || page[0].EntryID != 10 || !bytes.Equal(page[0].Hash, []byte{10}) {
		t.Fatalf("page after 5: %+v", page)
	}
	all, err := s.ListAuditCheckpoints(ctx, 0, 0)
	must(t, err)
	if len(all) != 3 || all[0].EntryID != 5 || all[2].EntryID != 20 {
		t.Fatalf("all checkpoints: %+v", all)
	}
}

// testAuditIncremental: audit.Log verifies the whole log once, records a
// checkpoint, and then reads only what was added after it; a checkpoint
// that does not match its entry is not trusted, by either verification.
func testAuditIncremental(t *testing.T, s Store) {
	ctx := t.Context()
	appendAudits(t, s, 12)
	l := &audit.Log{Store: s, Clock: testclock.At(at(time.Hour)), Every: 5}
	r, err := l.Verify(ctx)
	must(t, err)
	if !r.Intact || r.Entries != 12 || r.Read != 12 || r.Checkpoint != 0 {
		t.Fatalf("first verification %+v, want the whole log read", r)
	}
	cp, err := s.LastAuditCheckpoint(ctx)
	must(t, err)
	entries, err := s.ListAuditEntries(ctx, 11, 1)
	must(t, err)
	if cp == nil || cp.EntryID != 12 || !bytes.Equal(cp.Hash, entries[0].Hash) {
		t.Fatalf("checkpoint after verifying %+v, want entry 12 with its hash", cp)
	}
	appendAudits(t, s, 3)
	r, err = l.Verify(ctx)
	must(t, err)
	if !r.Intact || r.Entries != 15 || r.Read != 4 || r.Checkpoint != 12 {
		t.Fatalf("second verification %+v, want entries 12 to 15 read", r)
	}
	sameTime(t, "CheckpointAt", r.CheckpointAt, at(time.Hour))
	if cp2, _ := s.LastAuditCheckpoint(ctx); cp2.EntryID != 12 {
		t.Fatalf("a checkpoint after 3 entries (every 5): %+v", cp2)
	}
	all, err := l.VerifyAll(ctx)
	must(t, err)
	if !all.Intact || all.Entries != 15 || all.Read != 15 {
		t.Fatalf("VerifyAll %+v", all)
	}
	if cp, _ := s.LastAuditCheckpoint(ctx); cp.EntryID != 15 {
		t.Fatalf("VerifyAll recorded no checkpoint at the end: %+v", cp)
	}
	// A checkpoint with a hash that is not its entry's.
	appendAudits(t, s, 2)
	must(t, s.SaveAuditCheckpoint(ctx, &audit.Checkpoint{EntryID: 17, Hash: bytes.Repeat([]byte{1}, 32), VerifiedAt: at(2 * time.Hour)}))
	r, err = l.Verify(ctx)
	must(t, err)
	if r.Intact || r.FirstBroken != 17 {
		t.Fatalf("verification from a false checkpoint %+v, want broken at 17", r)
	}
	all, err = l.VerifyAll(ctx)
	must(t, err)
	if all.Intact || all.FirstBroken != 17 {
		t.Fatalf("VerifyAll with a false checkpoint %+v, want broken at 17", all)
	}
}

package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"parley"
)

// TestCommitBatchIsolatesFailures runs one batch by hand, so that its
// requests are certain to share a transaction: a request that fails after it
// has written (here: its message collides with a row planted at the seq the
// chat hands out) must be rolled back to its savepoint, counters included,
// a request whose caller gave up must be skipped, and the others committed.
func TestCommitBatchIsolatesFailures(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	u := &parley.User{Username: "writer", Role: parley.RoleMember}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	good := &parley.Chat{Kind: parley.ChatGroup, Title: "Good", OwnerID: u.ID}
	bad := &parley.Chat{Kind: parley.ChatGroup, Title: "Bad", OwnerID: u.ID}
	for _, c := range []*parley.Chat{good, bad} {
		if err := db.CreateChat(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Plant a message at seq 1 of the bad chat behind its counter's back.
	if _, err := db.writer.ExecContext(ctx,
		`INSERT INTO messages (chat_id, seq, sender_id, created_at) VALUES (?, 1, ?, 0)`, bad.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	before, err := db.CountPendingEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	req := func(ctx context.Context, chatID int64) *insertRequest {
		return &insertRequest{ctx: ctx, msg: parley.Message{ChatID: chatID, SenderID: u.ID, Text: "x"}, done: make(chan insertResult, 1)}
	}
	batch := []*insertRequest{
		req(ctx, good.ID),
		req(ctx, bad.ID),
		req(canceled, good.ID),
		req(ctx, good.ID+1000),
		req(ctx, good.ID),
	}
	db.commitBatch(batch)
	var res []insertResult
	for _, r := range batch {
		res = append(res, <-r.done)
	}

	if res[0].err != nil || res[4].err != nil {
		t.Fatalf("valid requests failed: %v, %v", res[0].err, res[4].err)
	}
	if res[0].msg.Seq != 1 || res[4].msg.Seq != 2 || res[4].update.Pts != 2 {
		t.Fatalf("valid requests: seqs %d, %d; pts %d", res[0].msg.Seq, res[4].msg.Seq, res[4].update.Pts)
	}
	if res[1].err == nil {
		t.Fatal("request colliding with a planted row succeeded")
	}
	if res[2].err != context.Canceled {
		t.Fatalf("canceled request: %v, want context.Canceled", res[2].err)
	}
	if parley.ErrorCode(res[3].err) != parley.ENotFound {
		t.Fatalf("request into a missing chat: %v, want ENotFound", res[3].err)
	}

	c, err := db.FindChatByID(ctx, bad.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.LastSeq != 0 || c.Pts != 0 {
		t.Fatalf("failed request left the bad chat at seq %d pts %d, want 0 0", c.LastSeq, c.Pts)
	}
	if ups, err := db.ListUpdates(ctx, bad.ID, 0, 10); err != nil || len(ups) != 0 {
		t.Fatalf("bad chat's updates = %v, %v", ups, err)
	}
	c, err = db.FindChatByID(ctx, good.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.LastSeq != 2 || c.Pts != 2 {
		t.Fatalf("good chat at seq %d pts %d, want 2 2", c.LastSeq, c.Pts)
	}
	if after, err := db.CountPendingEvents(ctx); err != nil || after != before+2 {
		t.Fatalf("pending events %d → %d, %v; want 2 more", before, after, err)
	}
}

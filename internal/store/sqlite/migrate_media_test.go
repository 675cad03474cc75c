package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley"
)

// TestMigrationKeepsOldMediaIDs: a database from before random media ids
// (schema version 7) keeps its items under their old ids, which were the
// SHA-256 of their bytes, and finds them by that hash afterwards, as
// re-screening and the upload gate do.
func TestMigrationKeepsOldMediaIDs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version > 7 {
			break
		}
		if _, err := raw.ExecContext(ctx, m.sql); err != nil {
			t.Fatalf("migration %s: %v", m.name, err)
		}
		if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	// Two items as version 7 stored them: the id is the SHA-256.
	shown, removed := strings.Repeat("5a", 32), strings.Repeat("6b", 32)
	for _, row := range []struct{ id, status string }{{shown, ""}, {removed, parley.MediaRemoved}} {
		if _, err := raw.ExecContext(ctx, `INSERT INTO media (id, mime, size, width, height, thumb_id, uploader_id, created_at, status, md5)
			VALUES (?, 'image/png', 10, 1, 1, ?, 1, 0, ?, ?)`, row.id, strings.Repeat("cd", 32), row.status, strings.Repeat("3d", 16)); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.SchemaVersion(ctx); err != nil || v < 8 {
		t.Fatalf("schema version %d, %v after Open", v, err)
	}
	m, err := db.FindMedia(ctx, shown)
	if err != nil || m.ID != shown || m.SHA256 != shown || m.MD5 != strings.Repeat("3d", 16) {
		t.Fatalf("an old item after the migration: %+v, %v; want its id kept and its SHA-256 the id", m, err)
	}
	if found, err := db.FindMediaBySHA256(ctx, shown, "", 10); err != nil || len(found) != 1 || found[0].ID != shown {
		t.Fatalf("found by SHA-256: %+v, %v", found, err)
	}
	if r, err := db.FindRestrictedMedia(ctx, removed); err != nil || r.ID != removed {
		t.Fatalf("the old removed item by its SHA-256: %+v, %v", r, err)
	}

	// Messages go on carrying an old id; a new upload of the same bytes
	// is an item of its own beside it.
	u := &parley.User{Username: "keeper", Role: parley.RoleMember, CreatedAt: time.Now()}
	if err := db.CreateUser(ctx, u); err != nil || u.ID != 1 {
		t.Fatalf("the uploader: %+v, %v", u, err)
	}
	c := &parley.Chat{Kind: parley.ChatGroup, Title: "Kept", OwnerID: u.ID, MemberLimit: 10}
	if err := db.CreateChat(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertMessage(ctx, &parley.Message{ChatID: c.ID, SenderID: u.ID, MediaID: shown}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for c, err := range db.MediaCarriers(ctx, shown, u.ID, 10) {
		if err != nil || !c.Member || c.Message.MediaID != shown {
			t.Fatalf("a carrier of an old item: %+v, %v", c, err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("%d carriers of an old item; want 1", n)
	}
	again := &parley.Media{ID: strings.Repeat("ef", 32), Mime: "image/png", Size: 10, UploaderID: u.ID, SHA256: shown}
	if err := db.SaveMedia(ctx, again); err != nil {
		t.Fatal(err)
	}
	if found, err := db.FindMediaBySHA256(ctx, shown, "", 10); err != nil || len(found) != 2 {
		t.Fatalf("old and new items of the same bytes: %+v, %v; want both", found, err)
	}
}

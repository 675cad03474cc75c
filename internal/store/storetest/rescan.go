package storetest

import (
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/safety/screen"
)

// --- re-screening ---

// image is a stored image with id (64 hex digits from prefix), a PDQ hash
// of the quality given (none when 0) and an MD5.
func image(u *parley.User, prefix string, quality int, md5 string) *parley.Media {
	m := &parley.Media{ID: (prefix + strings.Repeat("0", 64))[:64], Mime: "image/png", Size: 10, Width: 1, Height: 1,
		UploaderID: u.ID, CreatedAt: t0, MD5: md5}
	if quality > 0 {
		m.PDQ, m.PDQQuality = (prefix + strings.Repeat("f", 64))[:64], quality
	}
	return m
}

func scanHashes(t *testing.T, s Store, after string, minQuality, limit int) []screen.MediaHash {
	t.Helper()
	hs, err := s.ScanMediaHashes(t.Context(), after, minQuality, limit)
	must(t, err)
	if hs == nil {
		hs = []screen.MediaHash{}
	}
	return hs
}

func hashesOf(ms ...*parley.Media) []screen.MediaHash {
	return each(ms, func(m *parley.Media) screen.MediaHash { return screen.MediaHash{ID: m.ID, PDQ: m.PDQ} })
}

func testRescanCursor(t *testing.T, s Store) {
	ctx := t.Context()
	cursor := func(name string) int64 {
		t.Helper()
		v, err := s.RescanCursor(ctx, name)
		must(t, err)
		return v
	}
	if v := cursor("bank_changes"); v != 0 {
		t.Fatalf("a cursor never set = %d, want 0", v)
	}
	must(t, s.SetRescanCursor(ctx, "bank_changes", 17))
	if v := cursor("bank_changes"); v != 17 {
		t.Fatalf("cursor = %d, want 17", v)
	}
	must(t, s.SetRescanCursor(ctx, "bank_changes", 5)) // set, not raised
	if v := cursor("bank_changes"); v != 5 {
		t.Fatalf("cursor set back = %d, want 5", v)
	}
	if v := cursor("other"); v != 0 {
		t.Fatalf("another cursor = %d, want 0", v)
	}
	must(t, s.SetRescanCursor(ctx, "other", 3))
	if a, b := cursor("bank_changes"), cursor("other"); a != 5 || b != 3 {
		t.Fatalf("cursors = %d, %d; want 5, 3", a, b)
	}
}

func testRescanRuns(t *testing.T, s Store) {
	ctx := t.Context()
	done := func(source, id string, version int64) bool {
		t.Helper()
		ok, err := s.RescanDone(ctx, source, id, version)
		must(t, err)
		return ok
	}
	if done(parley.MatchRule, "crypto", 2) {
		t.Fatal("a run never recorded is done")
	}
	run := &screen.Rescan{Source: parley.MatchRule, SourceID: "crypto", Version: 2, Scanned: 10, Matched: 2, Actions: 1,
		StartedAt: at(time.Minute), FinishedAt: at(2 * time.Minute)}
	must(t, s.RecordRescan(ctx, run))
	if !done(parley.MatchRule, "crypto", 2) {
		t.Fatal("a recorded run is not done")
	}
	for _, other := range []struct {
		source, id string
		version    int64
	}{{parley.MatchRule, "crypto", 1}, {parley.MatchRule, "crypto", 3}, {parley.MatchBank, "crypto", 2}, {parley.MatchRule, "crypto2", 2}} {
		if done(other.source, other.id, other.version) {
			t.Fatalf("run %s %s %d is done; only %s %s %d was recorded", other.source, other.id, other.version, run.Source, run.SourceID, run.Version)
		}
	}
	// A run repeated after a crash records again.
	again := *run
	again.Scanned, again.FinishedAt = 20, at(3*time.Minute)
	must(t, s.RecordRescan(ctx, &again))
	if !done(parley.MatchRule, "crypto", 2) {
		t.Fatal("a run recorded twice is not done")
	}
}

// testRescanMediaHashes: the one pass of re-screening over the stored
// images reads the hashes good enough to compare, of the images still in
// use, in id order.
func testRescanMediaHashes(t *testing.T, s Store) {
	ctx := t.Context()
	if got := scanHashes(t, s, "", 50, 10); len(got) != 0 {
		t.Fatalf("hashes of an empty store = %+v", got)
	}
	u := newUser(t, s, "uploader")
	first, good, edge := image(u, "0a", 70, ""), image(u, "11", 90, ""), image(u, "66", 50, "")
	poor, none := image(u, "22", 40, ""), image(u, "33", 0, "")
	for _, m := range []*parley.Media{good, poor, none, edge, first} {
		must(t, s.SaveMedia(ctx, m))
	}
	blocked, removed := image(u, "44", 100, ""), image(u, "55", 80, "")
	apply(t, s, enforce.Action{Kind: enforce.BlockUpload, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: blocked.ID}, Media: blocked})
	must(t, s.SaveMedia(ctx, removed))
	apply(t, s, enforce.Action{Kind: enforce.RemoveMedia, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: removed.ID}})

	sameJSON(t, "hashes of quality 50 or better", scanHashes(t, s, "", 50, 0), hashesOf(first, good, edge))
	sameJSON(t, "first page", scanHashes(t, s, "", 50, 2), hashesOf(first, good))
	sameJSON(t, "next page", scanHashes(t, s, good.ID, 50, 2), hashesOf(edge))
	sameJSON(t, "after the last", scanHashes(t, s, edge.ID, 50, 2), hashesOf())
	sameJSON(t, "hashes of quality 30 or better", scanHashes(t, s, "", 30, 10), hashesOf(first, good, poor, edge))
	sameJSON(t, "a negative limit", scanHashes(t, s, "", 50, -1), hashesOf(first, good, edge))
}

func testRescanMediaByMD5(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "uploader")
	md5 := strings.Repeat("1", 32)
	later, earlier := image(u, "bb", 90, md5), image(u, "aa", 90, md5)
	other, without := image(u, "cc", 90, strings.Repeat("2", 32)), image(u, "dd", 90, "")
	for _, m := range []*parley.Media{later, earlier, other, without} {
		must(t, s.SaveMedia(ctx, m))
	}
	blocked := image(u, "ee", 90, md5)
	apply(t, s, enforce.Action{Kind: enforce.BlockUpload, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: blocked.ID}, Media: blocked})

	byMD5 := func(md5 string) []*parley.Media {
		t.Helper()
		ms, err := s.FindMediaByMD5(ctx, md5, "", 100)
		must(t, err)
		if ms == nil {
			ms = []*parley.Media{}
		}
		return ms
	}
	var want []*parley.Media
	for _, m := range []*parley.Media{earlier, later, blocked} {
		found, err := s.FindMedia(ctx, m.ID)
		must(t, err)
		want = append(want, found)
	}
	got := byMD5(md5)
	sameJSON(t, "media by MD5", got, want)
	if got[0].MD5 != md5 || got[0].PDQ != earlier.PDQ || got[2].Status != parley.MediaBlocked {
		t.Fatalf("media by MD5: hashes %q %q, status of the blocked one %q", got[0].MD5, got[0].PDQ, got[2].Status)
	}
	if got := byMD5(""); len(got) != 0 {
		t.Fatalf("an empty MD5 found %d media", len(got))
	}
	if got := byMD5(strings.Repeat("3", 32)); len(got) != 0 {
		t.Fatalf("an unknown MD5 found %d media", len(got))
	}
}

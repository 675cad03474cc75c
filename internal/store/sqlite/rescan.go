package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"parley"
	"parley/internal/safety/screen"
)

var _ screen.RescanStore = (*DB)(nil)

// RescanCursor returns how far re-screening has read the log name (0 if
// never).
func (db *DB) RescanCursor(ctx context.Context, name string) (int64, error) {
	var v int64
	err := db.reads.QueryRowContext(ctx, `SELECT value FROM rescan_cursors WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, internal("read rescan cursor", err)
	}
	return v, nil
}

// SetRescanCursor records how far re-screening has read the log name.
func (db *DB) SetRescanCursor(ctx context.Context, name string, value int64) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO rescan_cursors (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value); err != nil {
		return internal("set rescan cursor", err)
	}
	return db.commit(tx, false)
}

// RescanDone reports whether a re-screening run of (source, id, version)
// finished: only finished runs are recorded.
func (db *DB) RescanDone(ctx context.Context, source, id string, version int64) (bool, error) {
	var one int
	err := db.reads.QueryRowContext(ctx, `SELECT 1 FROM rescans WHERE source = ? AND source_id = ? AND version = ?`,
		source, id, version).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, internal("read rescan", err)
	}
	return true, nil
}

// RecordRescan records a finished re-screening run and what it did.
func (db *DB) RecordRescan(ctx context.Context, r *screen.Rescan) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO rescans (source, source_id, version, scanned, matched, actions, started_at, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source, source_id, version) DO UPDATE SET scanned = excluded.scanned,
			matched = excluded.matched, actions = excluded.actions, finished_at = excluded.finished_at`,
		r.Source, r.SourceID, r.Version, r.Scanned, r.Matched, r.Actions, toMicro(r.StartedAt), toMicro(r.FinishedAt)); err != nil {
		return internal("record rescan", err)
	}
	return db.commit(tx, false)
}

// ScanMediaHashes returns the PDQ hashes of stored media that are neither
// blocked nor removed and have one of quality min or better, with id >
// afterID in id order, at most limit: the one pass of re-screening over
// every stored image reads only what it compares.
func (db *DB) ScanMediaHashes(ctx context.Context, afterID string, minQuality, limit int) ([]screen.MediaHash, error) {
	limit = pageLimit(limit, 10_000) // before it sizes the page: the caller's limit may be anything
	rows, err := db.reads.QueryContext(ctx, `SELECT id, pdq FROM media
		WHERE id > ? AND status = '' AND pdq != '' AND pdq_quality >= ? ORDER BY id LIMIT ?`,
		afterID, minQuality, limit)
	if err != nil {
		return nil, internal("scan media", err)
	}
	defer rows.Close()
	out := make([]screen.MediaHash, 0, limit)
	for rows.Next() {
		var m screen.MediaHash
		if err := rows.Scan(&m.ID, &m.PDQ); err != nil {
			return nil, internal("scan media", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("scan media", err)
	}
	return out, nil
}

// FindMediaByMD5 returns the media items whose bytes have that MD5, with
// id > afterID in id order, at most limit (at most 1000).
func (db *DB) FindMediaByMD5(ctx context.Context, md5, afterID string, limit int) ([]*parley.Media, error) {
	// md5 != '' lets SQLite use the partial index media_md5.
	return db.listMedia(ctx, `WHERE md5 = ? AND md5 != '' AND id > ? ORDER BY id LIMIT ?`, md5, afterID, pageLimit(limit, 1000))
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"parley"
)

// SaveMedia inserts the media row unless one with the same ID exists: the ID
// is the SHA-256 of the bytes, so a second upload of the same image is the
// same media and its first row, with its first uploader, is kept. It sets
// m.CreatedAt when zero. ENotFound if the uploader does not exist.
func (db *DB) SaveMedia(ctx context.Context, m *parley.Media) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := userExists(ctx, tx, m.UploaderID); err != nil {
		return err
	}
	created := nowOr(m.CreatedAt)
	if err := insertMedia(ctx, tx, m, created); err != nil {
		return err
	}
	if err := db.commit(tx, false); err != nil {
		return err
	}
	m.CreatedAt = created
	return nil
}

// insertMedia inserts m unless a row with its ID exists, inside tx.
func insertMedia(ctx context.Context, tx *sql.Tx, m *parley.Media, created time.Time) error {
	mod, err := encodeModeration(m.Moderation)
	if err != nil {
		return internal("save media", err)
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO media (id, mime, size, width, height, thumb_id, uploader_id, created_at,
			status, moderation, pdq, pdq_quality, md5)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		m.ID, m.Mime, m.Size, m.Width, m.Height, m.ThumbID, m.UploaderID, toMicro(created),
		m.Status, mod, m.PDQ, m.PDQQuality, m.MD5); err != nil {
		return internal("save media", err)
	}
	return nil
}

const mediaColumns = `id, mime, size, width, height, thumb_id, uploader_id, created_at, status, moderation, pdq, pdq_quality, md5`

func scanMedia(row interface{ Scan(...any) error }) (*parley.Media, error) {
	var m parley.Media
	var created int64
	var mod string
	if err := row.Scan(&m.ID, &m.Mime, &m.Size, &m.Width, &m.Height, &m.ThumbID, &m.UploaderID, &created,
		&m.Status, &mod, &m.PDQ, &m.PDQQuality, &m.MD5); err != nil {
		return nil, err
	}
	m.CreatedAt = fromMicro(created)
	var err error
	m.Moderation, err = decodeModeration(mod)
	return &m, err
}

// findMedia reads one media row through q.
func findMedia(ctx context.Context, q queryer, id string) (*parley.Media, error) {
	m, err := scanMedia(q.QueryRowContext(ctx, `SELECT `+mediaColumns+` FROM media WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "media %s not found", id)
	} else if err != nil {
		return nil, internal("find media", err)
	}
	return m, nil
}

// FindMedia returns ENotFound if there is no such media.
func (db *DB) FindMedia(ctx context.Context, id string) (*parley.Media, error) {
	return findMedia(ctx, db.reads, id)
}

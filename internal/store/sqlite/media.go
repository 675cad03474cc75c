package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"parley"
)

// SaveMedia inserts the media row unless one with the same ID exists: the ID
// is the SHA-256 of the bytes, so a second upload of the same image is the
// same media and its first row, with its first uploader, is kept. It sets
// m.CreatedAt when zero. ENOTFOUND if the uploader does not exist.
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
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO media (id, mime, size, width, height, thumb_id, uploader_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		m.ID, m.Mime, m.Size, m.Width, m.Height, m.ThumbID, m.UploaderID, toMicro(created)); err != nil {
		return internal("save media", err)
	}
	if err := db.commit(tx, false); err != nil {
		return err
	}
	m.CreatedAt = created
	return nil
}

// FindMedia returns ENOTFOUND if there is no such media.
func (db *DB) FindMedia(ctx context.Context, id string) (*parley.Media, error) {
	var m parley.Media
	var created int64
	err := db.reads.QueryRowContext(ctx, `
		SELECT id, mime, size, width, height, thumb_id, uploader_id, created_at FROM media WHERE id = ?`, id,
	).Scan(&m.ID, &m.Mime, &m.Size, &m.Width, &m.Height, &m.ThumbID, &m.UploaderID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENOTFOUND, "media %s not found", id)
	} else if err != nil {
		return nil, internal("find media", err)
	}
	m.CreatedAt = fromMicro(created)
	return &m, nil
}

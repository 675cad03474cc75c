package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"time"

	"parley"
	"parley/internal/messaging"
)

// SaveMedia inserts a new media item and sets m.CreatedAt when zero. Each
// upload is its own item, so an id that is taken is EConflict (ids are
// random: it does not happen by chance). ENotFound if the uploader does
// not exist.
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

// insertMedia inserts m inside tx; EConflict if its id is taken.
func insertMedia(ctx context.Context, tx *sql.Tx, m *parley.Media, created time.Time) error {
	mod, err := encodeModeration(m.Moderation)
	if err != nil {
		return internal("save media", err)
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO media (id, mime, size, width, height, thumb_id, uploader_id, created_at,
			status, moderation, sha256, md5, pdq, pdq_quality)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		m.ID, m.Mime, m.Size, m.Width, m.Height, m.ThumbID, m.UploaderID, toMicro(created),
		m.Status, mod, m.SHA256, m.MD5, m.PDQ, m.PDQQuality)
	if err != nil {
		return internal("save media", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal("save media", err)
	} else if n == 0 {
		return parley.Errorf(parley.EConflict, "media %s exists already", m.ID)
	}
	return nil
}

const mediaColumns = `id, mime, size, width, height, thumb_id, uploader_id, created_at, status, moderation,
	sha256, md5, pdq, pdq_quality`

func scanMedia(row interface{ Scan(...any) error }) (*parley.Media, error) {
	var m parley.Media
	var created int64
	var mod string
	if err := row.Scan(&m.ID, &m.Mime, &m.Size, &m.Width, &m.Height, &m.ThumbID, &m.UploaderID, &created,
		&m.Status, &mod, &m.SHA256, &m.MD5, &m.PDQ, &m.PDQQuality); err != nil {
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

// listMedia returns the media rows that where selects, in id order.
func (db *DB) listMedia(ctx context.Context, where string, args ...any) ([]*parley.Media, error) {
	rows, err := db.reads.QueryContext(ctx, `SELECT `+mediaColumns+` FROM media `+where, args...)
	if err != nil {
		return nil, internal("find media", err)
	}
	defer rows.Close()
	out := []*parley.Media{}
	for rows.Next() {
		m, err := scanMedia(rows)
		if err != nil {
			return nil, internal("find media", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("find media", err)
	}
	return out, nil
}

// FindMediaBySHA256 returns the media items whose bytes have that SHA-256,
// with id > afterID in id order, at most limit (at most 1000).
func (db *DB) FindMediaBySHA256(ctx context.Context, sha256, afterID string, limit int) ([]*parley.Media, error) {
	// sha256 != '' lets SQLite use the partial index media_sha256.
	return db.listMedia(ctx, `WHERE sha256 = ? AND sha256 != '' AND id > ? ORDER BY id LIMIT ?`,
		sha256, afterID, pageLimit(limit, 1000))
}

// FindRestrictedMedia returns a media item whose bytes have that SHA-256
// and that is blocked or removed (a blocked one first), or ENotFound.
func (db *DB) FindRestrictedMedia(ctx context.Context, sha256 string) (*parley.Media, error) {
	// The status is in the index media_sha256, so however many items share
	// the bytes, only the restricted ones are read from the table.
	ms, err := db.listMedia(ctx, `WHERE sha256 = ? AND sha256 != '' AND status != ''
		ORDER BY status = 'blocked' DESC, id LIMIT 1`, sha256)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, parley.Errorf(parley.ENotFound, "no blocked or removed media with that SHA-256")
	}
	return ms[0], nil
}

// MediaCarriers yields the messages that carry the media item id and that
// viewerID might see, newest first, at most limit (at most 100): not
// deleted, in a chat the viewer is a member of or in a channel, and not
// held unless the viewer wrote it. Each comes with its chat and whether the
// viewer is a member. Removed messages and those of banned chats are
// included: the caller decides what the viewer sees.
//
// The rows are read as they are yielded, so a caller that stops at the
// first copy it can use stops the query there.
func (db *DB) MediaCarriers(ctx context.Context, id string, viewerID int64, limit int) iter.Seq2[*messaging.MediaCarrier, error] {
	return func(yield func(*messaging.MediaCarrier, error) bool) {
		// media_id != '' lets SQLite walk the partial index
		// messages_media, which holds the rowid and so gives the newest
		// first without sorting; each copy costs a lookup of its chat and
		// of the viewer's membership.
		rows, err := db.reads.QueryContext(ctx, `
			SELECT `+messageColumns+`, `+chatColumns+`, mem.user_id IS NOT NULL
			FROM messages m
			JOIN chats c ON c.id = m.chat_id
			LEFT JOIN members mem ON mem.chat_id = m.chat_id AND mem.user_id = ?2
			LEFT JOIN users s ON s.id = m.sender_id
			WHERE m.media_id = ?1 AND m.media_id != '' AND m.deleted_at IS NULL
			  AND (mem.user_id IS NOT NULL OR c.kind = 'channel')
			  AND (m.status != 'held' OR m.sender_id = ?2)
			ORDER BY m.id DESC LIMIT ?3`, id, viewerID, pageLimit(limit, 100))
		if err != nil {
			yield(nil, internal("find media carriers", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var mr nullMessageRow
			var cr chatRow
			mc := &messaging.MediaCarrier{}
			if err := rows.Scan(append(append(mr.dest(), cr.dest()...), &mc.Member)...); err != nil {
				yield(nil, internal("find media carriers", err))
				return
			}
			if mc.Message, err = mr.message(); err == nil {
				mc.Chat, err = cr.chat()
			}
			if err != nil {
				yield(nil, internal("find media carriers", err))
				return
			}
			if !yield(mc, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, internal("find media carriers", err))
		}
	}
}

// MediaPosted reports whether any message that is not deleted carries the
// media item id.
func (db *DB) MediaPosted(ctx context.Context, id string) (bool, error) {
	var posted bool
	err := db.reads.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM messages WHERE media_id = ? AND media_id != '' AND deleted_at IS NULL)`, id).Scan(&posted)
	if err != nil {
		return false, internal("find media carriers", err)
	}
	return posted, nil
}

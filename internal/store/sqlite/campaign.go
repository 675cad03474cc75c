package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"parley"
	"parley/internal/safety/campaign"
)

var _ campaign.Store = (*DB)(nil)

// RecordCampaigns stores what a batch of observations found, in one
// transaction. The counts are kept as members arrive (a member or account
// counts when its row is new), so that a campaign of a million posts costs
// the same per post as one of three.
func (db *DB) RecordCampaigns(ctx context.Context, found []campaign.Found) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, f := range found {
		if err := recordCampaign(ctx, tx, f); err != nil {
			return err
		}
	}
	return db.commit(tx, false)
}

func recordCampaign(ctx context.Context, tx *sql.Tx, f campaign.Found) error {
	at := toMicro(micro(nowOr(f.At)))
	id := f.Campaign
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO campaigns (id, sample, first_at, last_at, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, id, truncateText(f.Sample, 1000), at, at, at); err != nil {
		return internal("record campaign", err)
	}
	var posts, accounts int64
	first, last := at, at
	addMember := func(msgID, chatID, accountID int64, memberAt int64) error {
		first, last = min(first, memberAt), max(last, memberAt)
		res, err := tx.ExecContext(ctx, `
			INSERT INTO campaign_members (campaign_id, message_id, chat_id, account_id, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, id, msgID, chatID, accountID, memberAt)
		if err != nil {
			return internal("record campaign", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			posts++
		}
		res, err = tx.ExecContext(ctx, `INSERT INTO campaign_accounts (campaign_id, account_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, accountID)
		if err != nil {
			return internal("record campaign", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			accounts++
		}
		return nil
	}
	for _, old := range f.Absorbed {
		rows, err := tx.QueryContext(ctx, `SELECT message_id, chat_id, account_id, at FROM campaign_members WHERE campaign_id = ?`, old)
		if err != nil {
			return internal("record campaign", err)
		}
		var moved [][4]int64
		for rows.Next() {
			var m [4]int64
			if err := rows.Scan(&m[0], &m[1], &m[2], &m[3]); err != nil {
				rows.Close()
				return internal("record campaign", err)
			}
			moved = append(moved, m)
		}
		rows.Close()
		for _, m := range moved {
			if err := addMember(m[0], m[1], m[2], m[3]); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = ?, absorbed_into = ? WHERE id = ? AND status = ?`,
			campaign.StatusAbsorbed, id, old, campaign.StatusOpen); err != nil {
			return internal("record campaign", err)
		}
	}
	for _, m := range f.Joined {
		if err := addMember(m.PostID, m.ChatID, m.AccountID, toMicro(m.At)); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE campaigns SET posts = posts + ?, accounts = accounts + ?, first_at = min(first_at, ?), last_at = max(last_at, ?)
		WHERE id = ?`, posts, accounts, first, last, id); err != nil {
		return internal("record campaign", err)
	}
	return nil
}

// truncateText cuts s to at most n bytes at a character boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

const campaignColumns = `id, status, coalesce(absorbed_into, 0), sample, posts, accounts, first_at, last_at, created_at, coalesce(decided_by, 0), decided_at`

func scanCampaign(row interface{ Scan(...any) error }) (*campaign.Stored, error) {
	var c campaign.Stored
	var first, last, created int64
	var decided sql.NullInt64
	if err := row.Scan(&c.ID, &c.Status, &c.AbsorbedInto, &c.Sample, &c.Posts, &c.Accounts, &first, &last, &created, &c.DecidedBy, &decided); err != nil {
		return nil, err
	}
	c.FirstAt, c.LastAt, c.CreatedAt, c.DecidedAt = fromMicro(first), fromMicro(last), fromMicro(created), timePtr(decided)
	return &c, nil
}

// FindCampaign returns ENotFound if there is no such campaign.
func (db *DB) FindCampaign(ctx context.Context, id int64) (*campaign.Stored, error) {
	c, err := scanCampaign(db.reads.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "campaign %d not found", id)
	} else if err != nil {
		return nil, internal("find campaign", err)
	}
	return c, nil
}

// ListCampaigns returns campaigns with a status, most recently active first.
func (db *DB) ListCampaigns(ctx context.Context, status string, limit int) ([]*campaign.Stored, error) {
	rows, err := db.reads.QueryContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE status = ? ORDER BY last_at DESC, id DESC LIMIT ?`,
		status, pageLimit(limit, 1000))
	if err != nil {
		return nil, internal("list campaigns", err)
	}
	defer rows.Close()
	out := []*campaign.Stored{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, internal("list campaigns", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list campaigns", err)
	}
	return out, nil
}

// ListCampaignMembers returns a campaign's posts, oldest first, with their
// text and whether they are removed.
func (db *DB) ListCampaignMembers(ctx context.Context, id int64) ([]*campaign.StoredMember, error) {
	rows, err := db.reads.QueryContext(ctx, `
		SELECT cm.message_id, cm.chat_id, coalesce(m.seq, 0), cm.account_id, coalesce(m.text, ''),
			coalesce(m.status, '') = 'removed' OR m.deleted_at IS NOT NULL, cm.at
		FROM campaign_members cm LEFT JOIN messages m ON m.id = cm.message_id
		WHERE cm.campaign_id = ? ORDER BY cm.at, cm.message_id LIMIT 100000`, id)
	if err != nil {
		return nil, internal("list campaign members", err)
	}
	defer rows.Close()
	out := []*campaign.StoredMember{}
	for rows.Next() {
		var m campaign.StoredMember
		var at int64
		if err := rows.Scan(&m.MessageID, &m.ChatID, &m.Seq, &m.AccountID, &m.Text, &m.Removed, &at); err != nil {
			return nil, internal("list campaign members", err)
		}
		m.At = fromMicro(at)
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list campaign members", err)
	}
	return out, nil
}

// DecideCampaign sets an open campaign's status, with an audit entry; the
// status is checked and set in one statement, so that of two decisions at
// once only the first takes effect.
func (db *DB) DecideCampaign(ctx context.Context, id int64, status string, by int64, at time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	at = micro(nowOr(at))
	var was string
	err = tx.QueryRowContext(ctx, `SELECT status FROM campaigns WHERE id = ?`, id).Scan(&was)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "campaign %d not found", id)
	} else if err != nil {
		return internal("decide campaign", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = ?`,
		status, by, toMicro(at), id, campaign.StatusOpen)
	if err != nil {
		return internal("decide campaign", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.EConflict, "campaign %d is %s already", id, was)
	}
	details, _ := json.Marshal(map[string]any{"status": status})
	if err := appendAudit(ctx, tx, &parley.AuditEntry{At: at, ActorID: by, Action: "campaign.decided",
		TargetType: "campaign", TargetID: strconv.FormatInt(id, 10), Details: string(details)}); err != nil {
		return err
	}
	return db.commit(tx, false)
}

// PostsSince yields stored posts of channels and groups posted at or after
// since, with id > afterID, in id order. Message ids grow with time, so the
// first id is found by a binary search over ids rather than an index on the
// time, which every insert would have to maintain.
func (db *DB) PostsSince(ctx context.Context, since time.Time, afterID int64, limit int) ([]campaign.Post, error) {
	if afterID == 0 {
		first, err := db.firstMessageIDSince(ctx, since)
		if err != nil {
			return nil, err
		}
		afterID = first - 1
	}
	rows, err := db.reads.QueryContext(ctx, `
		SELECT m.id, m.sender_id, m.chat_id, m.text, m.created_at FROM messages m JOIN chats c ON c.id = m.chat_id
		WHERE m.id > ? AND c.kind IN ('channel', 'group') AND m.deleted_at IS NULL AND m.text != '' AND m.created_at >= ?
		ORDER BY m.id LIMIT ?`, afterID, toMicro(since), pageLimit(limit, 1000))
	if err != nil {
		return nil, internal("posts since", err)
	}
	defer rows.Close()
	var out []campaign.Post
	for rows.Next() {
		var p campaign.Post
		var at int64
		if err := rows.Scan(&p.ID, &p.AccountID, &p.ChatID, &p.Text, &at); err != nil {
			return nil, internal("posts since", err)
		}
		p.At = fromMicro(at)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("posts since", err)
	}
	return out, nil
}

// firstMessageIDSince returns the smallest message id whose message was
// posted at or after since (by a binary search over ids), or the next id
// when there is none.
func (db *DB) firstMessageIDSince(ctx context.Context, since time.Time) (int64, error) {
	var lo, hi int64
	if err := db.reads.QueryRowContext(ctx, `SELECT coalesce(min(id), 1), coalesce(max(id), 0) FROM messages`).Scan(&lo, &hi); err != nil {
		return 0, internal("posts since", err)
	}
	hi++ // hi is an id known to be at or after since (one past the last)
	for lo < hi {
		mid := lo + (hi-lo)/2
		var created int64
		err := db.reads.QueryRowContext(ctx, `SELECT created_at FROM messages WHERE id >= ? ORDER BY id LIMIT 1`, mid).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			hi = mid
			continue
		} else if err != nil {
			return 0, internal("posts since", err)
		}
		if created >= toMicro(since) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

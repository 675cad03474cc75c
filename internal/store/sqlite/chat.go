package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"parley"
)

// handleKey is the form in which channel handles are compared.
func handleKey(handle string) string { return strings.ToLower(handle) }

// pair orders the two accounts of a two-person chat, so the pair is the same
// whichever of them opened it.
func pair(a, b int64) (lo, hi int64) {
	if a > b {
		return b, a
	}
	return a, b
}

// CreateChat inserts chat with its owner as first member (role owner) and,
// for a direct or secret chat, peerID as a regular member; it sets chat.ID,
// chat.CreatedAt (when zero), chat.MemberCount and the counters, and writes
// a chat.joined event for each member. It returns EConflict if a channel
// handle is taken in any letter case or a direct chat between the two
// accounts exists, EInvalid for an unknown kind, a handle on a chat that is
// not a channel, or a two-person chat without a distinct peer, and ENotFound
// if the owner or peer does not exist.
func (db *DB) CreateChat(ctx context.Context, chat *parley.Chat, peerID int64) error {
	if !chat.Kind.Valid() {
		return parley.FieldError("kind", "unknown chat kind %q", chat.Kind)
	}
	if chat.Handle != "" && chat.Kind != parley.ChatChannel {
		return parley.FieldError("handle", "only a channel has a handle")
	}
	twoPerson := chat.Kind == parley.ChatDirect || chat.Kind == parley.ChatSecret
	if twoPerson && (peerID == 0 || peerID == chat.OwnerID) {
		return parley.FieldError("peer_id", "a %s chat needs another account", chat.Kind)
	}

	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	memberIDs := []int64{chat.OwnerID}
	if twoPerson {
		memberIDs = append(memberIDs, peerID)
	}
	for _, id := range memberIDs {
		if err := userExists(ctx, tx, id); err != nil {
			return err
		}
	}

	created := nowOr(chat.CreatedAt)
	var handle, hkey sql.NullString
	if chat.Handle != "" {
		handle = sql.NullString{String: chat.Handle, Valid: true}
		hkey = sql.NullString{String: handleKey(chat.Handle), Valid: true}
	}
	var lo, hi sql.NullInt64
	if twoPerson {
		l, h := pair(chat.OwnerID, peerID)
		lo, hi = sql.NullInt64{Int64: l, Valid: true}, sql.NullInt64{Int64: h, Valid: true}
	}
	var id int64
	err = tx.QueryRowContext(ctx, `
		INSERT INTO chats (kind, handle, handle_key, title, title_key, description, owner_id, pair_lo, pair_hi,
			member_count, member_limit, active_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		string(chat.Kind), handle, hkey, chat.Title, strings.ToLower(chat.Title), chat.Description, chat.OwnerID,
		lo, hi, len(memberIDs), chat.MemberLimit, toMicro(created), toMicro(created),
	).Scan(&id)
	if isUnique(err) {
		if chat.Kind == parley.ChatDirect {
			return parley.Errorf(parley.EConflict, "a direct chat between users %d and %d already exists", chat.OwnerID, peerID)
		}
		return parley.Errorf(parley.EConflict, "handle @%s is taken", chat.Handle)
	} else if err != nil {
		return internal("create chat", err)
	}

	for i, uid := range memberIDs {
		role := parley.MemberRegular
		if i == 0 {
			role = parley.MemberOwner
		}
		if err := insertMember(ctx, tx, &parley.Member{ChatID: id, UserID: uid, Role: role, JoinedAt: created}); err != nil {
			return err
		}
	}
	if err := db.commit(tx, true); err != nil {
		return err
	}
	chat.ID, chat.CreatedAt, chat.MemberCount = id, created, int64(len(memberIDs))
	chat.LastSeq, chat.Pts = 0, 0
	return nil
}

const chatColumns = `c.id, c.kind, coalesce(c.handle, ''), c.title, c.description, c.owner_id,
	c.member_count, c.member_limit, c.last_seq, c.pts, c.created_at, c.moderation`

// chatRow scans chatColumns.
type chatRow struct {
	c          parley.Chat
	kind       string
	created    int64
	moderation string
}

func (r *chatRow) dest() []any {
	c := &r.c
	return []any{&c.ID, &r.kind, &c.Handle, &c.Title, &c.Description, &c.OwnerID,
		&c.MemberCount, &c.MemberLimit, &c.LastSeq, &c.Pts, &r.created, &r.moderation}
}

// chat converts what was scanned.
func (r *chatRow) chat() (*parley.Chat, error) {
	c := r.c
	c.Kind, c.CreatedAt = parley.ChatKind(r.kind), fromMicro(r.created)
	var err error
	c.Moderation, err = decodeModeration(r.moderation)
	return &c, err
}

func scanChat(row interface{ Scan(...any) error }) (*parley.Chat, error) {
	var r chatRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.chat()
}

// findChat reads one chat through q, which may be a write transaction.
func findChat(ctx context.Context, q queryer, id int64) (*parley.Chat, error) {
	c, err := scanChat(q.QueryRowContext(ctx, `SELECT `+chatColumns+` FROM chats c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "chat %d not found", id)
	} else if err != nil {
		return nil, internal("find chat", err)
	}
	return c, nil
}

// FindChatByID returns ENotFound if there is no such chat.
func (db *DB) FindChatByID(ctx context.Context, id int64) (*parley.Chat, error) {
	return findChat(ctx, db.reads, id)
}

// FindChatByHandle matches a channel's handle case-insensitively; ENotFound
// if no channel has it.
func (db *DB) FindChatByHandle(ctx context.Context, handle string) (*parley.Chat, error) {
	c, err := scanChat(db.reads.QueryRowContext(ctx,
		`SELECT `+chatColumns+` FROM chats c WHERE c.handle_key = ?`, handleKey(handle)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "channel @%s not found", handle)
	} else if err != nil {
		return nil, internal("find chat", err)
	}
	return c, nil
}

// FindDirectChat returns the direct chat between two users, given in either
// order, or ENotFound.
func (db *DB) FindDirectChat(ctx context.Context, userA, userB int64) (*parley.Chat, error) {
	lo, hi := pair(userA, userB)
	c, err := scanChat(db.reads.QueryRowContext(ctx,
		`SELECT `+chatColumns+` FROM chats c WHERE c.kind = 'direct' AND c.pair_lo = ? AND c.pair_hi = ?`, lo, hi))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "no direct chat between users %d and %d", userA, userB)
	} else if err != nil {
		return nil, internal("find direct chat", err)
	}
	return c, nil
}

// SearchChannels returns channels whose handle or title contains query, in
// any letter case, most subscribers first (then oldest first), at most limit
// (at most MaxPageSize). An empty query lists the largest channels.
func (db *DB) SearchChannels(ctx context.Context, query string, limit int) ([]*parley.Chat, error) {
	q := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(query), "@"))
	// instr rather than LIKE: the query is matched literally, so % and _ in
	// it are not wildcards, and lower-casing in Go folds non-ASCII letters
	// that SQLite's LIKE would not.
	rows, err := db.reads.QueryContext(ctx, `
		SELECT `+chatColumns+` FROM chats c
		WHERE c.kind = 'channel' AND c.status != 'banned'
		  AND (?1 = '' OR instr(coalesce(c.handle_key, ''), ?1) > 0 OR instr(c.title_key, ?1) > 0)
		ORDER BY c.member_count DESC, c.id
		LIMIT ?2`, q, pageLimit(limit, parley.MaxPageSize))
	if err != nil {
		return nil, internal("search channels", err)
	}
	defer rows.Close()
	chats := []*parley.Chat{}
	for rows.Next() {
		c, err := scanChat(rows)
		if err != nil {
			return nil, internal("search channels", err)
		}
		chats = append(chats, c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("search channels", err)
	}
	return chats, nil
}

// ListChatsForUser returns the chats the user is a member of, newest
// activity first (the newest message, or the creation of a chat without
// messages), each with the user's role, the newest message that is not
// deleted and, for direct and secret chats, the other account.
func (db *DB) ListChatsForUser(ctx context.Context, userID int64) ([]*parley.ChatSummary, error) {
	rows, err := db.reads.QueryContext(ctx, `
		SELECT `+chatColumns+`, me.role,
			CASE WHEN c.pair_lo IS NULL THEN 0 WHEN c.pair_lo = me.user_id THEN c.pair_hi ELSE c.pair_lo END,
			coalesce(nullif(peer.display_name, ''), peer.username, ''),
			`+messageColumns+`
		FROM members me
		JOIN chats c ON c.id = me.chat_id
		LEFT JOIN users peer ON peer.id = CASE WHEN c.pair_lo = me.user_id THEN c.pair_hi ELSE c.pair_lo END
		LEFT JOIN messages m ON m.chat_id = c.id AND m.seq = (
			SELECT l.seq FROM messages l
			WHERE l.chat_id = c.id AND l.deleted_at IS NULL AND (l.status != 'held' OR l.sender_id = me.user_id)
			ORDER BY l.seq DESC LIMIT 1)
		LEFT JOIN users s ON s.id = m.sender_id
		WHERE me.user_id = ?
		ORDER BY c.active_at DESC, c.id DESC`, userID)
	if err != nil {
		return nil, internal("list chats", err)
	}
	defer rows.Close()
	list := []*parley.ChatSummary{}
	for rows.Next() {
		var cs parley.ChatSummary
		var role string
		var cr chatRow
		var mr nullMessageRow
		dest := append(cr.dest(), &role, &cs.PeerID, &cs.PeerName)
		dest = append(dest, mr.dest()...)
		if err := rows.Scan(dest...); err != nil {
			return nil, internal("list chats", err)
		}
		c, err := cr.chat()
		if err != nil {
			return nil, internal("list chats", err)
		}
		cs.Chat, cs.MyRole = *c, parley.MemberRole(role)
		if cs.LastMessage, err = mr.message(); err != nil {
			return nil, internal("list chats", err)
		}
		list = append(list, &cs)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list chats", err)
	}
	return list, nil
}

// ListChatIDsForUser returns the ids of every chat the user belongs to, in
// id order.
func (db *DB) ListChatIDsForUser(ctx context.Context, userID int64) ([]int64, error) {
	rows, err := db.reads.QueryContext(ctx, `SELECT chat_id FROM members WHERE user_id = ? ORDER BY chat_id`, userID)
	if err != nil {
		return nil, internal("list chat ids", err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, internal("list chat ids", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list chat ids", err)
	}
	return ids, nil
}

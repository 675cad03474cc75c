package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"parley"
)

// insertEvent writes one event to the outbox inside tx, the transaction of
// the change it describes, so the event exists if and only if the change
// does. payload is encoded as JSON.
func insertEvent(ctx context.Context, q queryer, subject, kind string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return internal("encode event", err)
	}
	if _, err := q.ExecContext(ctx, sqlInsertEvent, subject, kind, b, toMicro(time.Now())); err != nil {
		return internal("insert event", err)
	}
	return nil
}

// insertMembershipEvent writes chat.joined or chat.left on the account's
// subject, so every process serving that account learns to follow or drop
// the chat.
func insertMembershipEvent(ctx context.Context, q queryer, kind string, chatID, userID int64) error {
	return insertEvent(ctx, q, parley.UserSubject(userID), kind, parley.MembershipEvent{UserID: userID, ChatID: chatID})
}

// maxEventPage bounds PendingEvents.
const maxEventPage = 1000

// PendingEvents returns the oldest events not yet relayed, in id order, at
// most limit (at most 1000; zero or less means 1000).
func (db *DB) PendingEvents(ctx context.Context, limit int) ([]parley.Event, error) {
	rows, err := db.reads.QueryContext(ctx,
		`SELECT id, subject, kind, payload, created_at FROM outbox ORDER BY id LIMIT ?`,
		pageLimit(limit, maxEventPage))
	if err != nil {
		return nil, internal("pending events", err)
	}
	defer rows.Close()
	events := []parley.Event{}
	for rows.Next() {
		var e parley.Event
		var created int64
		if err := rows.Scan(&e.ID, &e.Subject, &e.Kind, &e.Payload, &created); err != nil {
			return nil, internal("pending events", err)
		}
		e.CreatedAt = fromMicro(created)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("pending events", err)
	}
	return events, nil
}

// DeleteEvents removes relayed events. Ids that are already gone are
// ignored, because the relay may delete the same event twice after a retry.
//
// The delete joins the next group-commit batch of new messages (see
// InsertMessage) rather than taking a transaction and an fsync of its own:
// under load the relay deletes after every publish, and a separate commit
// for each would cost the writer as much as a batch of messages.
func (db *DB) DeleteEvents(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return db.submit(ctx, &insertRequest{ctx: ctx, deleteEvents: ids, done: make(chan insertResult, 1)}).err
}

// CountPendingEvents returns how many events wait to be relayed.
func (db *DB) CountPendingEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := db.reads.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		return 0, internal("count pending events", err)
	}
	return n, nil
}

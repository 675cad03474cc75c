package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

var _ enforce.Store = (*DB)(nil)

// actionDecision is what the decision column holds: the request's own
// parameters, apart from the kind and target that have columns of their own.
type actionDecision struct {
	Countries   []string        `json:"countries,omitempty"`
	AlsoUnknown bool            `json:"also_unknown,omitempty"`
	Label       string          `json:"label,omitempty"`
	Until       time.Time       `json:"until,omitzero"`
	Grounds     enforce.Grounds `json:"grounds"`
	Note        string          `json:"note,omitempty"`
}

const actionColumns = `id, kind, target_type, target_id, affected_user_id, parent_id, decision, statement, puid,
	strike, actor_id, automated, created_at, reversed_at, reversed_by, reversal_reason,
	(SELECT count(*) FROM enforcement_actions c WHERE c.parent_id = a.id)`

func scanAction(row interface{ Scan(...any) error }) (*enforce.Action, error) {
	var a enforce.Action
	var kind, ttype, tid, decision, statement string
	var parent, reversed, reversedBy sql.NullInt64
	var reason sql.NullString
	var created int64
	if err := row.Scan(&a.ID, &kind, &ttype, &tid, &a.AffectedUserID, &parent, &decision, &statement, &a.PUID,
		&a.Strike, &a.ActorID, &a.Automated, &created, &reversed, &reversedBy, &reason, &a.Children); err != nil {
		return nil, err
	}
	a.Kind, a.ParentID, a.CreatedAt = enforce.Kind(kind), parent.Int64, fromMicro(created)
	a.ReversedAt, a.ReversedBy, a.ReversalReason = timePtr(reversed), reversedBy.Int64, reason.String
	var err error
	if a.Target, err = enforce.ParseTarget(ttype, tid); err != nil {
		return nil, err
	}
	var d actionDecision
	if err := json.Unmarshal([]byte(decision), &d); err != nil {
		return nil, fmt.Errorf("action %d decision: %w", a.ID, err)
	}
	a.Countries, a.AlsoUnknown, a.Label, a.Until, a.Grounds, a.Note = d.Countries, d.AlsoUnknown, d.Label, d.Until, d.Grounds, d.Note
	a.Statement = &sor.Statement{}
	if err := json.Unmarshal([]byte(statement), a.Statement); err != nil {
		return nil, fmt.Errorf("action %d statement: %w", a.ID, err)
	}
	return &a, nil
}

func findAction(ctx context.Context, q queryer, id int64) (*enforce.Action, error) {
	a, err := scanAction(q.QueryRowContext(ctx, `SELECT `+actionColumns+` FROM enforcement_actions a WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "action %d not found", id)
	} else if err != nil {
		return nil, internal("find action", err)
	}
	return a, nil
}

func listActions(ctx context.Context, q queryer, where string, args ...any) ([]*enforce.Action, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+actionColumns+` FROM enforcement_actions a `+where, args...)
	if err != nil {
		return nil, internal("list actions", err)
	}
	defer rows.Close()
	out := []*enforce.Action{}
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, internal("list actions", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list actions", err)
	}
	return out, nil
}

// FindAction returns ENotFound if there is no such action.
func (db *DB) FindAction(ctx context.Context, id int64) (*enforce.Action, error) {
	return findAction(ctx, db.reads, id)
}

// ListActions returns actions matching f, newest first.
func (db *DB) ListActions(ctx context.Context, f enforce.Filter) ([]*enforce.Action, error) {
	where, args := "WHERE 1 = 1", []any{}
	if f.Kind != "" {
		where += " AND kind = ?"
		args = append(args, string(f.Kind))
	}
	if f.AffectedUserID != 0 {
		where += " AND affected_user_id = ?"
		args = append(args, f.AffectedUserID)
	}
	if f.Target != nil {
		where += " AND target_type = ? AND target_id = ?"
		args = append(args, f.Target.Type, f.Target.ID())
	}
	if f.BeforeID > 0 {
		where += " AND id < ?"
		args = append(args, f.BeforeID)
	}
	where += " ORDER BY id DESC LIMIT ?"
	args = append(args, pageLimit(f.Limit, 1000))
	return listActions(ctx, db.reads, where, args...)
}

// ListStatementActions returns the actions taken in r's range, in id order.
func (db *DB) ListStatementActions(ctx context.Context, r enforce.StatementRange) ([]*enforce.Action, error) {
	until := r.Until
	if until.IsZero() {
		until = time.Unix(1<<40, 0)
	}
	return listActions(ctx, db.reads, `WHERE created_at >= ? AND created_at < ? AND id > ? ORDER BY id LIMIT ?`,
		toMicro(r.Since), toMicro(until), r.AfterID, pageLimit(r.Limit, 1000))
}

// ListLegalHolds returns the holds in force, oldest first.
func (db *DB) ListLegalHolds(ctx context.Context) ([]*enforce.LegalHold, error) {
	return listHolds(ctx, db.reads)
}

func listHolds(ctx context.Context, q queryer) ([]*enforce.LegalHold, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, target_type, target_id, reason, created_by, created_at
		FROM legal_holds WHERE released_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, internal("list legal holds", err)
	}
	defer rows.Close()
	out := []*enforce.LegalHold{}
	for rows.Next() {
		var h enforce.LegalHold
		var ttype, tid string
		var created int64
		if err := rows.Scan(&h.ID, &ttype, &tid, &h.Reason, &h.CreatedBy, &created); err != nil {
			return nil, internal("list legal holds", err)
		}
		if h.Target, err = enforce.ParseTarget(ttype, tid); err != nil {
			return nil, internal("list legal holds", err)
		}
		h.CreatedAt = fromMicro(created)
		out = append(out, &h)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list legal holds", err)
	}
	return out, nil
}

// ListEvidence returns the evidence kept about a target, oldest first.
func (db *DB) ListEvidence(ctx context.Context, t enforce.Target) ([]*enforce.Evidence, error) {
	return listEvidence(ctx, db.reads, `WHERE target_type = ? AND target_id = ? ORDER BY id`, t.Type, t.ID())
}

func listEvidence(ctx context.Context, q queryer, where string, args ...any) ([]*enforce.Evidence, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, action_id, target_type, target_id, content, kept_until, created_at FROM evidence `+where, args...)
	if err != nil {
		return nil, internal("list evidence", err)
	}
	defer rows.Close()
	out := []*enforce.Evidence{}
	for rows.Next() {
		var e enforce.Evidence
		var ttype, tid string
		var until, created int64
		if err := rows.Scan(&e.ID, &e.ActionID, &ttype, &tid, &e.Content, &until, &created); err != nil {
			return nil, internal("list evidence", err)
		}
		if e.Target, err = enforce.ParseTarget(ttype, tid); err != nil {
			return nil, internal("list evidence", err)
		}
		e.KeptUntil, e.CreatedAt = fromMicro(until), fromMicro(created)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list evidence", err)
	}
	return out, nil
}

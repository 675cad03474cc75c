package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"parley"
	"parley/internal/safety/rules"
	"parley/internal/safety/screen"
)

var _ screen.RuleStore = (*DB)(nil)

// ruleChanged writes the audit entry and the outbox event of a change to
// the rule book inside tx.
func ruleChanged(ctx context.Context, tx *sql.Tx, action string, r rules.Rule, enabled bool, by int64, at time.Time) error {
	details, _ := json.Marshal(map[string]any{"version": r.Version, "enabled": enabled, "mode": r.Mode, "action": r.Action})
	if err := appendAudit(ctx, tx, &parley.AuditEntry{At: at, ActorID: by, Action: action, TargetType: "rule", TargetID: r.ID, Details: string(details)}); err != nil {
		return err
	}
	return insertEvent(ctx, tx, screen.RulesSubject, screen.EventRuleChanged, screen.RuleChangedEvent{RuleID: r.ID, Version: r.Version, Enabled: enabled})
}

func insertRuleVersion(ctx context.Context, tx *sql.Tx, r rules.Rule, by int64, at time.Time) error {
	def, err := json.Marshal(r)
	if err != nil {
		return internal("store rule", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO rule_versions (rule_id, version, definition, created_by, created_at) VALUES (?, ?, ?, ?, ?)`,
		r.ID, r.Version, string(def), by, toMicro(at)); err != nil {
		if isUnique(err) {
			return parley.Errorf(parley.EConflict, "rule %s already has a version %d", r.ID, r.Version)
		}
		return internal("store rule", err)
	}
	return nil
}

// CreateRule stores version 1 of a new rule, disabled.
func (db *DB) CreateRule(ctx context.Context, r rules.Rule, by int64, at time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	at = micro(nowOr(at))
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM rules WHERE rule_id = ?`, r.ID).Scan(&one); err == nil {
		return &parley.Error{Code: parley.EConflict, Field: "id", Message: fmt.Sprintf("there is already a rule %q", r.ID)}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return internal("create rule", err)
	}
	if err := insertRuleVersion(ctx, tx, r, by, at); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO rules (rule_id, version, enabled, updated_at) VALUES (?, ?, 0, ?)`, r.ID, r.Version, toMicro(at)); err != nil {
		return internal("create rule", err)
	}
	if err := ruleChanged(ctx, tx, screen.AuditRuleCreated, r, false, by, at); err != nil {
		return err
	}
	return db.commit(tx, true)
}

// AddRuleVersion stores the next version of a rule and makes it current.
func (db *DB) AddRuleVersion(ctx context.Context, r rules.Rule, by int64, at time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	at = micro(nowOr(at))
	var cur int
	var enabled bool
	err = tx.QueryRowContext(ctx, `SELECT version, enabled FROM rules WHERE rule_id = ?`, r.ID).Scan(&cur, &enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "rule %s not found", r.ID)
	} else if err != nil {
		return internal("edit rule", err)
	}
	if r.Version != cur+1 {
		return parley.Errorf(parley.EConflict, "rule %s is at version %d; version %d cannot follow it", r.ID, cur, r.Version)
	}
	if err := insertRuleVersion(ctx, tx, r, by, at); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE rules SET version = ?, updated_at = ? WHERE rule_id = ?`, r.Version, toMicro(at), r.ID); err != nil {
		return internal("edit rule", err)
	}
	if err := ruleChanged(ctx, tx, screen.AuditRuleEdited, r, enabled, by, at); err != nil {
		return err
	}
	return db.commit(tx, true)
}

// SetRuleEnabled enables or disables a rule.
func (db *DB) SetRuleEnabled(ctx context.Context, id string, enabled bool, by int64, at time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	at = micro(nowOr(at))
	r, err := findRule(ctx, tx, id)
	if err != nil {
		return err
	}
	if r.Enabled == enabled {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE rules SET enabled = ?, updated_at = ? WHERE rule_id = ?`, enabled, toMicro(at), id); err != nil {
		return internal("enable rule", err)
	}
	action := screen.AuditRuleDisabled
	if enabled {
		action = screen.AuditRuleEnabled
	}
	if err := ruleChanged(ctx, tx, action, r.Rule, enabled, by, at); err != nil {
		return err
	}
	return db.commit(tx, true)
}

const storedRuleQuery = `SELECT r.enabled, r.updated_at, v.definition, v.created_by
	FROM rules r JOIN rule_versions v ON v.rule_id = r.rule_id AND v.version = r.version`

func scanStoredRule(row interface{ Scan(...any) error }) (*screen.StoredRule, error) {
	var sr screen.StoredRule
	var updated int64
	var def string
	if err := row.Scan(&sr.Enabled, &updated, &def, &sr.CreatedBy); err != nil {
		return nil, err
	}
	sr.UpdatedAt = fromMicro(updated)
	if err := json.Unmarshal([]byte(def), &sr.Rule); err != nil {
		return nil, err
	}
	return &sr, nil
}

func findRule(ctx context.Context, q queryer, id string) (*screen.StoredRule, error) {
	r, err := scanStoredRule(q.QueryRowContext(ctx, storedRuleQuery+` WHERE r.rule_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "rule %s not found", id)
	} else if err != nil {
		return nil, internal("find rule", err)
	}
	return r, nil
}

// FindRule returns a rule's current version.
func (db *DB) FindRule(ctx context.Context, id string) (*screen.StoredRule, error) {
	return findRule(ctx, db.reads, id)
}

// ListRules returns every rule's current version, by id.
func (db *DB) ListRules(ctx context.Context) ([]*screen.StoredRule, error) {
	rows, err := db.reads.QueryContext(ctx, storedRuleQuery+` ORDER BY r.rule_id`)
	if err != nil {
		return nil, internal("list rules", err)
	}
	defer rows.Close()
	out := []*screen.StoredRule{}
	for rows.Next() {
		r, err := scanStoredRule(rows)
		if err != nil {
			return nil, internal("list rules", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list rules", err)
	}
	return out, nil
}

// ListRuleVersions returns every version of a rule, newest first.
func (db *DB) ListRuleVersions(ctx context.Context, id string) ([]*screen.RuleVersion, error) {
	rows, err := db.reads.QueryContext(ctx, `SELECT definition, created_by, created_at FROM rule_versions
		WHERE rule_id = ? ORDER BY version DESC`, id)
	if err != nil {
		return nil, internal("list rule versions", err)
	}
	defer rows.Close()
	out := []*screen.RuleVersion{}
	for rows.Next() {
		var v screen.RuleVersion
		var def string
		var created int64
		if err := rows.Scan(&def, &v.CreatedBy, &created); err != nil {
			return nil, internal("list rule versions", err)
		}
		if err := json.Unmarshal([]byte(def), &v.Rule); err != nil {
			return nil, internal("list rule versions", err)
		}
		v.CreatedAt = fromMicro(created)
		out = append(out, &v)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list rule versions", err)
	}
	if len(out) == 0 {
		return nil, parley.Errorf(parley.ENotFound, "rule %s not found", id)
	}
	return out, nil
}

// ScanMessages yields stored messages of channels and groups with id >
// afterID, in id order, at most limit, with what rule conditions look at:
// how old the author's account was when posting, the chat's kind and
// member count now, and the author's strikes now.
func (db *DB) ScanMessages(ctx context.Context, afterID int64, limit int) ([]*screen.ScannedMessage, error) {
	rows, err := db.reads.QueryContext(ctx, `
		SELECT `+messageColumns+`, c.kind, c.member_count, coalesce(s.created_at, 0), coalesce(s.strikes, 0), coalesce(s.country, '')
		FROM messages m JOIN chats c ON c.id = m.chat_id LEFT JOIN users s ON s.id = m.sender_id
		WHERE m.id > ? AND c.kind IN ('channel', 'group') AND m.deleted_at IS NULL
		ORDER BY m.id LIMIT ?`, afterID, pageLimit(limit, 1000))
	if err != nil {
		return nil, internal("scan messages", err)
	}
	defer rows.Close()
	out := []*screen.ScannedMessage{}
	for rows.Next() {
		var r nullMessageRow
		var kind string
		var members, accountCreated int64
		var sm screen.ScannedMessage
		if err := rows.Scan(append(r.dest(), &kind, &members, &accountCreated, &sm.Context.Strikes, &sm.Context.Country)...); err != nil {
			return nil, internal("scan messages", err)
		}
		m, err := r.message()
		if err != nil {
			return nil, internal("scan messages", err)
		}
		sm.Message = m
		sm.Context.ChatKind, sm.Context.SubscriberCount = kind, members
		sm.Context.AccountAgeDays = m.CreatedAt.Sub(fromMicro(accountCreated)).Hours() / 24
		out = append(out, &sm)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("scan messages", err)
	}
	return out, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
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

// enforceTx applies actions inside one write transaction.
type enforceTx struct {
	ctx           context.Context
	db            *DB
	tx            *sql.Tx
	q             *txQueries // the transaction's queries, through prepared statements
	hot           *hotStmts  // the message path's statements, bound to tx when first needed
	build         enforce.StatementFunc
	evidenceUntil time.Time
	now           time.Time
	nextID        int64
	events        bool // an outbox event was written
}

// beginEnforce starts a write transaction for enforcement, whose queries go
// through the writer's prepared statements (txQueries). The caller defers
// end, which rolls the transaction back unless it was committed and then,
// the writer's connection being free again, prepares the queries the
// transaction ran unprepared.
func (db *DB) beginEnforce(ctx context.Context) (w *enforceTx, end func(), err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, nil, err
	}
	w = &enforceTx{ctx: ctx, db: db, tx: tx, q: newTxQueries(db, tx)}
	return w, func() {
		tx.Rollback()
		db.prepareMissed(context.WithoutCancel(ctx), w.q.missed)
	}, nil
}

// hotStmts returns the message path's statements bound to the
// transaction, binding them once for all the actions it applies.
func (w *enforceTx) hotStmts() *hotStmts {
	if w.hot == nil {
		w.hot = w.db.hot.bind(w.ctx, w.tx)
	}
	return w.hot
}

// ApplyAction applies a's effect and stores it with its statement, the
// audit entry and the events, in one transaction (see enforce.Store).
func (db *DB) ApplyAction(ctx context.Context, a *enforce.Action, build enforce.StatementFunc, evidenceUntil time.Time) error {
	errs, err := db.ApplyActions(ctx, []*enforce.Action{a}, build, evidenceUntil)
	if err != nil {
		return err
	}
	return errs[0]
}

// ApplyActions applies many actions in one transaction, each in a savepoint
// of its own: an action that cannot be taken (already removed, say) fails
// alone, with its error at its index, and the others commit together,
// sharing one fsync. A batch of removals found by re-screening is many
// times faster this way than one transaction per action. The error is for
// the transaction as a whole, when nothing was committed.
func (db *DB) ApplyActions(ctx context.Context, as []*enforce.Action, build enforce.StatementFunc, evidenceUntil time.Time) ([]error, error) {
	w, end, err := db.beginEnforce(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	w.build, w.evidenceUntil = build, evidenceUntil
	// The savepoints go through w.q, prepared once: a batch of removals
	// by re-screening sets one per action.
	q := w.q
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM enforcement_actions`).Scan(&w.nextID); err != nil {
		return nil, internal("apply action", err)
	}
	errs := make([]error, len(as))
	applied := 0
	for i, a := range as {
		if a.CreatedAt.IsZero() {
			a.CreatedAt = time.Now()
		}
		a.CreatedAt = micro(a.CreatedAt)
		w.now = a.CreatedAt
		if len(as) > 1 {
			if _, err := q.ExecContext(ctx, `SAVEPOINT action`); err != nil {
				return nil, internal("apply action", err)
			}
		}
		nextID, events := w.nextID, w.events
		errs[i] = w.apply(a)
		if len(as) > 1 {
			if errs[i] != nil {
				if _, err := q.ExecContext(ctx, `ROLLBACK TO action`); err != nil {
					return nil, internal("apply action", err)
				}
				w.nextID, w.events = nextID, events
			}
			if _, err := q.ExecContext(ctx, `RELEASE action`); err != nil {
				return nil, internal("apply action", err)
			}
		}
		if errs[i] == nil {
			applied++
		}
	}
	if applied == 0 {
		return errs, nil
	}
	if err := db.commit(w.tx, w.events); err != nil {
		return nil, err
	}
	return errs, nil
}

// apply applies one action and its audit entry inside the transaction.
func (w *enforceTx) apply(a *enforce.Action) error {
	var err error
	switch a.Target.Type {
	case enforce.TargetMessage:
		err = w.applyMessage(a)
	case enforce.TargetMedia:
		err = w.applyMedia(a)
	case enforce.TargetChat:
		err = w.applyChat(a)
	case enforce.TargetUser:
		err = w.applyUser(a)
	default:
		err = parley.FieldError("target.type", "unknown target type %q", a.Target.Type)
	}
	if err != nil {
		return err
	}
	details, _ := json.Marshal(map[string]any{"action_id": a.ID, "puid": a.PUID, "automated": a.Automated,
		"children": a.Children, "countries": a.Countries, "category": a.Grounds.Category, "note": a.Note})
	return appendAudit(w.ctx, w.q, &parley.AuditEntry{At: a.CreatedAt, ActorID: a.ActorID, Action: "enforcement." + string(a.Kind),
		TargetType: a.Target.Type, TargetID: a.Target.ID(), Details: string(details)})
}

// begin gives a its id, builds its statement from the target's facts and
// stores it. prior is the target's moderation before the action.
func (w *enforceTx) begin(a *enforce.Action, f enforce.Facts, prior any) error {
	a.ID = w.nextID
	w.nextID++
	a.AffectedUserID = f.AffectedUserID
	st, err := w.build(a, f)
	if err != nil {
		return err
	}
	a.Statement, a.PUID = st, st.PUID
	return w.insertAction(a, prior)
}

func (w *enforceTx) insertAction(a *enforce.Action, prior any) error {
	decision, err := json.Marshal(actionDecision{Countries: a.Countries, AlsoUnknown: a.AlsoUnknown, Label: a.Label, Until: a.Until, Grounds: a.Grounds, Note: a.Note})
	if err != nil {
		return internal("store action", err)
	}
	statement, err := json.Marshal(a.Statement)
	if err != nil {
		return internal("store action", err)
	}
	priorJSON, err := json.Marshal(prior)
	if err != nil {
		return internal("store action", err)
	}
	var parent sql.NullInt64
	if a.ParentID != 0 {
		parent = sql.NullInt64{Int64: a.ParentID, Valid: true}
	}
	if _, err := w.q.ExecContext(w.ctx, `
		INSERT INTO enforcement_actions (id, kind, target_type, target_id, affected_user_id, parent_id,
			decision, statement, puid, prior, actor_id, automated, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, string(a.Kind), a.Target.Type, a.Target.ID(), a.AffectedUserID, parent,
		string(decision), string(statement), a.PUID, string(priorJSON), a.ActorID, a.Automated, toMicro(a.CreatedAt)); err != nil {
		return internal("store action", err)
	}
	return nil
}

// strike adds delta to an account's count of standing strikes.
func (w *enforceTx) strike(userID int64, delta int) error {
	if userID == 0 {
		return nil
	}
	if _, err := w.q.ExecContext(w.ctx, `UPDATE users SET strikes = max(0, strikes + ?) WHERE id = ?`, delta, userID); err != nil {
		return internal("count strike", err)
	}
	return nil
}

// keepEvidence stores what an action takes from view.
func (w *enforceTx) keepEvidence(actionID int64, t enforce.Target, content any) error {
	b, err := json.Marshal(content)
	if err != nil {
		return internal("keep evidence", err)
	}
	if _, err := w.q.ExecContext(w.ctx, `
		INSERT INTO evidence (action_id, target_type, target_id, content, kept_until, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		actionID, t.Type, t.ID(), string(b), toMicro(w.evidenceUntil), toMicro(w.now)); err != nil {
		return internal("keep evidence", err)
	}
	return nil
}

// messageFacts are the facts of a message for its statement.
func messageFacts(m *parley.Message, chat *parley.Chat) enforce.Facts {
	f := enforce.Facts{AffectedUserID: m.SenderID, ContentPosted: m.CreatedAt, Chat: chat.Kind}
	if m.Text != "" || m.MediaID == "" {
		f.Items = append(f.Items, sor.ItemText)
	}
	if m.MediaID != "" {
		f.Items = append(f.Items, sor.ItemImage)
	}
	return f
}

// applyMessage applies a message action (or a child of a RemoveMedia).
func (w *enforceTx) applyMessage(a *enforce.Action) error {
	m, err := findMessage(w.ctx, w.q, a.Target.ChatID, a.Target.Seq)
	if err != nil {
		return err
	}
	chat, err := findChat(w.ctx, w.q, m.ChatID)
	if err != nil {
		return err
	}
	if chat.Kind == parley.ChatSecret {
		return parley.Errorf(parley.EConflict, "a secret chat is end-to-end encrypted: there is no content the platform could act on")
	}
	if m.Deleted() {
		return parley.Errorf(parley.EConflict, "message %d of chat %d was deleted by its author", m.Seq, m.ChatID)
	}
	prior := m.Moderation
	mod := prior.Clone()
	if mod == nil {
		mod = &parley.Moderation{}
	}
	if err := w.begin(a, messageFacts(m, chat), prior); err != nil {
		return err
	}
	reason := a.Grounds.ViewerReason()
	switch a.Kind {
	case enforce.RemoveMessage:
		if mod.Removed != nil {
			return parley.Errorf(parley.EConflict, "message %d of chat %d was already removed (action %d)", m.Seq, m.ChatID, mod.Removed.ActionID)
		}
		mod.Removed = &parley.Restriction{ActionID: a.ID, Reason: reason}
		if err := w.keepEvidence(a.ID, a.Target, m); err != nil {
			return err
		}
	case enforce.WithholdMessage:
		mod.Withheld = append(mod.Withheld, parley.Withholding{ActionID: a.ID, Countries: a.Countries, AlsoUnknown: a.AlsoUnknown, Reason: reason})
	case enforce.LabelMessage:
		if mod.Label != nil {
			return parley.Errorf(parley.EConflict, "message %d of chat %d is already labelled (action %d); restore that first", m.Seq, m.ChatID, mod.Label.ActionID)
		}
		mod.Label = &parley.Restriction{ActionID: a.ID, Reason: a.Label}
	case enforce.AgeRestrictMessage:
		if mod.AgeRestricted != nil {
			return parley.Errorf(parley.EConflict, "message %d of chat %d is already age-restricted (action %d)", m.Seq, m.ChatID, mod.AgeRestricted.ActionID)
		}
		mod.AgeRestricted = &parley.Restriction{ActionID: a.ID, Reason: reason}
	default:
		return parley.Errorf(parley.EInvalid, "%s does not act on a message", a.Kind)
	}
	if a.Kind.Strike() {
		if err := w.strike(m.SenderID, 1); err != nil {
			return err
		}
	}
	// A post held for review is settled by its removal or label: the hold
	// goes, and so does its open case, decided by this action.
	if mod.Held != nil && (a.Kind == enforce.RemoveMessage || a.Kind == enforce.LabelMessage) {
		decision := review.DecisionRemoved
		if a.ActorID == 0 {
			decision = review.DecisionAutomated
		}
		if err := closeCase(w.ctx, w.q, mod.Held.ActionID, decision, a.ActorID, a.ID, w.now); err != nil && parley.ErrorCode(err) != parley.EConflict {
			return err
		}
		mod.Held = nil
	}
	return w.setMessageModeration(m, mod)
}

// setMessageModeration stores a message's new moderation and appends the
// message.moderated update that tells clients, whose snapshot has no
// content when the message is removed.
func (w *enforceTx) setMessageModeration(m *parley.Message, mod *parley.Moderation) error {
	enc, err := encodeModeration(mod)
	if err != nil {
		return internal("moderate message", err)
	}
	if _, err := w.q.ExecContext(w.ctx, `UPDATE messages SET status = ?, moderation = ? WHERE id = ?`,
		mod.Status(), enc, m.ID); err != nil {
		return internal("moderate message", err)
	}
	snap := *m
	if mod.IsZero() {
		snap.Moderation = nil
	} else {
		snap.Moderation = mod
	}
	if mod.Removed != nil {
		snap.Text, snap.MediaID, snap.Forward = "", "", nil
	}
	pts, err := nextPts(w.ctx, w.q, m.ChatID)
	if err != nil {
		return err
	}
	u := &parley.Update{ChatID: m.ChatID, Pts: pts, Kind: parley.UpdateMessageModerated, Message: snap, At: w.now}
	if err := appendUpdate(w.ctx, w.hotStmts(), u); err != nil {
		return err
	}
	w.events = true
	return nil
}

// applyMedia applies RemoveMedia (and, as its children, the removal of every
// message that carries the image) or BlockUpload.
func (w *enforceTx) applyMedia(a *enforce.Action) error {
	if a.Kind == enforce.BlockUpload && a.Media != nil {
		m := *a.Media
		m.Status = parley.MediaBlocked
		if err := insertMedia(w.ctx, w.tx, &m, nowOr(m.CreatedAt)); err != nil {
			return err
		}
	}
	m, err := findMedia(w.ctx, w.q, a.Target.MediaID)
	if err != nil {
		return err
	}
	prior := struct {
		Status     string             `json:"status"`
		Moderation *parley.Moderation `json:"moderation,omitempty"`
	}{m.Status, m.Moderation}
	mod := m.Moderation.Clone()
	if mod == nil {
		mod = &parley.Moderation{}
	}
	if mod.Removed != nil {
		return parley.Errorf(parley.EConflict, "media %s was already removed (action %d)", m.ID, mod.Removed.ActionID)
	}
	f := enforce.Facts{AffectedUserID: m.UploaderID, ContentPosted: m.CreatedAt, Items: []sor.ItemKind{sor.ItemImage}}
	if err := w.begin(a, f, prior); err != nil {
		return err
	}
	mod.Removed = &parley.Restriction{ActionID: a.ID, Reason: a.Grounds.ViewerReason()}
	status := parley.MediaRemoved
	if a.Kind == enforce.BlockUpload {
		status = parley.MediaBlocked
	}
	enc, err := encodeModeration(mod)
	if err != nil {
		return internal("moderate media", err)
	}
	if _, err := w.q.ExecContext(w.ctx, `UPDATE media SET status = ?, moderation = ? WHERE id = ?`, status, enc, m.ID); err != nil {
		return internal("moderate media", err)
	}
	if err := w.keepEvidence(a.ID, a.Target, m); err != nil {
		return err
	}
	if err := w.strike(m.UploaderID, 1); err != nil {
		return err
	}
	if a.Kind != enforce.RemoveMedia {
		return nil
	}
	// Every copy: each message that carries the image, in any chat.
	rows, err := w.q.QueryContext(w.ctx, `
		SELECT m.chat_id, m.seq FROM messages m JOIN chats c ON c.id = m.chat_id
		WHERE m.media_id = ? AND m.media_id != '' AND m.deleted_at IS NULL AND m.status != 'removed' AND c.kind != 'secret'
		ORDER BY m.id`, m.ID) // media_id != '' lets SQLite use the partial index messages_media
	if err != nil {
		return internal("find copies", err)
	}
	var copies []enforce.Target
	for rows.Next() {
		t := enforce.Target{Type: enforce.TargetMessage}
		if err := rows.Scan(&t.ChatID, &t.Seq); err != nil {
			rows.Close()
			return internal("find copies", err)
		}
		copies = append(copies, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return internal("find copies", err)
	}
	for _, t := range copies {
		child := &enforce.Action{Kind: enforce.RemoveMessage, Target: t, Grounds: a.Grounds, Note: a.Note,
			ParentID: a.ID, ActorID: a.ActorID, Automated: a.Automated, CreatedAt: a.CreatedAt}
		if err := w.applyMessage(child); err != nil {
			return fmt.Errorf("removing the copy in chat %d, message %d: %w", t.ChatID, t.Seq, err)
		}
		a.Children++
	}
	return nil
}

// applyChat applies BanChat or WithholdChat.
func (w *enforceTx) applyChat(a *enforce.Action) error {
	c, err := findChat(w.ctx, w.q, a.Target.ChatID)
	if err != nil {
		return err
	}
	var item sor.ItemKind
	switch c.Kind {
	case parley.ChatChannel:
		item = sor.ItemChannel
	case parley.ChatGroup:
		item = sor.ItemGroup
	default:
		return parley.Errorf(parley.EConflict, "only channels and groups can be banned or withheld; act on the messages or the account instead")
	}
	prior := c.Moderation
	mod := prior.Clone()
	if mod == nil {
		mod = &parley.Moderation{}
	}
	f := enforce.Facts{AffectedUserID: c.OwnerID, ContentPosted: c.CreatedAt, Items: []sor.ItemKind{item}, Chat: c.Kind}
	if err := w.begin(a, f, prior); err != nil {
		return err
	}
	reason := a.Grounds.ViewerReason()
	switch a.Kind {
	case enforce.BanChat:
		if mod.Removed != nil {
			return parley.Errorf(parley.EConflict, "chat %d was already banned (action %d)", c.ID, mod.Removed.ActionID)
		}
		mod.Removed = &parley.Restriction{ActionID: a.ID, Reason: reason}
		if err := w.strike(c.OwnerID, 1); err != nil {
			return err
		}
	case enforce.WithholdChat:
		mod.Withheld = append(mod.Withheld, parley.Withholding{ActionID: a.ID, Countries: a.Countries, AlsoUnknown: a.AlsoUnknown, Reason: reason})
	default:
		return parley.Errorf(parley.EInvalid, "%s does not act on a chat", a.Kind)
	}
	return w.setChatModeration(c.ID, mod)
}

// setChatModeration stores a chat's new moderation and tells its clients.
func (w *enforceTx) setChatModeration(chatID int64, mod *parley.Moderation) error {
	enc, err := encodeModeration(mod)
	if err != nil {
		return internal("moderate chat", err)
	}
	status := ""
	if mod.Removed != nil {
		status = parley.ChatBanned
	}
	if _, err := w.q.ExecContext(w.ctx, `UPDATE chats SET status = ?, moderation = ? WHERE id = ?`, status, enc, chatID); err != nil {
		return internal("moderate chat", err)
	}
	ev := parley.ChatModeratedEvent{ChatID: chatID}
	if !mod.IsZero() {
		ev.Moderation = mod
	}
	if err := insertEvent(w.ctx, w.q, parley.ChatSubject(chatID), parley.EventChatModerated, ev); err != nil {
		return err
	}
	w.events = true
	return nil
}

// applyUser applies SuspendAccount or TerminateAccount.
func (w *enforceTx) applyUser(a *enforce.Action) error {
	u, err := scanUser(w.q.QueryRowContext(w.ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, a.Target.UserID))
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "user %d not found", a.Target.UserID)
	} else if err != nil {
		return internal("find user", err)
	}
	if u.Status == parley.AccountTerminated {
		return parley.Errorf(parley.EConflict, "account %d is already terminated", u.ID)
	}
	if u.Role != parley.RoleMember {
		return parley.Errorf(parley.EConflict, "staff accounts are not suspended by enforcement; an admin changes their role first")
	}
	prior := struct {
		Status         string             `json:"status"`
		SuspendedUntil *time.Time         `json:"suspended_until,omitempty"`
		Moderation     *parley.Moderation `json:"moderation,omitempty"`
	}{u.Status, u.SuspendedUntil, u.Moderation}
	f := enforce.Facts{AffectedUserID: u.ID, ContentPosted: u.CreatedAt, Items: []sor.ItemKind{sor.ItemAccount}}
	if err := w.begin(a, f, prior); err != nil {
		return err
	}
	mod := u.Moderation.Clone()
	if mod == nil {
		mod = &parley.Moderation{}
	}
	mod.Removed = &parley.Restriction{ActionID: a.ID, Reason: a.Grounds.ViewerReason()}
	status, until := parley.AccountSuspended, nullMicro(&a.Until)
	if a.Kind == enforce.TerminateAccount {
		status, until = parley.AccountTerminated, sql.NullInt64{}
	}
	return w.setAccount(u.ID, status, until, mod)
}

// setAccount stores an account's standing, signs a restricted account out
// everywhere and tells the processes serving it.
func (w *enforceTx) setAccount(userID int64, status string, until sql.NullInt64, mod *parley.Moderation) error {
	enc, err := encodeModeration(mod)
	if err != nil {
		return internal("moderate account", err)
	}
	if _, err := w.q.ExecContext(w.ctx, `UPDATE users SET status = ?, suspended_until = ?, moderation = ? WHERE id = ?`,
		status, until, enc, userID); err != nil {
		return internal("moderate account", err)
	}
	if status != parley.AccountActive {
		if _, err := w.q.ExecContext(w.ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
			toMicro(w.now), userID); err != nil {
			return internal("moderate account", err)
		}
	}
	if err := insertEvent(w.ctx, w.q, parley.UserSubject(userID), parley.EventAccountRestricted,
		parley.AccountEvent{UserID: userID, Status: status}); err != nil {
		return err
	}
	w.events = true
	return nil
}

// RestoreAction takes back exactly action id's effect (see enforce.Store).
func (db *DB) RestoreAction(ctx context.Context, id, byID int64, reason string, at time.Time) (*enforce.Action, error) {
	w, end, err := db.beginEnforce(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	tx := w.tx
	a, err := findAction(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !a.Standing() {
		return nil, parley.Errorf(parley.EConflict, "action %d was already restored", id)
	}
	if a.ParentID != 0 {
		return nil, parley.Errorf(parley.EConflict, "action %d is part of action %d; restore that one", id, a.ParentID)
	}
	at = micro(nowOr(at))
	w.now = at
	if err := w.restore(a); err != nil {
		return nil, err
	}
	if a.Kind == enforce.RemoveMedia {
		children, err := listActions(ctx, tx, `WHERE parent_id = ? AND reversed_at IS NULL ORDER BY id`, a.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range children {
			if err := w.restore(c); err != nil {
				return nil, err
			}
			if err := markReversed(ctx, tx, c.ID, byID, reason, at); err != nil {
				return nil, err
			}
		}
	}
	if err := markReversed(ctx, tx, a.ID, byID, reason, at); err != nil {
		return nil, err
	}
	details, _ := json.Marshal(map[string]any{"action_id": a.ID, "kind": a.Kind, "reason": reason})
	if err := appendAudit(ctx, tx, &parley.AuditEntry{At: at, ActorID: byID, Action: "enforcement.restored",
		TargetType: a.Target.Type, TargetID: a.Target.ID(), Details: string(details)}); err != nil {
		return nil, err
	}
	if err := db.commit(tx, w.events); err != nil {
		return nil, err
	}
	a.ReversedAt, a.ReversedBy, a.ReversalReason = &at, byID, reason
	return a, nil
}

func markReversed(ctx context.Context, tx *sql.Tx, id, byID int64, reason string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enforcement_actions SET reversed_at = ?, reversed_by = ?, reversal_reason = ? WHERE id = ?`,
		toMicro(at), byID, reason, id); err != nil {
		return internal("restore action", err)
	}
	return nil
}

// takeBack removes from mod the parts that action id made and reports
// whether there were any.
func takeBack(mod *parley.Moderation, id int64) bool {
	found := false
	for _, p := range []**parley.Restriction{&mod.Removed, &mod.Label, &mod.AgeRestricted, &mod.Held} {
		if *p != nil && (*p).ActionID == id {
			*p, found = nil, true
		}
	}
	kept := mod.Withheld[:0]
	for _, wh := range mod.Withheld {
		if wh.ActionID == id {
			found = true
			continue
		}
		kept = append(kept, wh)
	}
	mod.Withheld = kept
	if len(mod.Withheld) == 0 {
		mod.Withheld = nil
	}
	return found
}

// restore takes back one action's effect on its target.
func (w *enforceTx) restore(a *enforce.Action) error {
	switch a.Target.Type {
	case enforce.TargetMessage:
		m, err := findMessage(w.ctx, w.q, a.Target.ChatID, a.Target.Seq)
		if err != nil {
			return err
		}
		mod := m.Moderation.Clone()
		if mod == nil || !takeBack(mod, a.ID) {
			return nil // nothing of it is left (the author deleted the message)
		}
		if a.Kind.Strike() {
			if err := w.strike(m.SenderID, -1); err != nil {
				return err
			}
		}
		if m.Deleted() {
			enc, err := encodeModeration(mod)
			if err != nil {
				return internal("restore message", err)
			}
			if _, err := w.q.ExecContext(w.ctx, `UPDATE messages SET status = ?, moderation = ? WHERE id = ?`, mod.Status(), enc, m.ID); err != nil {
				return internal("restore message", err)
			}
			return nil
		}
		return w.setMessageModeration(m, mod)
	case enforce.TargetMedia:
		m, err := findMedia(w.ctx, w.q, a.Target.MediaID)
		if err != nil {
			return err
		}
		mod := m.Moderation.Clone()
		if mod == nil || !takeBack(mod, a.ID) {
			return nil
		}
		enc, err := encodeModeration(mod)
		if err != nil {
			return internal("restore media", err)
		}
		status := ""
		if mod.Removed != nil {
			status = m.Status
		}
		if _, err := w.q.ExecContext(w.ctx, `UPDATE media SET status = ?, moderation = ? WHERE id = ?`, status, enc, m.ID); err != nil {
			return internal("restore media", err)
		}
		return w.strike(m.UploaderID, -1)
	case enforce.TargetChat:
		c, err := findChat(w.ctx, w.q, a.Target.ChatID)
		if err != nil {
			return err
		}
		mod := c.Moderation.Clone()
		if mod == nil || !takeBack(mod, a.ID) {
			return nil
		}
		if a.Kind.Strike() {
			if err := w.strike(c.OwnerID, -1); err != nil {
				return err
			}
		}
		return w.setChatModeration(c.ID, mod)
	case enforce.TargetUser:
		u, err := scanUser(w.q.QueryRowContext(w.ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, a.Target.UserID))
		if err != nil {
			return internal("restore account", err)
		}
		mod := u.Moderation.Clone()
		if mod == nil || !takeBack(mod, a.ID) {
			return nil
		}
		// The account is usable again; the sessions signed out by the
		// action stay signed out, and the holder signs in anew.
		return w.setAccount(u.ID, parley.AccountActive, sql.NullInt64{}, mod)
	}
	return nil
}

const actionColumns = `id, kind, target_type, target_id, affected_user_id, parent_id, decision, statement, puid,
	actor_id, automated, created_at, reversed_at, reversed_by, reversal_reason,
	(SELECT count(*) FROM enforcement_actions c WHERE c.parent_id = a.id)`

func scanAction(row interface{ Scan(...any) error }) (*enforce.Action, error) {
	var a enforce.Action
	var kind, ttype, tid, decision, statement string
	var parent, reversed, reversedBy sql.NullInt64
	var reason sql.NullString
	var created int64
	if err := row.Scan(&a.ID, &kind, &ttype, &tid, &a.AffectedUserID, &parent, &decision, &statement, &a.PUID,
		&a.ActorID, &a.Automated, &created, &reversed, &reversedBy, &reason, &a.Children); err != nil {
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

// PlaceLegalHold stores h, with an audit entry.
func (db *DB) PlaceLegalHold(ctx context.Context, h *enforce.LegalHold) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	h.CreatedAt = micro(nowOr(h.CreatedAt))
	if err := tx.QueryRowContext(ctx, `
		INSERT INTO legal_holds (target_type, target_id, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?)
		RETURNING id`, h.Target.Type, h.Target.ID(), h.Reason, h.CreatedBy, toMicro(h.CreatedAt)).Scan(&h.ID); err != nil {
		return internal("place legal hold", err)
	}
	details, _ := json.Marshal(map[string]any{"hold_id": h.ID, "reason": h.Reason})
	if err := appendAudit(ctx, tx, &parley.AuditEntry{At: h.CreatedAt, ActorID: h.CreatedBy, Action: "legal_hold.placed",
		TargetType: h.Target.Type, TargetID: h.Target.ID(), Details: string(details)}); err != nil {
		return err
	}
	return db.commit(tx, false)
}

// ReleaseLegalHold ends hold id, with an audit entry.
func (db *DB) ReleaseLegalHold(ctx context.Context, id, byID int64, at time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var ttype, tid string
	var released sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT target_type, target_id, released_at FROM legal_holds WHERE id = ?`, id).Scan(&ttype, &tid, &released)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "legal hold %d not found", id)
	} else if err != nil {
		return internal("release legal hold", err)
	}
	if released.Valid {
		return parley.Errorf(parley.EConflict, "legal hold %d was already released", id)
	}
	at = micro(nowOr(at))
	if _, err := tx.ExecContext(ctx, `UPDATE legal_holds SET released_at = ?, released_by = ? WHERE id = ?`, toMicro(at), byID, id); err != nil {
		return internal("release legal hold", err)
	}
	details, _ := json.Marshal(map[string]any{"hold_id": id})
	if err := appendAudit(ctx, tx, &parley.AuditEntry{At: at, ActorID: byID, Action: "legal_hold.released",
		TargetType: ttype, TargetID: tid, Details: string(details)}); err != nil {
		return err
	}
	return db.commit(tx, false)
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

// purgePage is how much evidence one transaction of PurgeEvidence looks at.
const purgePage = 1000

// PurgeEvidence deletes evidence past its retention that no hold covers, a
// page at a time, each page its own transaction, so that a large purge does
// not hold the writer for long.
func (db *DB) PurgeEvidence(ctx context.Context, now time.Time) ([]*enforce.Evidence, error) {
	var purged []*enforce.Evidence
	var after int64
	for {
		page, last, err := db.purgeEvidencePage(ctx, now, after)
		if err != nil {
			return purged, err
		}
		purged = append(purged, page...)
		if last == 0 {
			return purged, nil
		}
		after = last
	}
}

// purgeEvidencePage purges the due evidence after id after and returns it,
// with the id of the last row looked at (0 when there was none).
func (db *DB) purgeEvidencePage(ctx context.Context, now time.Time, after int64) ([]*enforce.Evidence, int64, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	due, err := listEvidence(ctx, tx, `WHERE kept_until < ? AND id > ? ORDER BY id LIMIT ?`, toMicro(now), after, purgePage)
	if err != nil || len(due) == 0 {
		return nil, 0, err
	}
	holds, err := listHolds(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	held := map[string]bool{}
	for _, h := range holds {
		held[h.Target.Type+" "+h.Target.ID()] = true
	}
	var purged []*enforce.Evidence
	for _, e := range due {
		covered, err := holdCovers(ctx, tx, held, e.Target)
		if err != nil {
			return nil, 0, err
		}
		if covered {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM evidence WHERE id = ?`, e.ID); err != nil {
			return nil, 0, internal("purge evidence", err)
		}
		// A message's content goes with its evidence: the message stays
		// removed, now without anything left to restore.
		if e.Target.Type == enforce.TargetMessage {
			if _, err := tx.ExecContext(ctx, `
				UPDATE messages SET text = '', media_id = '', forward_chat_id = NULL, forward_seq = NULL,
					forward_sender_id = NULL, forward_chat_title = NULL
				WHERE chat_id = ? AND seq = ? AND status = 'removed'`, e.Target.ChatID, e.Target.Seq); err != nil {
				return nil, 0, internal("purge evidence", err)
			}
		}
		purged = append(purged, e)
	}
	if err := db.commit(tx, false); err != nil {
		return nil, 0, err
	}
	return purged, due[len(due)-1].ID, nil
}

// holdCovers reports whether a hold in held ("type id") covers target t:
// a hold on the item itself, on the chat of a message, or on the account
// that posted or uploaded it.
func holdCovers(ctx context.Context, q queryer, held map[string]bool, t enforce.Target) (bool, error) {
	if held[t.Type+" "+t.ID()] {
		return true, nil
	}
	var owner int64
	var err error
	switch t.Type {
	case enforce.TargetMessage:
		if held[enforce.TargetChat+" "+strconv.FormatInt(t.ChatID, 10)] {
			return true, nil
		}
		err = q.QueryRowContext(ctx, `SELECT sender_id FROM messages WHERE chat_id = ? AND seq = ?`, t.ChatID, t.Seq).Scan(&owner)
	case enforce.TargetMedia:
		err = q.QueryRowContext(ctx, `SELECT uploader_id FROM media WHERE id = ?`, t.MediaID).Scan(&owner)
	default:
		return false, nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, internal("check legal holds", err)
	}
	return held[enforce.TargetUser+" "+strconv.FormatInt(owner, 10)], nil
}

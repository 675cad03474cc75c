package enforce

import (
	"context"
	"time"
)

// Store is what the enforcement service needs from storage. Each write is
// one transaction: the effect on the target, the action with its statement,
// the audit entry and the outbox events exist together or not at all.
type Store interface {
	// ApplyAction applies a's effect to its target and stores a, with the
	// statement that statement returns for it, an audit entry (by
	// a.ActorID) and the events that tell clients. It sets a.ID, a.PUID,
	// a.Statement, a.AffectedUserID and a.CreatedAt (when zero). A
	// RemoveMedia also removes every message that carries the media item,
	// each by a child action with a statement of its own, and sets
	// a.Children. Removals keep what they hide as evidence until
	// evidenceUntil. ENotFound if the target does not exist; EConflict if it
	// cannot take the action (already removed, a secret chat's message, a
	// deleted message).
	ApplyAction(ctx context.Context, a *Action, statement StatementFunc, evidenceUntil time.Time) error
	// ApplyActions applies many actions as ApplyAction does, in one
	// transaction: each fails alone (its error at its index) and the others
	// commit. The error is for the whole, when nothing was committed.
	ApplyActions(ctx context.Context, as []*Action, statement StatementFunc, evidenceUntil time.Time) ([]error, error)
	// RestoreAction takes back exactly the effect of action id (and of its
	// children), leaving the effects of other actions on the same target,
	// marks it reversed by byID with reason at time at, and appends an audit
	// entry and the events. ENotFound if there is no such action; EConflict
	// if it was reversed already or is a child (restore its parent).
	RestoreAction(ctx context.Context, id, byID int64, reason string, at time.Time) (*Action, error)
	// FindAction returns ENotFound if there is no such action.
	FindAction(ctx context.Context, id int64) (*Action, error)
	// ListActions returns actions matching f, newest first, at most f.Limit
	// (at most 1000).
	ListActions(ctx context.Context, f Filter) ([]*Action, error)
	// ListStatementActions returns the actions taken in r's time range, in id
	// order, after r.AfterID, at most r.Limit (at most 1000), for the
	// Transparency Database export.
	ListStatementActions(ctx context.Context, r StatementRange) ([]*Action, error)

	// PlaceLegalHold stores h and sets its ID, with an audit entry.
	PlaceLegalHold(ctx context.Context, h *LegalHold) error
	// ReleaseLegalHold ends hold id; ENotFound if there is none, EConflict if
	// it was released already.
	ReleaseLegalHold(ctx context.Context, id, byID int64, at time.Time) error
	// ListLegalHolds returns the holds in force, oldest first.
	ListLegalHolds(ctx context.Context) ([]*LegalHold, error)
	// ListEvidence returns the evidence kept about a target.
	ListEvidence(ctx context.Context, t Target) ([]*Evidence, error)
	// PurgeEvidence deletes all evidence kept until before now that no hold
	// in force covers, and returns it. The files of purged media are the
	// caller's to delete. It may commit in several steps; what it returns
	// with an error was purged.
	PurgeEvidence(ctx context.Context, now time.Time) ([]*Evidence, error)
}

package enforce

import (
	"context"
	"time"

	"parley"
)

// Store is what the enforcement service needs from storage: a write
// transaction that the service runs its decisions in, and reads.
//
// The rule between the two (docs/architecture.md, "Rules in the domain,
// storage in the store"): the service decides everything (what an action
// may act on, what it changes, what a restore takes back, who gets a
// strike, what the audit log and clients are told); the store reads and
// writes what it is told, atomically, and enforces only what storage must:
// that a row exists, that a unique value is unique, and the limits the
// service passes in. A second adapter is storage code only, and the
// conformance suite (internal/store/storetest) runs the real service over
// each adapter, so that all of them behave alike.
type Store interface {
	// EnforceTx runs fn in one write transaction and commits it when fn
	// returns nil. When fn returns an error, nothing fn wrote is kept and
	// that error is returned. tx is valid only until fn returns. (The
	// method is named after the domain because one adapter type
	// implements every store.)
	EnforceTx(ctx context.Context, fn func(tx Tx) error) error

	// FindAction returns ENotFound if there is no such action.
	FindAction(ctx context.Context, id int64) (*Action, error)
	// ListActions returns actions matching f, newest first, at most f.Limit
	// (at most 1000).
	ListActions(ctx context.Context, f Filter) ([]*Action, error)
	// ListStatementActions returns the actions taken in r's time range, in id
	// order, after r.AfterID, at most r.Limit (at most 1000), for the
	// Transparency Database export.
	ListStatementActions(ctx context.Context, r StatementRange) ([]*Action, error)
	// ListLegalHolds returns the holds in force, oldest first.
	ListLegalHolds(ctx context.Context) ([]*LegalHold, error)
	// ListEvidence returns the evidence kept about a target, oldest first.
	ListEvidence(ctx context.Context, t Target) ([]*Evidence, error)
}

// Tx is one write transaction of enforcement, bound to the context
// EnforceTx was given.
//
// Its reads return the current state of what an action touches, read for
// update: no other transaction changes what was read until this one ends.
// SQLite has one writer, so its transactions run one at a time anyway; a
// PostgreSQL adapter locks the rows it returns (SELECT … FOR UPDATE). A read
// of something that does not exist returns ENotFound.
//
// Its writes do exactly what they say: they decide nothing, and check
// nothing but what storage must (that what they update exists).
type Tx interface {
	// Message returns a message, deleted or not.
	Message(chatID, seq int64) (*parley.Message, error)
	// MessagesCarrying returns every message that carries media item id,
	// in any chat, deleted and moderated ones included, in id order.
	MessagesCarrying(mediaID string) ([]*parley.Message, error)
	// Chat returns a chat.
	Chat(id int64) (*parley.Chat, error)
	// Media returns a media item.
	Media(id string) (*parley.Media, error)
	// Account returns an account.
	Account(id int64) (*parley.User, error)
	// Action returns an action.
	Action(id int64) (*Action, error)
	// Children returns the actions whose parent is id, in id order.
	Children(id int64) ([]*Action, error)
	// LegalHold returns a hold, in force or released.
	LegalHold(id int64) (*LegalHold, error)
	// LegalHolds returns the holds in force, oldest first.
	LegalHolds() ([]*LegalHold, error)
	// DueEvidence returns the evidence kept until before t, with ids after
	// afterID, in id order, at most limit.
	DueEvidence(t time.Time, afterID int64, limit int) ([]*Evidence, error)

	// NextActionID reserves the id of the next action (a statement's puid
	// is made from it before the action is stored): greater than every
	// action's, and than every id reserved before in this transaction and
	// not undone since.
	NextActionID() (int64, error)
	// InsertAction stores a, whose ID was reserved, with prior: the state
	// of its target before it, kept for the record.
	InsertAction(a *Action, prior any) error
	// MarkReversed records that action id was reversed by byID at at.
	MarkReversed(id, byID int64, reason string, at time.Time) error
	// InsertMedia stores a media item as given (status included), unless
	// one with its id is stored already.
	InsertMedia(m *parley.Media) error
	// SetMessageModeration stores a message's (by its ID) status and
	// moderation (nil or empty: none).
	SetMessageModeration(messageID int64, status string, mod *parley.Moderation) error
	// MessageModerated appends a message.moderated update with snapshot
	// to the message's chat, at the chat's next pts (which the store
	// allocates), and writes it to the outbox for live delivery.
	MessageModerated(snapshot *parley.Message, at time.Time) error
	// SetMediaModeration stores a media item's status and moderation.
	SetMediaModeration(id, status string, mod *parley.Moderation) error
	// SetChatModeration stores a chat's status and moderation.
	SetChatModeration(id int64, status string, mod *parley.Moderation) error
	// SetAccountStanding stores an account's status, the end of its
	// suspension (nil for none) and its moderation.
	SetAccountStanding(userID int64, status string, until *time.Time, mod *parley.Moderation) error
	// RevokeSessions signs the account out everywhere at at.
	RevokeSessions(userID int64, at time.Time) error
	// AddStrikes adds n (negative to take back) to the account's count of
	// standing strikes, which never goes below zero.
	AddStrikes(userID int64, n int) error
	// Publish writes an event to the outbox, for the relay to publish
	// after the commit.
	Publish(subject, kind string, payload any) error
	// KeepEvidence stores e and sets its ID.
	KeepEvidence(e *Evidence) error
	// DeleteEvidence deletes evidence id.
	DeleteEvidence(id int64) error
	// ClearMessageContent deletes a message's content (text, media,
	// forward origin), leaving the row and its moderation.
	ClearMessageContent(messageID int64) error
	// CloseCase records decision on review case id, by byID with action
	// actionID (0 for none), and returns the case's kind; EConflict if the
	// case is not open.
	CloseCase(id int64, decision string, byID, actionID int64, at time.Time) (kind string, err error)
	// InsertLegalHold stores h and sets its ID.
	InsertLegalHold(h *LegalHold) error
	// ReleaseLegalHold records that hold id was released by byID at at.
	ReleaseLegalHold(id, byID int64, at time.Time) error
	// AppendAudit appends e to the hash-chained audit log.
	AppendAudit(e *parley.AuditEntry) error

	// Try runs fn in a savepoint: when fn returns an error, everything fn
	// wrote (and every id it reserved) is undone, the transaction goes on,
	// and the error is returned. A batch uses it to let each action fail
	// alone. If the savepoint itself fails, the whole transaction fails.
	Try(fn func() error) error
}

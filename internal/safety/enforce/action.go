// Package enforce is the enforcement service: the one way anything in
// Parley restricts content or accounts. The inline screen, the re-screening
// workers, moderators and (later) the authority desk all call it. Each action
// is applied in one transaction together with its statement of reasons (the
// contents Article 17 DSA requires, in the Transparency Database's form), an
// entry in the hash-chained audit log and an event that makes connected
// clients drop removed content live. Every action can be restored, which
// takes back exactly that action's effect and nothing else.
package enforce

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"parley"
	"parley/internal/sor"
)

// Kind is what an action does.
type Kind string

// The kinds of action.
const (
	// RemoveMessage removes a message for everyone; its content is kept as
	// evidence.
	RemoveMessage Kind = "remove_message"
	// WithholdMessage hides a message only for viewers in some countries.
	WithholdMessage Kind = "withhold_message"
	// LabelMessage shows a label beside a message.
	LabelMessage Kind = "label_message"
	// AgeRestrictMessage shows a message only to viewers who confirm their age.
	AgeRestrictMessage Kind = "age_restrict_message"
	// RemoveMedia removes an image everywhere: it is no longer served
	// (HTTP 451) and every message that carries it is removed, each by an
	// action of its own (a child of this one) with its own statement.
	RemoveMedia Kind = "remove_media"
	// BlockUpload records an upload stopped by a hash bank: the image is
	// never shown to anyone and is kept as evidence.
	BlockUpload Kind = "block_upload"
	// BanChat bans a channel or group: its posts are hidden, nothing more
	// can be posted, and its handle stays reserved.
	BanChat Kind = "ban_chat"
	// WithholdChat hides a channel or group only for viewers in some
	// countries.
	WithholdChat Kind = "withhold_chat"
	// SuspendAccount stops an account from signing in and acting until a
	// given time; its sessions are signed out.
	SuspendAccount Kind = "suspend_account"
	// TerminateAccount stops an account for good; it can still be restored
	// if the decision was wrong.
	TerminateAccount Kind = "terminate_account"
)

// Kinds lists every kind, in the order the moderator pages offer them.
var Kinds = []Kind{RemoveMessage, WithholdMessage, LabelMessage, AgeRestrictMessage, RemoveMedia, BlockUpload,
	BanChat, WithholdChat, SuspendAccount, TerminateAccount}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// TargetType is what a kind acts on.
func (k Kind) TargetType() string {
	switch k {
	case RemoveMessage, WithholdMessage, LabelMessage, AgeRestrictMessage:
		return TargetMessage
	case RemoveMedia, BlockUpload:
		return TargetMedia
	case BanChat, WithholdChat:
		return TargetChat
	case SuspendAccount, TerminateAccount:
		return TargetUser
	}
	return ""
}

// Strike reports whether an action of kind k counts against the account it
// affects (parley.User.Strikes) while it stands: removals, blocks and bans
// do; labels, age restrictions and withholdings in one country do not.
//
// One decision counts at most one strike against each account it affects.
// A RemoveMedia strikes the uploader once, for the image; each removed
// copy strikes its author once, unless the author was struck by the same
// decision already (the uploader's own copy, or a second copy by the same
// account). Each action records whether it counted a strike (Action.Strike),
// and its restore takes back exactly that.
func (k Kind) Strike() bool {
	switch k {
	case RemoveMessage, RemoveMedia, BlockUpload, BanChat:
		return true
	}
	return false
}

// Target types.
const (
	TargetMessage = "message"
	TargetMedia   = "media"
	TargetChat    = "chat"
	TargetUser    = "user"
)

// Target names the item an action is about. Which fields matter depends on
// Type: ChatID and Seq for a message, MediaID for a media item, ChatID for
// a chat, UserID for an account.
type Target struct {
	Type    string `json:"type"`
	ChatID  int64  `json:"chat_id,omitempty"`
	Seq     int64  `json:"seq,omitempty"`
	MediaID string `json:"media_id,omitempty"`
	UserID  int64  `json:"user_id,omitempty"`
}

// ID is the target's identifier as stored: "chatID:seq" for a message.
func (t Target) ID() string {
	switch t.Type {
	case TargetMessage:
		return strconv.FormatInt(t.ChatID, 10) + ":" + strconv.FormatInt(t.Seq, 10)
	case TargetMedia:
		return t.MediaID
	case TargetChat:
		return strconv.FormatInt(t.ChatID, 10)
	case TargetUser:
		return strconv.FormatInt(t.UserID, 10)
	}
	return ""
}

// ParseTarget reads a target back from its type and ID.
func ParseTarget(typ, id string) (Target, error) {
	t := Target{Type: typ}
	var err error
	switch typ {
	case TargetMessage:
		chat, seq, ok := strings.Cut(id, ":")
		if !ok {
			return t, fmt.Errorf("enforce: message target %q is not chat:seq", id)
		}
		if t.ChatID, err = strconv.ParseInt(chat, 10, 64); err == nil {
			t.Seq, err = strconv.ParseInt(seq, 10, 64)
		}
	case TargetMedia:
		t.MediaID = id
	case TargetChat:
		t.ChatID, err = strconv.ParseInt(id, 10, 64)
	case TargetUser:
		t.UserID, err = strconv.ParseInt(id, 10, 64)
	default:
		err = fmt.Errorf("enforce: unknown target type %q", typ)
	}
	return t, err
}

// Grounds are why an action is taken and how it was found, in the terms of
// a statement of reasons. They carry no personal data: the free texts are
// picked from reviewed lists (the law, the clause of the terms, the purpose
// of a rule or bank), never typed for one case.
type Grounds struct {
	Ground      sor.DecisionGround `json:"ground"`
	LegalGround string             `json:"legal_ground,omitempty"` // with GroundIllegalContent
	TermsGround string             `json:"terms_ground,omitempty"` // with GroundIncompatibleContent
	AlsoIllegal bool               `json:"also_illegal,omitempty"`
	Category    sor.Category       `json:"category"`
	Keywords    []sor.Keyword      `json:"keywords,omitempty"`
	// Reason says in a sentence why the rule or bank that matched
	// identifies such content (its purpose, as written with it).
	Reason string `json:"reason,omitempty"`
	// Source is how the item came to the decision (a notice, a trusted
	// flagger, the platform's own initiative); Notifier names the
	// organisation of a trusted flagger or other notifier.
	Source   sor.SourceType `json:"source"`
	Notifier string         `json:"notifier,omitempty"`
	// Signal names the rule, bank or detector that matched, with its version.
	Signal sor.Signal `json:"signal"`
	// AutomatedDetection says the item was found by automated means;
	// Automation how far the decision itself was automated.
	AutomatedDetection bool                  `json:"automated_detection"`
	Automation         sor.AutomatedDecision `json:"automation"`
}

// ViewerReason is what viewers of the item are told: the category, as in
// "This message was removed: Scams and fraud."
func (g Grounds) ViewerReason() string {
	if l := sor.CategoryLabel(g.Category); l != "" {
		return l
	}
	return "a violation of the terms of service"
}

// Request asks for one action.
type Request struct {
	Kind   Kind   `json:"kind"`
	Target Target `json:"target"`
	// Countries for WithholdMessage and WithholdChat (ISO 3166-1 alpha-2).
	Countries []string `json:"countries,omitempty"`
	// AlsoUnknown withholds as well from viewers whose country is unknown
	// (WithholdMessage and WithholdChat).
	AlsoUnknown bool `json:"also_unknown,omitempty"`
	// Label for LabelMessage: the text shown beside the message.
	Label string `json:"label,omitempty"`
	// Until ends a SuspendAccount (required) or a visibility restriction
	// (optional; zero means indefinitely).
	Until   time.Time `json:"until,omitzero"`
	Grounds Grounds   `json:"grounds"`
	// Note is for staff only: kept in the action and the audit log, never in
	// the statement or anything exported.
	Note string `json:"note,omitempty"`
	// Media is the upload a BlockUpload stops: the store keeps it, blocked,
	// in the same transaction as the action, so that it is never usable even
	// for a moment.
	Media *parley.Media `json:"-"`
	// Settles names the review case this decision settles (the review
	// queue sets it, never a client): the case is closed in the action's
	// transaction, and the action fails if the case was decided meanwhile.
	Settles int64 `json:"-"`
}

// Action is one enforcement decision as stored.
type Action struct {
	ID        int64    `json:"id"`
	Kind      Kind     `json:"kind"`
	Target    Target   `json:"target"`
	Countries []string `json:"countries,omitempty"`
	// AlsoUnknown: see Request.AlsoUnknown.
	AlsoUnknown bool      `json:"also_unknown,omitempty"`
	Label       string    `json:"label,omitempty"`
	Until       time.Time `json:"until,omitzero"`
	Grounds     Grounds   `json:"grounds"`
	Note        string    `json:"note,omitempty"`
	// AffectedUserID is the account the statement of reasons is for: the
	// author, uploader, owner or the account itself.
	AffectedUserID int64 `json:"affected_user_id"`
	// ParentID is the action this one is part of (each copy removed by a
	// RemoveMedia), 0 for none.
	ParentID int64 `json:"parent_id,omitempty"`
	// Children counts the actions that are part of this one.
	Children  int            `json:"children,omitempty"`
	Statement *sor.Statement `json:"statement"`
	PUID      string         `json:"puid"`
	// Strike says the action counted a strike against AffectedUserID (see
	// Kind.Strike); restoring it takes the strike back.
	Strike bool `json:"strike,omitempty"`
	// ActorID is the moderator or officer who took it; 0 for the automated
	// screen. It is for staff only, as are Note, ReversedBy and
	// ReversalReason: the affected account's view (Service.Find, Mine)
	// leaves them out.
	ActorID   int64     `json:"actor_id,omitempty"`
	Automated bool      `json:"automated"`
	CreatedAt time.Time `json:"created_at"`

	ReversedAt     *time.Time `json:"reversed_at,omitempty"`
	ReversedBy     int64      `json:"reversed_by,omitempty"`
	ReversalReason string     `json:"reversal_reason,omitempty"`

	// Media is Request.Media, for the store; it is not kept with the action.
	Media *parley.Media `json:"-"`
	// settles is Request.Settles.
	settles int64
}

// Standing reports whether the action is in effect (not reversed).
func (a *Action) Standing() bool { return a.ReversedAt == nil }

// forAffected returns the action as the account it affects may read it:
// without what is for staff only (who took and who reversed the decision,
// why it was reversed, the staff note).
func (a *Action) forAffected() *Action {
	v := *a
	v.Note, v.ActorID, v.ReversedBy, v.ReversalReason = "", 0, 0, ""
	return &v
}

// facts are what a statement of reasons needs to know of a target: whose
// it is, when it was posted, what kind of item it is and where.
type facts struct {
	AffectedUserID int64
	ContentPosted  time.Time
	Items          []sor.ItemKind
	Chat           parley.ChatKind
}

// Filter selects actions for a list: newest first, before BeforeID when it
// is not zero.
type Filter struct {
	Kind           Kind
	AffectedUserID int64
	Target         *Target
	BeforeID       int64
	Limit          int
}

// StatementRange selects statements for the Transparency Database export:
// actions taken in [Since, Until), in id order, after AfterID.
type StatementRange struct {
	Since, Until time.Time
	AfterID      int64
	Limit        int
}

// LegalHold keeps evidence about a target from being deleted, whatever its
// retention, until it is released. A hold on a chat covers its messages; a
// hold on an account covers what it posted and uploaded.
type LegalHold struct {
	ID         int64      `json:"id"`
	Target     Target     `json:"target"`
	Reason     string     `json:"reason"`
	CreatedBy  int64      `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ReleasedAt *time.Time `json:"released_at,omitempty"`
	ReleasedBy int64      `json:"released_by,omitempty"`
}

// Evidence is what a removal took from view, kept for investigators.
type Evidence struct {
	ID        int64     `json:"id"`
	ActionID  int64     `json:"action_id"`
	Target    Target    `json:"target"`
	Content   string    `json:"content"` // JSON of the message or media as it was
	KeptUntil time.Time `json:"kept_until"`
	CreatedAt time.Time `json:"created_at"`
}

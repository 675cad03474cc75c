// Package review is the moderators' queue: the cases the automated screen
// opens (a post held by a rule or bank, an upload stopped by a hash bank)
// wait here for a person, the most urgent first, and each decision is
// recorded with who took it, when and the enforcement action it led to.
package review

import (
	"context"
	"strconv"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

// Case kinds.
const (
	KindHeldPost      = "held_post"      // a post a rule or bank held until review
	KindBlockedUpload = "blocked_upload" // an upload a hash bank stopped; the account is flagged
	KindScreenedPost  = "screened_post"  // a post held while the screen's automated action is applied
	KindFlaggedPost   = "flagged_post"   // a visible post that re-screening found, for a person to judge
	KindFlaggedMedia  = "flagged_media"  // a stored image that re-screening found, for a person to judge
)

// Case statuses.
const (
	StatusOpen    = "open"
	StatusDecided = "decided"
)

// Decisions.
const (
	DecisionApproved  = "approved"                    // the post is fine: it becomes visible
	DecisionRemoved   = enforce.CaseDecisionRemoved   // the post is removed, with a statement of reasons
	DecisionConfirmed = "confirmed"                   // the upload block was right
	DecisionReleased  = "released"                    // the upload block was a false positive: the image is usable
	DecisionAutomated = enforce.CaseDecisionAutomated // the screen's own action (label, removal) settled it
)

// Target types of cases: those of the enforcement actions a case leads to.
const (
	TargetMessage = enforce.TargetMessage
	TargetMedia   = enforce.TargetMedia
)

// Case is one item waiting for (or decided by) a person.
type Case struct {
	ID         int64             `json:"id"`
	Kind       string            `json:"kind"`
	TargetType string            `json:"target_type"`
	TargetID   string            `json:"target_id"` // "chatID:seq" for a message, the media id
	ChatID     int64             `json:"chat_id,omitempty"`
	UserID     int64             `json:"user_id"` // the author or uploader
	Priority   int               `json:"priority"`
	Screening  *parley.Screening `json:"screening,omitempty"` // what matched
	Status     string            `json:"status"`
	Decision   string            `json:"decision,omitempty"`
	DecidedBy  int64             `json:"decided_by,omitempty"`
	DecidedAt  *time.Time        `json:"decided_at,omitempty"`
	ActionID   int64             `json:"action_id,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
}

// RecordedMatch is one screening match as recorded.
type RecordedMatch struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	TargetType string    `json:"target_type"` // "message", "media" or "post" (refused, not stored)
	TargetID   string    `json:"target_id"`
	UserID     int64     `json:"user_id"`
	ChatID     int64     `json:"chat_id"`
	Version    int       `json:"version"`
	Decision   string    `json:"decision"`
	Mode       string    `json:"mode"` // "enforce", "shadow" or "suppressed"
	Detail     string    `json:"detail"`
	Content    string    `json:"content,omitempty"`
}

// Store is what the queue needs from storage. A case is decided once: the
// methods that decide a case check that it is open and record the decision
// in one transaction, so that of two moderators deciding the same case at
// once exactly one succeeds and the other gets EConflict.
type Store interface {
	// OpenCase stores c as an open case and sets c.ID, c.Status (open) and
	// c.CreatedAt when zero (to the current time). The store keeps what the
	// caller gives it (kind, target, user, priority, screening, action) and
	// checks none of it: whether a case is worth opening is the caller's
	// decision. FindCase gives c.ChatID back for a message target only,
	// read from the target's id ("chatID:seq").
	OpenCase(ctx context.Context, c *Case) error
	// FindCase returns the case with that id; ENotFound if there is none.
	FindCase(ctx context.Context, id int64) (*Case, error)
	// ListCases returns the cases with a status, at most limit (at most
	// 1000; zero or less means 1000): open cases in queue order (the
	// highest priority first and, within one priority, in the order they
	// were opened) and decided cases the most recently decided first (of
	// cases decided at the same instant, the last opened first). An
	// unknown status lists none.
	ListCases(ctx context.Context, status string, limit int) ([]*Case, error)
	// CountCases returns how many cases have the status.
	CountCases(ctx context.Context, status string) (int64, error)
	// CloseCase records the decision on an open case (by whom, when, and
	// the enforcement action it led to, 0 for none; a non-zero actionID
	// replaces the one the case was opened with, zero clears it) with an
	// audit entry (review.decided, by the decider, naming the case's
	// target), and changes nothing else. ENotFound if there is no such
	// case; EConflict if it was decided already, which changes nothing:
	// the first decision stands.
	CloseCase(ctx context.Context, id int64, decision string, by, actionID int64, at time.Time) error
	// ApproveHeld decides an open case about a message as approved, as
	// CloseCase does, and in the same transaction releases the message if
	// this case holds it: it becomes visible to everyone, and a
	// message.moderated update with its content, written to the outbox,
	// tells clients. A message deleted meanwhile stays deleted, and a
	// message this case does not hold (a flagged post, visible already) is
	// left as it is; neither writes an update. ENotFound if there is no
	// such case; EConflict, changing nothing, if it was decided already or
	// is not about a message.
	ApproveHeld(ctx context.Context, caseID, by int64, at time.Time) error
	// ListScreeningMatches returns the recorded matches of one rule or bank
	// (source parley.MatchRule or parley.MatchBank, sourceID the rule's or
	// the bank's id), the most recently recorded first, at most limit (at
	// most 1000; zero or less means 1000). They are recorded by
	// messaging.Store's RecordScreening and InsertHeldMessage.
	ListScreeningMatches(ctx context.Context, source, sourceID string, limit int) ([]*RecordedMatch, error)
}

// Priority orders the queue: the decision asked for, then how grave the
// category is, so that a suspected image of child abuse is looked at
// before a suspected spam link.
func Priority(sc *parley.Screening) int {
	if sc == nil || sc.By == nil {
		return 0
	}
	p := 10 * parley.ScreenRank(sc.Decision)
	switch sor.Category(sc.By.Category) {
	case sor.CategoryProtectionOfMinors, sor.CategoryRiskForPublicSecurity, sor.CategoryViolence, sor.CategorySelfHarm:
		p += 5
	case sor.CategoryIllegalOrHarmfulSpeech, sor.CategoryScamsAndFraud, sor.CategoryCyberViolence:
		p += 3
	default:
		p += 1
	}
	return p
}

// Service is the queue for moderators.
type Service struct {
	Store   Store
	Enforce *enforce.Service
	Clock   parley.Clock
}

func canReview(u *parley.User) error {
	if u == nil || !u.Role.CanModerate() {
		return parley.Errorf(parley.EForbidden, "only moderators and admins work the review queue")
	}
	return nil
}

// Queue returns the open cases, most urgent first, and how many are open.
func (s *Service) Queue(ctx context.Context, actor *parley.User, limit int) ([]*Case, int64, error) {
	if err := canReview(actor); err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	cases, err := s.Store.ListCases(ctx, StatusOpen, limit)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.Store.CountCases(ctx, StatusOpen)
	return cases, n, err
}

// Decided returns recently decided cases.
func (s *Service) Decided(ctx context.Context, actor *parley.User, limit int) ([]*Case, error) {
	if err := canReview(actor); err != nil {
		return nil, err
	}
	return s.Store.ListCases(ctx, StatusDecided, limit)
}

// Find returns one case.
func (s *Service) Find(ctx context.Context, actor *parley.User, id int64) (*Case, error) {
	if err := canReview(actor); err != nil {
		return nil, err
	}
	return s.Store.FindCase(ctx, id)
}

// Approve decides that a held or flagged post, or a flagged image, is
// fine: a held post becomes visible; a flagged item stays as it is.
func (s *Service) Approve(ctx context.Context, actor *parley.User, id int64) error {
	c, err := s.open(ctx, actor, id, KindHeldPost, KindScreenedPost, KindFlaggedPost, KindFlaggedMedia)
	if err != nil {
		return err
	}
	if c.Kind == KindFlaggedMedia {
		return s.Store.CloseCase(ctx, c.ID, DecisionApproved, actor.ID, 0, s.Clock.Now())
	}
	return s.Store.ApproveHeld(ctx, c.ID, actor.ID, s.Clock.Now())
}

// Remove decides that a held post breaks the rules: it is removed with a
// statement of reasons on the given grounds, which also closes the case.
// What the grounds leave out the case tells: the category and signal of
// what matched, that it was found by automated means and decided by a
// person, on the platform's own initiative.
func (s *Service) Remove(ctx context.Context, actor *parley.User, id int64, g enforce.Grounds) (*enforce.Action, error) {
	c, err := s.open(ctx, actor, id, KindHeldPost, KindScreenedPost, KindFlaggedPost, KindFlaggedMedia)
	if err != nil {
		return nil, err
	}
	kind, t := enforce.RemoveMessage, enforce.Target{}
	if c.Kind == KindFlaggedMedia {
		// A flagged image is removed everywhere, each copy with its statement.
		kind, t = enforce.RemoveMedia, enforce.Target{Type: enforce.TargetMedia, MediaID: c.TargetID}
	} else {
		if t, err = enforce.ParseTarget(enforce.TargetMessage, c.TargetID); err != nil {
			return nil, parley.Errorf(parley.EInternal, "case %d names no message: %v", id, err)
		}
	}
	if c.Screening != nil && c.Screening.By != nil {
		// The screen found the item; a person decides. The statement names
		// what matched, whichever client the moderator decided from.
		by := c.Screening.By
		if g.Category == "" {
			g.Category = sor.Category(by.Category)
		}
		if g.Signal.Kind == "" {
			g.Signal = enforce.SignalOf(by)
		}
		if g.Source == "" {
			g.Source = sor.SourceVoluntary
		}
		if g.Automation == "" {
			g.Automation = sor.NotAutomated
		}
		g.AutomatedDetection = true
	}
	// The action settles the case in its own transaction: both happen, or
	// neither (a case another moderator decided meanwhile refuses it).
	return s.Enforce.Apply(ctx, actor, enforce.Request{Kind: kind, Target: t, Grounds: g,
		Note: "review case " + strconv.FormatInt(id, 10), Settles: c.ID})
}

// ConfirmBlock decides that an upload stopped by a hash bank was rightly
// stopped.
func (s *Service) ConfirmBlock(ctx context.Context, actor *parley.User, id int64) error {
	c, err := s.open(ctx, actor, id, KindBlockedUpload)
	if err != nil {
		return err
	}
	return s.Store.CloseCase(ctx, c.ID, DecisionConfirmed, actor.ID, c.ActionID, s.Clock.Now())
}

// ReleaseBlock decides that an upload stop was a false positive: the block
// action is restored (the image becomes usable, the strike is taken back)
// and the case is closed. The bank entry that matched should get an allow
// entry too, which the moderator adds on the bank's page.
func (s *Service) ReleaseBlock(ctx context.Context, actor *parley.User, id int64, reason string) error {
	c, err := s.open(ctx, actor, id, KindBlockedUpload)
	if err != nil {
		return err
	}
	if c.ActionID != 0 {
		if _, err := s.Enforce.Restore(ctx, actor, c.ActionID, reason); err != nil {
			return err
		}
	}
	return s.Store.CloseCase(ctx, c.ID, DecisionReleased, actor.ID, c.ActionID, s.Clock.Now())
}

// Matches returns what one rule or bank matched recently.
func (s *Service) Matches(ctx context.Context, actor *parley.User, source, sourceID string, limit int) ([]*RecordedMatch, error) {
	if err := canReview(actor); err != nil {
		return nil, err
	}
	return s.Store.ListScreeningMatches(ctx, source, sourceID, limit)
}

func (s *Service) open(ctx context.Context, actor *parley.User, id int64, kinds ...string) (*Case, error) {
	if err := canReview(actor); err != nil {
		return nil, err
	}
	c, err := s.Store.FindCase(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Status != StatusOpen {
		return nil, parley.Errorf(parley.EConflict, "case %d was already decided (%s)", id, c.Decision)
	}
	for _, k := range kinds {
		if c.Kind == k {
			return c, nil
		}
	}
	return nil, parley.Errorf(parley.EConflict, "case %d is a %s; that decision does not apply to it", id, c.Kind)
}

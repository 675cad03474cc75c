// Package screen is the inline screen and its rule book: it matches every
// upload and every post in a public chat against the hash banks and the
// enabled text rules before anyone can see it, and keeps the rules, every
// version of them, and what they matched.
//
// The matching itself is done by internal/safety/rules (text) and
// internal/safety/banks (hashes, links); this package decides what one
// post's matches amount to (parley.Screening), and the messaging service
// acts on that decision in the same transaction as the post (see
// messaging.Service.PostMessage), so that a crash can never leave a post
// visible and unscreened.
package screen

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"parley"
	"parley/internal/safety/rules"
)

// StoredRule is a rule as kept: its current definition (with its version)
// and whether it is enabled. A disabled rule matches nothing, in shadow
// mode or not.
type StoredRule struct {
	rules.Rule
	Enabled   bool      `json:"enabled"`
	CreatedBy int64     `json:"created_by"` // of this version
	UpdatedAt time.Time `json:"updated_at"`
}

// RuleVersion is one version of a rule, as it was written.
type RuleVersion struct {
	Rule      rules.Rule `json:"rule"`
	CreatedBy int64      `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
}

// RuleStore is what the rule book needs from storage. Each change appends,
// in its transaction, an audit entry (AuditRule*, by the author of the
// change, target type "rule" and the rule's id) and an outbox event
// (EventRuleChanged on RulesSubject, with the rule's current version and
// whether it is enabled). Versions are never changed or deleted, so that
// every recorded match can be traced to the exact rule that made it. The
// store checks no rule: the rule book validates them before they are
// stored.
type RuleStore interface {
	// CreateRule stores r as version 1 (r.Version is 1) of a new rule,
	// disabled, created by by at at. EConflict, with field "id", if a rule
	// with that id exists; nothing is stored then.
	CreateRule(ctx context.Context, r rules.Rule, by int64, at time.Time) error
	// AddRuleVersion stores r as the next version of its rule and makes it
	// current, enabled or not as the rule was; r.Version must be the
	// current version + 1 (EConflict otherwise: someone else edited it
	// meanwhile; of two editors of the same version exactly one succeeds).
	// ENotFound if there is no such rule.
	AddRuleVersion(ctx context.Context, r rules.Rule, by int64, at time.Time) error
	// SetRuleEnabled enables or disables a rule; ENotFound if none. Setting
	// the state the rule is in already changes nothing and writes no audit
	// entry or event.
	SetRuleEnabled(ctx context.Context, id string, enabled bool, by int64, at time.Time) error
	// FindRule returns a rule's current version, with who wrote that
	// version and when the rule last changed (a version, or enabled or
	// disabled); ENotFound if none.
	FindRule(ctx context.Context, id string) (*StoredRule, error)
	// ListRules returns every rule's current version, by id.
	ListRules(ctx context.Context) ([]*StoredRule, error)
	// ListRuleVersions returns every version of a rule, newest first;
	// ENotFound if there is no such rule.
	ListRuleVersions(ctx context.Context, id string) ([]*RuleVersion, error)
	// ScanMessages returns the stored messages of channels and groups that
	// are not deleted (held and removed ones included, with their
	// moderation), with id > afterID, in id order, at most limit (at most
	// 1000; zero or less means 1000): the input of backtests and of
	// re-screening. Each comes with what a rule's condition may look at, as
	// the live screen gives it (Screener.ScreenPost): the chat's kind, its
	// member count now, how old the author's account was when the message
	// was posted, and the author's strikes and country now.
	ScanMessages(ctx context.Context, afterID int64, limit int) ([]*ScannedMessage, error)
}

// ScannedMessage is a stored message with the facts a rule's condition may
// look at, for backtests and re-screening.
type ScannedMessage struct {
	Message *parley.Message
	Context rules.Context
}

// EventRuleChanged is written on subject RulesSubject whenever a rule is
// created, edited, enabled or disabled, so that every process recompiles
// its rule set and re-screening workers look at stored content again.
const EventRuleChanged = "rule.changed"

// RulesSubject is the event subject of the rule book.
const RulesSubject = "rules"

// RuleChangedEvent is the payload of EventRuleChanged.
type RuleChangedEvent struct {
	RuleID  string `json:"rule_id"`
	Version int    `json:"version"`
	Enabled bool   `json:"enabled"`
}

// Audit actions of the rule book.
const (
	AuditRuleCreated  = "rule.created"
	AuditRuleEdited   = "rule.edited"
	AuditRuleEnabled  = "rule.enabled"
	AuditRuleDisabled = "rule.disabled"
)

var ruleIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:-]{0,63}$`)

// RuleBook manages the stored rules: moderators and admins write them, try
// them in shadow mode and on stored messages (backtest), and enable them.
type RuleBook struct {
	Store RuleStore
	Clock parley.Clock
	// Changed, when set, is called after every change this process makes,
	// so that its screen reloads at once; other processes reload when the
	// rule.changed event reaches them.
	Changed func(ctx context.Context)
}

func (b *RuleBook) changed(ctx context.Context) {
	if b.Changed != nil {
		b.Changed(ctx)
	}
}

func canManage(u *parley.User) error {
	if u == nil || !u.Role.CanModerate() {
		return parley.Errorf(parley.EForbidden, "only moderators and admins manage screening rules")
	}
	return nil
}

// checkRule validates one rule the way the screen will compile it, so that
// a rule that cannot compile (a bad regular expression, a condition that
// does not type-check, a rule with nothing to match) is refused with the
// field and the reason, and nothing is stored. It returns the rule compiled
// alone.
func checkRule(r *rules.Rule) (*rules.RuleSet, error) {
	r.ID = strings.TrimSpace(r.ID)
	if !ruleIDRE.MatchString(r.ID) {
		return nil, parley.FieldError("id", "a rule id is 1 to 64 lower-case letters, digits or . _ : -, starting with a letter or digit")
	}
	if r.Mode == "" {
		r.Mode = rules.ModeShadow // new rules watch before they act
	}
	return rules.Compile([]rules.Rule{*r})
}

// Create stores a new rule, version 1, disabled and (unless its Mode says
// otherwise) in shadow mode.
func (b *RuleBook) Create(ctx context.Context, actor *parley.User, r rules.Rule) (*StoredRule, error) {
	if err := canManage(actor); err != nil {
		return nil, err
	}
	r.Version = 1
	if _, err := checkRule(&r); err != nil {
		return nil, err
	}
	if err := b.Store.CreateRule(ctx, r, actor.ID, b.Clock.Now()); err != nil {
		return nil, err
	}
	b.changed(ctx)
	return b.Store.FindRule(ctx, r.ID)
}

// Edit stores r as the next version of the rule with r.ID. r.Version must
// be the version the editor started from, so that two editors cannot
// overwrite each other unknowingly.
func (b *RuleBook) Edit(ctx context.Context, actor *parley.User, r rules.Rule) (*StoredRule, error) {
	if err := canManage(actor); err != nil {
		return nil, err
	}
	cur, err := b.Store.FindRule(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	if r.Version != cur.Version {
		return nil, parley.Errorf(parley.EConflict, "rule %s is at version %d now, not %d: someone edited it meanwhile; reload it", r.ID, cur.Version, r.Version)
	}
	r.Version = cur.Version + 1
	if _, err := checkRule(&r); err != nil {
		return nil, err
	}
	if err := b.Store.AddRuleVersion(ctx, r, actor.ID, b.Clock.Now()); err != nil {
		return nil, err
	}
	b.changed(ctx)
	return b.Store.FindRule(ctx, r.ID)
}

// SetEnabled enables or disables a rule.
func (b *RuleBook) SetEnabled(ctx context.Context, actor *parley.User, id string, enabled bool) (*StoredRule, error) {
	if err := canManage(actor); err != nil {
		return nil, err
	}
	if err := b.Store.SetRuleEnabled(ctx, id, enabled, actor.ID, b.Clock.Now()); err != nil {
		return nil, err
	}
	b.changed(ctx)
	return b.Store.FindRule(ctx, id)
}

// List returns every rule's current version.
func (b *RuleBook) List(ctx context.Context, actor *parley.User) ([]*StoredRule, error) {
	if err := canManage(actor); err != nil {
		return nil, err
	}
	return b.Store.ListRules(ctx)
}

// Find returns one rule with its history, newest version first.
func (b *RuleBook) Find(ctx context.Context, actor *parley.User, id string) (*StoredRule, []*RuleVersion, error) {
	if err := canManage(actor); err != nil {
		return nil, nil, err
	}
	r, err := b.Store.FindRule(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	vs, err := b.Store.ListRuleVersions(ctx, id)
	return r, vs, err
}

// MaxBacktestMessages bounds one backtest.
const MaxBacktestMessages = 1_000_000

// Backtest runs a rule (a stored one, or a draft not saved yet) over up to
// limit stored messages of channels and groups, oldest first, and reports
// what it would have matched, whatever its mode; nothing is acted on.
func (b *RuleBook) Backtest(ctx context.Context, actor *parley.User, r rules.Rule, limit int) (*rules.BacktestReport, error) {
	if err := canManage(actor); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxBacktestMessages {
		limit = MaxBacktestMessages
	}
	if r.Version == 0 {
		r.Version = 1
	}
	rs, err := checkRule(&r)
	if err != nil {
		return nil, err
	}
	var scanErr error
	scanned := 0
	msgs := func(yield func(id int64, text string, c rules.Context) bool) {
		var after int64
		for scanned < limit {
			page, err := b.Store.ScanMessages(ctx, after, min(1000, limit-scanned))
			if err != nil {
				scanErr = err
				return
			}
			if len(page) == 0 {
				return
			}
			for _, m := range page {
				scanned++
				after = m.Message.ID
				if !yield(m.Message.ID, m.Message.Text, m.Context) {
					return
				}
			}
			if ctx.Err() != nil {
				scanErr = ctx.Err()
				return
			}
		}
	}
	rep, err := rules.Backtest(rs, r.ID, msgs)
	if err != nil {
		return nil, err
	}
	if scanErr != nil {
		return nil, scanErr
	}
	return &rep, nil
}

// DecodeRule reads a rule from JSON strictly, naming the field at fault.
func DecodeRule(data []byte) (rules.Rule, error) {
	var r rules.Rule
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, parley.Errorf(parley.EInvalid, "rule is not valid JSON: %v", err)
	}
	return r, nil
}

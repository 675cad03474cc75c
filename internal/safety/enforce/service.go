package enforce

import (
	"context"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"parley"
	"parley/internal/auth"
	"parley/internal/sor"
)

// DefaultRetention is how long evidence is kept after a removal when
// Service.Retention is zero: six months, as Regulation (EU) 2021/784
// (terrorist content online) Article 6 requires of removed content.
const DefaultRetention = 183 * 24 * time.Hour

// Limits on requests.
const (
	MaxLabelLen  = 64
	MaxNoteLen   = 2000
	MaxReasonLen = 500
	MaxCountries = 30
)

// Service takes, restores and shows enforcement actions.
type Service struct {
	Store Store
	Clock parley.Clock
	Log   *slog.Logger
	// Namespace makes the puids of statements (sor.MakePUID): fixed for a
	// deployment, so that puids are never reused.
	Namespace string
	// Retention is how long removed content is kept as evidence
	// (DefaultRetention when zero).
	Retention time.Duration
	// AccountChanged, when set, is told of each account whose standing an
	// action changed (suspended, restored, a strike), so that this process
	// drops what it cached of it.
	AccountChanged func(userID int64)
	// Blobs deletes the files of purged media; may be nil.
	Blobs interface{ Remove(id string) error }
}

// IsStaff reports whether u may take and see enforcement actions.
func IsStaff(u *parley.User) bool {
	return u != nil && u.Role.IsStaff()
}

func (s *Service) retention() time.Duration {
	if s.Retention > 0 {
		return s.Retention
	}
	return DefaultRetention
}

// now is the service's time, to the microsecond: what stores keep (SQLite
// as integers, PostgreSQL natively), so that what the service returns is
// what reads back.
func (s *Service) now() time.Time {
	return s.Clock.Now().UTC().Truncate(time.Microsecond)
}

// Apply takes one action. actor is the moderator or officer taking it; nil
// means the platform's automated screen, which only code inside the server
// can pass. The request is checked in full (including the statement of
// reasons it will produce) before anything is written; the effect, the
// action with its statement, the strike, the evidence, the review case it
// settles, the audit entries and the events that tell clients are written
// in one transaction.
func (s *Service) Apply(ctx context.Context, actor *parley.User, req Request) (*Action, error) {
	if actor != nil && !IsStaff(actor) {
		return nil, parley.Errorf(parley.EForbidden, "only moderators, legal officers and admins take enforcement actions")
	}
	now := s.now()
	a, err := s.prepare(actor, req, now)
	if err != nil {
		return nil, err
	}
	var changed []int64
	err = s.Store.EnforceTx(ctx, func(tx Tx) error {
		o := s.newOp(tx, now)
		if err := o.apply(a); err != nil {
			return err
		}
		changed = o.changed
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log().Info("enforcement action", "id", a.ID, "kind", a.Kind, "target", a.Target.ID(), "actor", a.ActorID,
		"automated", a.Automated, "children", a.Children)
	s.accountsChanged(changed)
	return a, nil
}

// ApplyMany takes many automated actions (actor nil) or actions by one
// person at once, committed together: what re-screening uses to remove a
// batch of copies with one fsync. Each request is checked as Apply checks
// it, and each action is applied in a savepoint of its own, so that one
// that cannot be taken (already removed, say) fails alone and leaves
// nothing of itself. The errors are by index (nil for an action taken),
// and the error returned is for the whole batch, when nothing was
// committed.
func (s *Service) ApplyMany(ctx context.Context, actor *parley.User, reqs []Request) ([]*Action, []error, error) {
	if actor != nil && !IsStaff(actor) {
		return nil, nil, parley.Errorf(parley.EForbidden, "only moderators, legal officers and admins take enforcement actions")
	}
	now := s.now()
	actions := make([]*Action, len(reqs))
	errs := make([]error, len(reqs))
	var todo []int
	for i, req := range reqs {
		a, err := s.prepare(actor, req, now)
		if err != nil {
			errs[i] = err
			continue
		}
		actions[i] = a
		todo = append(todo, i)
	}
	var changed []int64
	if len(todo) > 0 {
		err := s.Store.EnforceTx(ctx, func(tx Tx) error {
			o := s.newOp(tx, now)
			for _, i := range todo {
				mark := len(o.changed)
				if err := tx.Try(func() error { return o.apply(actions[i]) }); err != nil {
					errs[i] = err
					o.changed = o.changed[:mark]
				}
			}
			changed = o.changed
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	taken := 0
	for i := range actions {
		if errs[i] != nil {
			actions[i] = nil
		} else {
			taken++
		}
	}
	s.accountsChanged(changed)
	s.log().Info("enforcement actions", "taken", taken, "asked", len(reqs), "actor", actor != nil)
	return actions, errs, nil
}

// Restore takes back action id exactly (and its children: the copies a
// RemoveMedia removed): its part of its target's moderation, leaving the
// parts of other actions on the same target, and the strikes it counted.
// reason says why (a successful appeal, a mistaken match) and goes to the
// audit log. EConflict if it was restored already, or is a child (restore
// its parent).
func (s *Service) Restore(ctx context.Context, actor *parley.User, id int64, reason string) (*Action, error) {
	if !IsStaff(actor) {
		return nil, parley.Errorf(parley.EForbidden, "only moderators, legal officers and admins restore enforcement actions")
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > MaxReasonLen {
		return nil, parley.FieldError("reason", "say why the action is restored, in at most %d characters", MaxReasonLen)
	}
	now := s.now()
	var a *Action
	var changed []int64
	err := s.Store.EnforceTx(ctx, func(tx Tx) error {
		o := s.newOp(tx, now)
		var err error
		a, err = o.restoreAction(id, actor.ID, reason)
		changed = o.changed
		return err
	})
	if err != nil {
		return nil, err
	}
	s.log().Info("enforcement action restored", "id", a.ID, "kind", a.Kind, "by", actor.ID)
	s.accountsChanged(changed)
	return a, nil
}

// Find returns action id to a member of staff or to the account it
// affects, who may read its statement of reasons (but not what is for
// staff only: see Action.ActorID); to anyone else it does not exist.
func (s *Service) Find(ctx context.Context, viewer *parley.User, id int64) (*Action, error) {
	a, err := s.Store.FindAction(ctx, id)
	if err != nil {
		return nil, err
	}
	if IsStaff(viewer) {
		return a, nil
	}
	if viewer == nil || viewer.ID != a.AffectedUserID {
		return nil, parley.Errorf(parley.ENotFound, "statement %d not found", id)
	}
	return a.forAffected(), nil
}

// List returns actions for staff, newest first.
func (s *Service) List(ctx context.Context, actor *parley.User, f Filter) ([]*Action, error) {
	if !IsStaff(actor) {
		return nil, parley.Errorf(parley.EForbidden, "only staff see the list of enforcement actions")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 200
	}
	return s.Store.ListActions(ctx, f)
}

// Mine returns the actions that affect the actor, newest first: the
// statements of reasons the account has received, as the affected account
// reads them (without what is for staff only, unless the actor is staff).
func (s *Service) Mine(ctx context.Context, actor *parley.User, beforeID int64, limit int) ([]*Action, error) {
	if actor == nil {
		return nil, parley.Errorf(parley.EForbidden, "sign in to read your statements of reasons")
	}
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	list, err := s.Store.ListActions(ctx, Filter{AffectedUserID: actor.ID, BeforeID: beforeID, Limit: limit})
	if err != nil || IsStaff(actor) {
		return list, err
	}
	for i, a := range list {
		list[i] = a.forAffected()
	}
	return list, nil
}

// Statements returns the statements of reasons of the actions taken in a
// time range, for the Transparency Database, with the id of the last action
// read (to ask for the next page after it).
func (s *Service) Statements(ctx context.Context, r StatementRange) ([]sor.Statement, int64, error) {
	acts, err := s.Store.ListStatementActions(ctx, r)
	if err != nil {
		return nil, 0, err
	}
	out := make([]sor.Statement, 0, len(acts))
	var last int64
	for _, a := range acts {
		out = append(out, *a.Statement)
		last = a.ID
	}
	return out, last, nil
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// accountsChanged tells AccountChanged of each account whose standing a
// committed transaction changed, once each.
func (s *Service) accountsChanged(ids []int64) {
	if s.AccountChanged == nil {
		return
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if id != 0 && !seen[id] {
			seen[id] = true
			s.AccountChanged(id)
		}
	}
}

var mediaIDRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// prepare checks a request by actor (nil for the automated screen) and
// returns the action it asks for, by whom and when, ready for the store.
func (s *Service) prepare(actor *parley.User, req Request, now time.Time) (*Action, error) {
	a, err := s.check(req, now)
	if err != nil {
		return nil, err
	}
	if actor != nil {
		a.ActorID = actor.ID
		// A person deciding on the platform's own initiative, with no
		// detector named, is a moderator's review.
		if a.Grounds.Signal.Kind == sor.SignalNone && a.Grounds.Source == sor.SourceVoluntary {
			a.Grounds.Signal = sor.Signal{Kind: sor.SignalModerator}
		}
	}
	a.Automated = actor == nil || a.Grounds.Automation == sor.AutomatedFully
	a.CreatedAt = now
	// A dry run of the statement, with facts of the right shape, so that a
	// request the statement cannot be made from is refused here, naming the
	// field, rather than inside the transaction.
	dry := &Action{ID: 1, Kind: a.Kind, Countries: a.Countries, Until: a.Until, Grounds: a.Grounds, CreatedAt: now}
	if _, err := s.statement(dry, dryFacts(a.Kind, now)); err != nil {
		return nil, err
	}
	return a, nil
}

// check validates a request and returns the action it asks for.
func (s *Service) check(req Request, now time.Time) (*Action, error) {
	if !req.Kind.Valid() {
		return nil, parley.FieldError("kind", "unknown kind of action %q", req.Kind)
	}
	t := req.Target
	if t.Type == "" {
		t.Type = req.Kind.TargetType()
	}
	if t.Type != req.Kind.TargetType() {
		return nil, parley.FieldError("target.type", "%s acts on a %s, not a %s", req.Kind, req.Kind.TargetType(), t.Type)
	}
	if err := checkTarget(t); err != nil {
		return nil, err
	}
	a := &Action{Kind: req.Kind, Target: t, Grounds: req.Grounds, Until: req.Until, Media: req.Media, settles: req.Settles}
	if req.Kind == BlockUpload && (req.Media == nil || req.Media.ID != t.MediaID) {
		return nil, parley.FieldError("media", "a blocked upload needs the upload itself")
	}
	switch req.Kind {
	case WithholdMessage, WithholdChat:
		cs := parley.NormalizeCountries(req.Countries)
		if len(cs) == 0 || len(cs) > MaxCountries {
			return nil, parley.FieldError("countries", "name the countries to withhold in (1 to %d)", MaxCountries)
		}
		for _, c := range cs {
			if !auth.IsCountryCode(c) {
				return nil, parley.FieldError("countries", "%q is not an ISO 3166-1 alpha-2 country code", c)
			}
		}
		a.Countries, a.AlsoUnknown = cs, req.AlsoUnknown
	case LabelMessage:
		label := strings.TrimSpace(req.Label)
		if label == "" || utf8.RuneCountInString(label) > MaxLabelLen {
			return nil, parley.FieldError("label", "a label needs its text, at most %d characters", MaxLabelLen)
		}
		a.Label = label
	case SuspendAccount:
		if !req.Until.After(now) {
			return nil, parley.FieldError("until", "a suspension needs an end in the future")
		}
	}
	if req.Kind != SuspendAccount && !req.Until.IsZero() && !req.Until.After(now) {
		return nil, parley.FieldError("until", "an end date must be in the future")
	}
	if req.Kind == TerminateAccount {
		a.Until = time.Time{}
	}
	if utf8.RuneCountInString(req.Note) > MaxNoteLen {
		return nil, parley.FieldError("note", "a note is at most %d characters", MaxNoteLen)
	}
	a.Note = strings.TrimSpace(req.Note)
	a.Grounds.Keywords = slices.Clone(req.Grounds.Keywords)
	return a, nil
}

func checkTarget(t Target) error {
	switch t.Type {
	case TargetMessage:
		if t.ChatID <= 0 || t.Seq <= 0 {
			return parley.FieldError("target", "a message is named by its chat_id and seq")
		}
	case TargetMedia:
		if !mediaIDRE.MatchString(t.MediaID) {
			return parley.FieldError("target.media_id", "a media item is named by its id, 64 lower-case hex digits")
		}
	case TargetChat:
		if t.ChatID <= 0 {
			return parley.FieldError("target.chat_id", "a chat is named by its chat_id")
		}
	case TargetUser:
		if t.UserID <= 0 {
			return parley.FieldError("target.user_id", "an account is named by its user_id")
		}
	default:
		return parley.FieldError("target.type", "target type must be message, media, chat or user")
	}
	return nil
}

// dryFacts are facts of the right shape for a kind, for checking a request.
func dryFacts(k Kind, now time.Time) facts {
	f := facts{ContentPosted: now, Chat: parley.ChatChannel}
	switch k.TargetType() {
	case TargetMessage:
		f.Items = []sor.ItemKind{sor.ItemText}
	case TargetMedia:
		f.Items, f.Chat = []sor.ItemKind{sor.ItemImage}, ""
	case TargetChat:
		f.Items = []sor.ItemKind{sor.ItemChannel}
	case TargetUser:
		f.Items, f.Chat = []sor.ItemKind{sor.ItemAccount}, ""
	}
	return f
}

// statement builds the statement of reasons of a (whose ID is set) about a
// target with facts f.
func (s *Service) statement(a *Action, f facts) (*sor.Statement, error) {
	g := a.Grounds
	d := sor.Decision{
		Namespace:            s.Namespace,
		ActionID:             a.ID,
		ContentPosted:        f.ContentPosted,
		Applied:              a.CreatedAt,
		Items:                f.Items,
		Chat:                 f.Chat,
		Ground:               g.Ground,
		LegalGround:          g.LegalGround,
		TermsGround:          g.TermsGround,
		ReferenceURL:         "",
		Category:             g.Category,
		Keywords:             g.Keywords,
		Reason:               g.Reason,
		Source:               g.Source,
		NotifierOrganisation: g.Notifier,
		Signal:               g.Signal,
		AutomatedDetection:   g.AutomatedDetection,
		Automation:           g.Automation,
	}
	if g.Ground == sor.GroundIncompatibleContent && g.AlsoIllegal {
		d.AlsoIllegal = sor.Yes
	}
	for _, c := range a.Countries {
		d.Territory = append(d.Territory, sor.Country(c))
	}
	switch a.Kind {
	case RemoveMessage, RemoveMedia, BlockUpload:
		d.Visibility = []sor.DecisionVisibility{sor.VisibilityContentRemoved}
		d.VisibilityUntil = a.Until
	case WithholdMessage, WithholdChat:
		d.Visibility = []sor.DecisionVisibility{sor.VisibilityContentDisabled}
		d.VisibilityUntil = a.Until
	case LabelMessage:
		d.Visibility = []sor.DecisionVisibility{sor.VisibilityContentLabelled}
		d.VisibilityUntil = a.Until
	case AgeRestrictMessage:
		d.Visibility = []sor.DecisionVisibility{sor.VisibilityContentAgeRestricted}
		d.VisibilityUntil = a.Until
	case BanChat:
		d.Visibility = []sor.DecisionVisibility{sor.VisibilityContentRemoved}
		d.Provision = sor.ProvisionPartialTermination
	case SuspendAccount:
		d.Account, d.AccountUntil = sor.AccountSuspended, a.Until
	case TerminateAccount:
		d.Account = sor.AccountTerminated
	}
	return sor.Build(d)
}

package screen

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"parley"
	"parley/internal/pdq"
	"parley/internal/safety/banks"
	"parley/internal/safety/enforce"
	"parley/internal/safety/rules"
	"parley/internal/sor"
)

// Screener screens uploads and posts against the hash banks and the
// enabled text rules. It is safe for concurrent use; the compiled rule set
// is swapped atomically when the rule book changes (Reload), so a post is
// screened by one consistent set.
type Screener struct {
	Banks   *banks.Matcher
	Rules   RuleStore
	Enforce *enforce.Service
	Log     *slog.Logger

	compiled atomic.Pointer[compiledRules]
	reload   sync.Mutex
}

// compiledRules is the rule set in force and the rules it was made from.
type compiledRules struct {
	set  *rules.RuleSet
	byID map[string]*rules.Rule
}

// Reload compiles the enabled rules of the rule book and puts them in force.
// A rule book that does not compile as a whole (which checkRule makes
// unlikely: each rule compiled alone when it was stored) keeps the previous
// set in force and returns the error. When the enabled rules are those in
// force already, it compiles nothing: the process that changed a rule
// reloads at once and again when its own rule.changed event comes back.
func (s *Screener) Reload(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	stored, err := s.Rules.ListRules(ctx)
	if err != nil {
		return err
	}
	var enabled []rules.Rule
	for _, r := range stored {
		if r.Enabled {
			enabled = append(enabled, r.Rule)
		}
	}
	if c := s.compiled.Load(); c != nil && c.madeFrom(enabled) {
		return nil
	}
	set, err := rules.Compile(enabled)
	if err != nil {
		return fmt.Errorf("screen: compile the enabled rules: %w", err)
	}
	c := &compiledRules{set: set, byID: map[string]*rules.Rule{}}
	for i := range enabled {
		c.byID[enabled[i].ID] = &enabled[i]
	}
	s.compiled.Store(c)
	return nil
}

// madeFrom reports whether c was compiled from exactly these rules. A rule's
// id and version name its definition: a stored version never changes, and
// every edit is a new version.
func (c *compiledRules) madeFrom(enabled []rules.Rule) bool {
	if len(enabled) != len(c.byID) {
		return false
	}
	for i := range enabled {
		if r := c.byID[enabled[i].ID]; r == nil || r.Version != enabled[i].Version {
			return false
		}
	}
	return true
}

// Post is what the screen looks at in a post.
type Post struct {
	Text   string
	Media  *parley.Media // the attached image, with the hashes taken at upload
	Author *parley.User
	Chat   parley.ChatKind
	// Subscribers is the chat's member or subscriber count.
	Subscribers int64
	At          time.Time
}

// ScreenPost screens a post's text (rules and link banks) and its attached
// image (media banks, by the hashes taken at upload).
func (s *Screener) ScreenPost(p Post) *parley.Screening {
	out := &parley.Screening{}
	if c := s.compiled.Load(); c != nil && p.Text != "" {
		rctx := rules.Context{ChatKind: string(p.Chat), SubscriberCount: p.Subscribers}
		if p.Author != nil {
			rctx.AccountAgeDays = p.At.Sub(p.Author.CreatedAt).Hours() / 24
			rctx.Strikes = p.Author.Strikes
			rctx.Country = p.Author.Country
		}
		res := c.set.Screen(p.Text, rctx)
		out.Matches = c.matches(res)
		for _, e := range res.Errors {
			s.log().Warn("screening rule failed at run time; fix its condition", "rule", e.RuleID, "version", e.Version, "err", e.Message)
		}
	}
	if s.Banks != nil {
		if p.Text != "" {
			out.Matches = append(out.Matches, bankMatches(s.Banks.MatchText(p.Text))...)
		}
		if p.Media != nil {
			out.Matches = append(out.Matches, bankMatches(s.Banks.MatchMedia(mediaHashes(p.Media, nil)))...)
		}
	}
	decide(out)
	return out
}

// ScreenUpload matches an upload's hashes (dihedral: the PDQ hashes of its
// eight rotations and flips) against the media banks.
func (s *Screener) ScreenUpload(m *parley.Media, dihedral []pdq.Hash) *parley.Screening {
	out := &parley.Screening{}
	if s.Banks != nil {
		out.Matches = bankMatches(s.Banks.MatchMedia(mediaHashes(m, dihedral)))
	}
	decide(out)
	return out
}

// mediaHashes is what the bank matcher takes of a stored image.
func mediaHashes(m *parley.Media, dihedral []pdq.Hash) banks.Media {
	md := banks.Media{PDQ: dihedral, PDQQuality: m.PDQQuality, MD5: m.MD5, SHA256: m.SHA256}
	if len(md.PDQ) == 0 && m.PDQ != "" {
		if h, err := pdq.ParseHash(m.PDQ); err == nil {
			md.PDQ = []pdq.Hash{h}
		}
	}
	return md
}

// matches describes the rule matches of a screening result.
func (c *compiledRules) matches(res rules.Result) []parley.ScreeningMatch {
	var out []parley.ScreeningMatch
	for _, m := range res.Matches {
		out = append(out, parley.ScreeningMatch{
			Source: parley.MatchRule, SourceID: m.RuleID, Name: c.ruleName(m.RuleID), Version: m.Version,
			Decision: ruleDecision(m.Action), Shadow: m.Mode == rules.ModeShadow,
			Detail: string(m.Kind) + ": " + m.Pattern, Category: m.Category, Label: m.Label,
		})
	}
	return out
}

func (c *compiledRules) ruleName(id string) string {
	if r := c.byID[id]; r != nil && r.Name != "" {
		return r.Name
	}
	return id
}

// ruleDecision maps a rule's action to a screening decision.
func ruleDecision(a rules.Action) string {
	switch a {
	case rules.ActionBlock:
		return parley.ScreenBlock
	case rules.ActionRemove:
		return parley.ScreenRemove
	case rules.ActionHold:
		return parley.ScreenHold
	case rules.ActionLabel:
		return parley.ScreenLabel
	}
	return parley.ScreenNone
}

// bankDecision maps a bank's action to a screening decision.
func bankDecision(a banks.Action) string {
	switch a {
	case banks.ActionBlockUpload:
		return parley.ScreenBlock
	case banks.ActionRemove:
		return parley.ScreenRemove
	case banks.ActionReview:
		return parley.ScreenHold
	case banks.ActionLabel:
		return parley.ScreenLabel
	}
	return parley.ScreenNone
}

func bankMatches(res banks.Result) []parley.ScreeningMatch {
	var out []parley.ScreeningMatch
	for _, m := range res.Matches {
		detail := string(m.Type) + " " + m.Value
		if m.Type == banks.TypePDQ {
			detail += " at distance " + strconv.Itoa(m.Distance)
		}
		if m.Kind == banks.KindAllow {
			detail = "allow list: " + detail
		}
		out = append(out, parley.ScreeningMatch{
			Source: parley.MatchBank, SourceID: strconv.FormatInt(m.BankID, 10), Name: m.Bank, Version: int(res.ChangeID),
			Decision: bankDecision(m.Action), Suppressed: m.Suppressed || m.Kind == banks.KindAllow,
			Detail: detail, Category: m.Category, Label: m.Label,
		})
	}
	return out
}

// decide sets the decision: the strongest enforced, unsuppressed match.
func decide(s *parley.Screening) {
	for i := range s.Matches {
		m := &s.Matches[i]
		if m.Shadow || m.Suppressed || m.Decision == parley.ScreenNone {
			continue
		}
		if parley.ScreenRank(m.Decision) > parley.ScreenRank(s.Decision) {
			s.Decision, s.By = m.Decision, m
		}
	}
}

// Grounds are the grounds of an automated action taken on a screening
// decision: the terms of service (the platform's own initiative, fully
// automated), the category of the rule or bank that matched, and that
// rule or bank as the signal, with its version.
func Grounds(by *parley.ScreeningMatch) enforce.Grounds {
	g := enforce.Grounds{
		Ground:             sor.GroundIncompatibleContent,
		TermsGround:        TermsGround,
		Category:           sor.Category(by.Category),
		Source:             sor.SourceVoluntary,
		AutomatedDetection: true,
		Automation:         sor.AutomatedFully,
	}
	if g.Category == "" {
		g.Category = sor.CategoryOtherViolationTC
	}
	g.Signal = enforce.SignalOf(by)
	return g
}

// TermsGround names the clause of the terms an automated screening action
// applies. One clause for all of them keeps the statements honest: the
// category says what kind of content it was.
const TermsGround = "Section 4 (prohibited content) of the Parley Terms of Service"

func (s *Screener) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// BlockUpload records an upload the screen stopped: the image is kept,
// blocked (never shown), as evidence, with an automated BlockUpload action
// and its statement of reasons, which also counts a strike against the
// uploader.
func (s *Screener) BlockUpload(ctx context.Context, m *parley.Media, sc *parley.Screening) (*enforce.Action, error) {
	return s.Enforce.Apply(ctx, nil, enforce.Request{
		Kind:    enforce.BlockUpload,
		Target:  enforce.Target{Type: enforce.TargetMedia, MediaID: m.ID},
		Media:   m,
		Grounds: Grounds(sc.By),
		Note:    "stopped at upload: " + sc.By.Name + " " + sc.By.Detail,
	})
}

// ActOnPost takes the automated action a screening decision asks for on a
// message stored held (remove, or label and show): the statement of reasons
// names the rule or bank that matched.
func (s *Screener) ActOnPost(ctx context.Context, m *parley.Message, sc *parley.Screening) (*enforce.Action, error) {
	req := enforce.Request{
		Target:  enforce.Target{Type: enforce.TargetMessage, ChatID: m.ChatID, Seq: m.Seq},
		Grounds: Grounds(sc.By),
		Note:    "screened at posting: " + sc.By.Name + " " + sc.By.Detail,
	}
	switch sc.Decision {
	case parley.ScreenRemove:
		req.Kind = enforce.RemoveMessage
	case parley.ScreenLabel:
		req.Kind, req.Label = enforce.LabelMessage, sc.By.Label
		if req.Label == "" {
			req.Label = "Flagged by an automated check"
		}
	default:
		return nil, fmt.Errorf("screen: no automated action for decision %q", sc.Decision)
	}
	return s.Enforce.Apply(ctx, nil, req)
}

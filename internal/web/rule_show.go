package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/safety/rules"
	"parley/internal/safety/screen"
	"parley/internal/sor"
)

// rulePage is the data of a rule's page: its current version, what changed
// in each version, what it matched lately, and the forms to enable it,
// switch its mode and backtest it.
type rulePage struct {
	page
	ruleRow
	Versions []versionView
	Matches  []matchRow
	// Backtest is the report of a backtest asked for from this page.
	Backtest     *rules.BacktestReport
	BacktestForm *form
	// Switch carries a refused mode switch (someone saved a version
	// meanwhile).
	Switch *form
}

// versionView is one version of a rule with what changed from the one
// before, in words.
type versionView struct {
	*screen.RuleVersion
	By      string
	Changes []string
}

// matchRow is one recorded match of the rule.
type matchRow struct {
	*review.RecordedMatch
	Where  link
	Author string
	// Refused is a post the rule stopped: it was never stored, and its text
	// is kept with the match, for staff.
	Refused bool
}

// ruleMatchesShown is how many recent matches a rule's page lists.
const ruleMatchesShown = 50

// OtherMode is the mode the rule's switch moves it to.
func (p *rulePage) OtherMode() rules.Mode {
	if p.Mode == rules.ModeEnforce {
		return rules.ModeShadow
	}
	return rules.ModeEnforce
}

// ruleShow shows a rule.
func (s *Server) ruleShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadRulePage(r.Context(), r, u)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "rule_show", p)
	return nil
}

func (s *Server) loadRulePage(ctx context.Context, r *http.Request, u *parley.User) (*rulePage, error) {
	sr, versions, err := s.Rules.Find(ctx, u, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	matches, err := s.Review.Matches(ctx, u, parley.MatchRule, sr.ID, ruleMatchesShown)
	if err != nil {
		return nil, err
	}
	n := s.names(ctx)
	p := &rulePage{page: modPage("Rule "+sr.ID, "rules"), ruleRow: n.ruleRow(sr), BacktestForm: newForm(), Switch: newForm()}
	p.BacktestForm.Values["limit"] = fmt.Sprint(defaultBacktestLimit)
	for i, v := range versions {
		vv := versionView{RuleVersion: v, By: n.username(v.CreatedBy, "the system")}
		if i+1 < len(versions) {
			vv.Changes = ruleChanges(&versions[i+1].Rule, &v.Rule)
		} else {
			vv.Changes = []string{ruleSummary(&v.Rule)}
		}
		p.Versions = append(p.Versions, vv)
	}
	for _, m := range matches {
		p.Matches = append(p.Matches, n.matchRow(m))
	}
	return p, nil
}

// matchRow describes where a recorded match was: a stored message, a post
// refused before it was stored, or an image.
func (n *names) matchRow(m *review.RecordedMatch) matchRow {
	row := matchRow{RecordedMatch: m, Author: n.username(m.UserID, "unknown")}
	switch m.TargetType {
	case review.TargetMessage:
		if t, err := enforce.ParseTarget(enforce.TargetMessage, m.TargetID); err == nil {
			row.Where = n.target(t)
		}
	case review.TargetMedia:
		row.Where = link{Text: "Image " + shortID(m.TargetID)}
	default:
		row.Refused = true
		row.Where = link{Text: "A post refused in " + strings.TrimPrefix(n.target(enforce.Target{Type: enforce.TargetChat, ChatID: m.ChatID}).Text, "Chat "),
			URL: fmt.Sprintf("/chats/%d", m.ChatID)}
	}
	if row.Where.Text == "" {
		row.Where.Text = m.TargetType + " " + m.TargetID
	}
	return row
}

// ruleSummary says what the first version of a rule was.
func ruleSummary(r *rules.Rule) string {
	var parts []string
	for _, l := range []struct {
		n         int
		one, many string
	}{{len(r.Keywords), "keyword", "keywords"}, {len(r.Regexps), "regular expression", "regular expressions"},
		{len(r.URLs), "link", "links"}, {len(r.Domains), "domain", "domains"}} {
		if l.n > 0 {
			parts = append(parts, plural(int64(l.n), l.one, l.many))
		}
	}
	if r.Condition != "" {
		parts = append(parts, "a condition")
	}
	what := "nothing"
	if len(parts) > 0 {
		what = strings.Join(parts, ", ")
	}
	return fmt.Sprintf("Created in %s mode, matching %s; on a match: %s.", r.Mode, what, strings.ToLower(ruleActionLabel(r.Action)))
}

// ruleChanges says in words what changed from one version of a rule to
// the next.
func ruleChanges(prev, cur *rules.Rule) []string {
	var out []string
	if prev.Mode != cur.Mode {
		out = append(out, fmt.Sprintf("Switched from %s to %s mode.", prev.Mode, cur.Mode))
	}
	scalar := func(what, from, to string) {
		if from != to {
			out = append(out, fmt.Sprintf("%s: %s → %s.", what, quoteOr(from, "none"), quoteOr(to, "none")))
		}
	}
	scalar("Name", prev.Name, cur.Name)
	if prev.Action != cur.Action {
		out = append(out, fmt.Sprintf("On a match: %s → %s.", strings.ToLower(ruleActionLabel(prev.Action)), strings.ToLower(ruleActionLabel(cur.Action))))
	}
	scalar("Label", prev.Label, cur.Label)
	if prev.Category != cur.Category {
		out = append(out, fmt.Sprintf("Category: %s → %s.", quoteOr(categoryName(sor.Category(prev.Category)), "none"), quoteOr(categoryName(sor.Category(cur.Category)), "none")))
	}
	list := func(what string, from, to []string) {
		added, removed := listDiff(from, to)
		var parts []string
		if len(added) > 0 {
			parts = append(parts, "added "+quoteAll(added))
		}
		if len(removed) > 0 {
			parts = append(parts, "removed "+quoteAll(removed))
		}
		if len(parts) > 0 {
			out = append(out, what+": "+strings.Join(parts, "; ")+".")
		}
	}
	list("Keywords", prev.Keywords, cur.Keywords)
	list("Regular expressions", prev.Regexps, cur.Regexps)
	list("Links", prev.URLs, cur.URLs)
	list("Domains", prev.Domains, cur.Domains)
	switch {
	case prev.Condition == cur.Condition:
	case prev.Condition == "":
		out = append(out, "Condition added: "+quote(cur.Condition)+".")
	case cur.Condition == "":
		out = append(out, "Condition removed (it was "+quote(prev.Condition)+").")
	default:
		out = append(out, "Condition: "+quote(prev.Condition)+" → "+quote(cur.Condition)+".")
	}
	if len(out) == 0 {
		out = append(out, "Saved again with no change.")
	}
	return out
}

// listDiff returns the entries of to that are not in from, and those of
// from that are not in to, each in its list's order.
func listDiff(from, to []string) (added, removed []string) {
	for _, e := range to {
		if !slices.Contains(from, e) {
			added = append(added, e)
		}
	}
	for _, e := range from {
		if !slices.Contains(to, e) {
			removed = append(removed, e)
		}
	}
	return added, removed
}

func quote(s string) string { return "“" + s + "”" }

func quoteOr(s, none string) string {
	if s == "" {
		return none
	}
	return quote(s)
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}

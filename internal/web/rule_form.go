package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"parley"
	"parley/internal/api"
	"parley/internal/safety/rules"
	"parley/internal/safety/screen"
)

// Screening rules are for moderators and admins (screen.RuleBook decides).
// A rule is written in one form, for a new rule and for the next version of
// a stored one: one textarea per list, one entry a line. The same form runs
// the draft over the stored posts (a backtest) without saving it.

// ruleFormPage is the data of the form that writes a rule.
type ruleFormPage struct {
	page
	Form *form
	// Editing is the rule whose next version the form writes; nil for a
	// new rule.
	Editing *screen.StoredRule
	// Conflict is set when someone saved another version since the form
	// was opened.
	Conflict bool
	// Backtest is what the draft would have matched, when asked.
	Backtest *rules.BacktestReport
}

// ruleFields are the fields of the rule form. "version" is the version the
// edit started from, sent back so that the rule book can refuse a stale
// edit; "limit" is how many stored posts a backtest scans.
var ruleFields = []string{"id", "version", "name", "keywords", "regexps", "urls", "domains", "condition",
	"action", "mode", "category", "label", "limit"}

// ruleListFields are the fields that hold one entry a line.
var ruleListFields = []string{"keywords", "regexps", "urls", "domains"}

// defaultBacktestLimit is how many stored posts a backtest scans unless the
// moderator asks for another number.
const defaultBacktestLimit = 10000

// PostURL is where the form is sent.
func (p *ruleFormPage) PostURL() string {
	if p.Editing != nil {
		return ruleURL(p.Editing.ID) + "/edit"
	}
	return "/moderation/rules"
}

// NextVersion is the version that saving the form stores.
func (p *ruleFormPage) NextVersion() int {
	if p.Editing == nil {
		return 1
	}
	return p.Editing.Version + 1
}

func (p *ruleFormPage) ActionOptions() []option { return ruleActionOptions() }
func (p *ruleFormPage) ModeOptions() []option   { return ruleModeOptions }

// CategoryOptions are the Transparency Database's categories, and the
// rule's own when it is not one of them (the API takes any text), so that
// an edit never drops it unseen.
func (p *ruleFormPage) CategoryOptions() []option {
	opts := categoryOptions("None: “Other violation of the terms”")
	if v := p.Form.Get("category"); v != "" && !slices.ContainsFunc(opts, func(o option) bool { return o.Value == v }) {
		opts = append(opts, option{v, v})
	}
	return opts
}

// ruleActionLabels say what a rule's match does to a post.
var ruleActionLabels = map[rules.Action]string{
	rules.ActionBlock:  "Refuse the post",
	rules.ActionRemove: "Remove it, with a statement of reasons",
	rules.ActionHold:   "Hold it for review",
	rules.ActionLabel:  "Show it with a label",
}

func ruleActionLabel(a rules.Action) string { return labelOr(ruleActionLabels, a) }

func ruleActionOptions() []option {
	opts := []option{{"", "Choose what a match does"}}
	for _, a := range []rules.Action{rules.ActionHold, rules.ActionLabel, rules.ActionRemove, rules.ActionBlock} {
		opts = append(opts, option{string(a), ruleActionLabels[a]})
	}
	return opts
}

var ruleModeOptions = []option{
	{string(rules.ModeShadow), "Shadow: record what it matches, act on nothing"},
	{string(rules.ModeEnforce), "Enforce: act on what it matches"},
}

// ruleURL is the address of a rule's page.
func ruleURL(id string) string { return "/moderation/rules/" + url.PathEscape(id) }

// ruleDraftBacktest runs the rule in the form over the stored posts and
// shows the form again with the report; nothing is saved.
func (s *Server) ruleDraftBacktest(w http.ResponseWriter, r *http.Request, u *parley.User, p *ruleFormPage, rule rules.Rule, lines map[string][]int) error {
	limit, err := backtestLimit(p.Form)
	if err != nil {
		return s.renderRuleForm(w, r, p, err, rule.ID, lines)
	}
	if rule.ID == "" {
		rule.ID = "draft" // a draft may be tried before it has a name
	}
	rule.Version = 0
	rep, err := s.Rules.Backtest(r.Context(), u, rule, limit)
	if err != nil {
		return s.renderRuleForm(w, r, p, err, rule.ID, lines)
	}
	p.Backtest = rep
	s.render(w, r, http.StatusOK, "rule_form", p)
	return nil
}

// renderRuleForm shows the rule form again with the rule book's refusal
// next to the field at fault, or returns the error when the form cannot
// show it.
func (s *Server) renderRuleForm(w http.ResponseWriter, r *http.Request, p *ruleFormPage, err error, id string, lines map[string][]int) error {
	if !formError(err) || parley.ErrorCode(err) == parley.EForbidden {
		return err
	}
	if parley.ErrorCode(err) == parley.ENotFound && p.Editing != nil {
		return err // the rule is gone
	}
	p.Conflict = parley.ErrorCode(err) == parley.EConflict && p.Editing != nil
	failRule(p.Form, err, id, lines)
	s.render(w, r, api.StatusOf(err), "rule_form", p)
	return nil
}

// ruleFromForm reads a rule from the form. Each list takes one entry a
// line; blank lines are skipped, and lines records the line of each entry
// so that a refusal of "regexps[2]" can name the line the moderator sees.
func ruleFromForm(f *form) (rules.Rule, map[string][]int) {
	r := rules.Rule{
		ID:        strings.TrimSpace(f.Get("id")),
		Name:      strings.TrimSpace(f.Get("name")),
		Condition: strings.TrimSpace(f.Get("condition")),
		Action:    rules.Action(f.Get("action")),
		Mode:      rules.Mode(f.Get("mode")),
		Category:  f.Get("category"),
		Label:     strings.TrimSpace(f.Get("label")),
	}
	lines := map[string][]int{}
	lists := map[string]*[]string{"keywords": &r.Keywords, "regexps": &r.Regexps, "urls": &r.URLs, "domains": &r.Domains}
	for _, name := range ruleListFields {
		*lists[name], lines[name] = splitLines(f.Get(name))
	}
	return r, lines
}

// splitLines returns the non-blank lines of s, trimmed, with their line
// numbers (from 1).
func splitLines(s string) (entries []string, lines []int) {
	for i, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			entries = append(entries, l)
			lines = append(lines, i+1)
		}
	}
	return entries, lines
}

// setRuleForm fills the rule form in with r.
func setRuleForm(f *form, r *rules.Rule) {
	f.Values["id"] = r.ID
	f.Values["version"] = strconv.Itoa(r.Version)
	f.Values["name"] = r.Name
	f.Values["keywords"] = strings.Join(r.Keywords, "\n")
	f.Values["regexps"] = strings.Join(r.Regexps, "\n")
	f.Values["urls"] = strings.Join(r.URLs, "\n")
	f.Values["domains"] = strings.Join(r.Domains, "\n")
	f.Values["condition"] = r.Condition
	f.Values["action"] = string(r.Action)
	f.Values["mode"] = string(r.Mode)
	f.Values["category"] = r.Category
	f.Values["label"] = r.Label
}

// failRule records a refusal of the rule book on the rule form. The rule
// compiler names the rule and the field in its messages ("rule "x":
// regexps[2] `(` does not compile…"); on the form, next to the field, the
// message says which line instead: "Line 3: `(` does not compile…".
func failRule(f *form, err error, id string, lines map[string][]int) {
	field := parley.ErrorField(err)
	msg := strings.TrimPrefix(parley.ErrorMessage(err), fmt.Sprintf("rule %q: ", id))
	base := baseField(field)
	switch {
	case base != field:
		i, _ := strconv.Atoi(strings.Trim(field[len(base):], "[]."))
		line := i + 1
		if ls := lines[base]; i < len(ls) {
			line = ls[i]
		}
		msg = fmt.Sprintf("Line %d: %s", line, strings.TrimPrefix(msg, field+" "))
	case field != "":
		msg = upperFirst(msg)
	}
	f.fail(&parley.Error{Code: parley.ErrorCode(err), Field: base, Message: msg}, nil)
}

// upperFirst starts s with a capital letter.
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// backtestLimit reads how many posts a backtest scans.
func backtestLimit(f *form) (int, error) {
	v := strings.TrimSpace(f.Get("limit"))
	if v == "" {
		return defaultBacktestLimit, nil
	}
	n, err := strconv.Atoi(strings.ReplaceAll(v, ",", ""))
	if err != nil || n < 1 || n > screen.MaxBacktestMessages {
		return 0, parley.FieldError("limit", "give the number of posts to scan, from 1 to %d", screen.MaxBacktestMessages)
	}
	return n, nil
}

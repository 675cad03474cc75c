package rules

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"parley"
)

// goodRule is a rule that compiles; each error case changes one thing.
func goodRule() Rule {
	return Rule{ID: "spam-1", Version: 2, Name: "Crypto spam", Keywords: []string{"free crypto"},
		Action: ActionHold, Mode: ModeEnforce, Category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}
}

func TestCompileRefusesBadRules(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(r *Rule)
		field string
		msg   []string // substrings of the message
	}{
		{"no id", func(r *Rule) { r.ID = "" }, "id", []string{"no id"}},
		{"id with a space", func(r *Rule) { r.ID = "spam 1" }, "id", []string{`"spam 1"`, "spaces"}},
		{"version 0", func(r *Rule) { r.Version = 0 }, "version", []string{`"spam-1"`, "count from 1"}},
		{"unknown action", func(r *Rule) { r.Action = "ban" }, "action", []string{`"spam-1"`, `"ban" is unknown`}},
		{"no action", func(r *Rule) { r.Action = "" }, "action", []string{"required"}},
		{"unknown mode", func(r *Rule) { r.Mode = "dry-run" }, "mode", []string{`"dry-run" is unknown`}},
		{"no mode", func(r *Rule) { r.Mode = "" }, "mode", []string{"required"}},
		{"label without text", func(r *Rule) { r.Action = ActionLabel }, "label", []string{"required"}},
		{"nothing to match", func(r *Rule) { r.Keywords = nil }, "keywords", []string{"can never match"}},
		{"empty keyword", func(r *Rule) { r.Keywords = []string{"ok", " "} }, "keywords[1]", []string{`"spam-1"`, "keywords[1] is empty"}},
		{"invisible keyword", func(r *Rule) { r.Keywords = []string{"\u200b\u200d"} }, "keywords[0]", []string{"only invisible"}},
		{"one-letter keyword", func(r *Rule) { r.Keywords = []string{"A"} }, "keywords[0]", []string{"too short"}},
		{"huge keyword", func(r *Rule) { r.Keywords = []string{strings.Repeat("ab", 200)} }, "keywords[0]", []string{"400 bytes", "limit is 256"}},
		{"regexp syntax", func(r *Rule) { r.Regexps = []string{`ok`, `(free`} }, "regexps[1]",
			[]string{`"spam-1"`, "regexps[1]", "missing closing )", "at byte 0"}},
		{"regexp bad escape", func(r *Rule) { r.Regexps = []string{`free\C`} }, "regexps[0]", []string{"invalid escape sequence", "at byte 4"}},
		{"regexp repeat count", func(r *Rule) { r.Regexps = []string{`a{1001}`} }, "regexps[0]", []string{"invalid repeat count"}},
		{"regexp nested repeat", func(r *Rule) { r.Regexps = []string{`(a{100}){100}`} }, "regexps[0]", []string{"invalid repeat count"}},
		{"regexp too large", func(r *Rule) {
			r.Regexps = []string{`[a-z]{1000}[0-9]{1000}\w{1000}x{1000}[A-Z]{1000}\s{1000}.{1000}[a-f]{1000}[0-7]{1000}[g-z]{1000}[ab]{10}`}
		},
			"regexps[0]", []string{"too large", "limit is 10000"}},
		{"regexp too large by unicode classes", func(r *Rule) { r.Regexps = []string{`\pL{100}`} }, "regexps[0]", []string{"too large"}},
		{"regexp matching everything", func(r *Rule) { r.Regexps = []string{`x*`} }, "regexps[0]", []string{"empty string"}},
		{"regexp too long", func(r *Rule) { r.Regexps = []string{strings.Repeat("a", MaxRegexpBytes+1)} }, "regexps[0]", []string{"1001 bytes"}},
		{"domain without dot", func(r *Rule) { r.Domains = []string{"evil"} }, "domains[0]", []string{`"spam-1"`, `"evil"`, "two labels"}},
		{"domain with path", func(r *Rule) { r.Domains = []string{"evil.example/join"} }, "domains[0]", []string{"has a path"}},
		{"domain with a space", func(r *Rule) { r.Domains = []string{"ev il.example"} }, "domains[0]", []string{"not a host name", "' '"}},
		{"domain with numeric tld", func(r *Rule) { r.Domains = []string{"1.2.3"} }, "domains[0]", []string{"not a valid host name"}},
		{"empty url", func(r *Rule) { r.URLs = []string{""} }, "urls[0]", []string{"is empty"}},
		{"url without host", func(r *Rule) { r.URLs = []string{"https:///join"} }, "urls[0]", []string{"two labels"}},
		{"condition syntax", func(r *Rule) { r.Condition = `account_age_days <` }, "condition",
			[]string{`"spam-1"`, "condition does not compile at line 1, column"}},
		{"condition unknown variable", func(r *Rule) { r.Condition = `account_age < 7` }, "condition",
			[]string{"line 1, column 1", "unknown name account_age"}},
		{"condition not boolean", func(r *Rule) { r.Condition = `account_age_days + 1` }, "condition", []string{"expected bool"}},
		{"condition wrong types", func(r *Rule) { r.Condition = `chat_kind == 1` }, "condition", []string{"mismatched types"}},
		{"condition too long", func(r *Rule) { r.Condition = strings.Repeat("true && ", 200) + "true" }, "condition", []string{"limit is 1000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := goodRule()
			tt.edit(&r)
			rs, err := Compile([]Rule{{ID: "other", Version: 1, Keywords: []string{"fine"}, Action: ActionLabel, Label: "x", Mode: ModeShadow}, r})
			if err == nil {
				t.Fatal("Compile accepted the rule")
			}
			if rs != nil {
				t.Error("Compile returned a RuleSet with its error")
			}
			var pe *parley.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *parley.Error", err, err)
			}
			if pe.Code != parley.EInvalid || pe.Field != tt.field {
				t.Errorf("code %q field %q, want %q %q", pe.Code, pe.Field, parley.EInvalid, tt.field)
			}
			for _, want := range tt.msg {
				if !strings.Contains(pe.Message, want) {
					t.Errorf("message %q does not contain %q", pe.Message, want)
				}
			}
		})
	}
}

func TestCompileRefusesDuplicateIDs(t *testing.T) {
	a, b := goodRule(), goodRule()
	b.Version = 3
	_, err := Compile([]Rule{a, b})
	if parley.ErrorCode(err) != parley.EInvalid || parley.ErrorField(err) != "id" ||
		!strings.Contains(parley.ErrorMessage(err), `rule "spam-1": id is used by two rules (positions 0 and 1)`) {
		t.Errorf("got %v", err)
	}
}

func TestCompileLimits(t *testing.T) {
	t.Run("keywords", func(t *testing.T) {
		r := goodRule()
		r.Keywords = make([]string, MaxKeywords+1)
		for i := range r.Keywords {
			r.Keywords[i] = fmt.Sprintf("kw%d", i)
		}
		_, err := Compile([]Rule{r})
		if !strings.Contains(parley.ErrorMessage(err), "more than 100000 keywords") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("regexps", func(t *testing.T) {
		var rules []Rule
		for i := range MaxRegexps/100 + 1 {
			r := goodRule()
			r.ID = fmt.Sprint("r", i)
			for j := range 100 {
				r.Regexps = append(r.Regexps, fmt.Sprintf(`x%dy%d`, i, j))
			}
			rules = append(rules, r)
		}
		_, err := Compile(rules)
		if !strings.Contains(parley.ErrorMessage(err), "more than 1000 regular expressions") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("rules", func(t *testing.T) {
		_, err := Compile(make([]Rule, MaxRules+1))
		if parley.ErrorCode(err) != parley.EInvalid || !strings.Contains(parley.ErrorMessage(err), "too many rules") {
			t.Errorf("got %v", err)
		}
	})
}

func TestCompileEmpty(t *testing.T) {
	rs := mustCompile(t)
	if res := rs.Screen("anything at all evil.example", Context{}); len(res.Matches) != 0 || res.Decision != ActionNone {
		t.Errorf("empty rule set matched: %+v", res)
	}
	var none *RuleSet
	if res := none.Screen("x", Context{}); len(res.Matches) != 0 {
		t.Errorf("nil rule set matched: %+v", res)
	}
}

// TestCompileCopiesRules checks that a RuleSet does not change when the
// caller reuses the slices it was compiled from.
func TestCompileCopiesRules(t *testing.T) {
	r := goodRule()
	r.Keywords = []string{"free crypto"}
	rs := mustCompile(t, r)
	r.Keywords[0] = "changed"
	res := rs.Screen("get FREE crypto now", Context{})
	if len(res.Matches) != 1 || res.Matches[0].Pattern != "free crypto" {
		t.Errorf("matches %+v", res.Matches)
	}
	if got := rs.Rules()[0].Keywords[0]; got != "free crypto" {
		t.Errorf("Rules() reports keyword %q", got)
	}
}

// TestCompileDefangedEntries checks that staff may paste defanged
// indicators, as threat-intelligence feeds publish them.
func TestCompileDefangedEntries(t *testing.T) {
	r := goodRule()
	r.Keywords = nil
	r.Domains = []string{"evil[.]example", "*.bad(dot)example", "https://www.worse.example/"}
	r.URLs = []string{"hxxps://t[.]me/scamchannel#top"}
	rs := mustCompile(t, r)
	for _, text := range []string{"evil.example", "x.bad.example", "worse.example", "t.me/scamchannel"} {
		if res := rs.Screen(text, Context{}); len(res.Matches) != 1 {
			t.Errorf("%q: matches %+v", text, res.Matches)
		}
	}
}

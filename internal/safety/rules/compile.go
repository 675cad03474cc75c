package rules

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/coregx/ahocorasick"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/wasilibs/go-re2"
	"github.com/wasilibs/go-re2/experimental"

	"parley"
)

// Limits on what Compile accepts. They keep a rule set's memory and the
// time to screen one post bounded whatever staff type into the rule editor:
// the automaton grows with the keywords' bytes, the RE2 set with the
// regular expressions' programs, and a condition runs for every post of a
// rule that has no patterns.
const (
	MaxRules          = 10_000
	MaxKeywords       = 100_000 // over all rules, before removing duplicates
	MaxKeywordBytes   = 256     // one keyword, normalised
	MinKeywordBytes   = 2       // one keyword, normalised: a single letter would hit every post
	MaxRegexps        = 1_000   // over all rules
	MaxRegexpBytes    = 1_000   // one regular expression, as written
	MaxRegexpSize     = 10_000  // one regular expression, compiled: see programSize
	MaxLinks          = 500_000 // URLs and domains over all rules
	MaxConditionBytes = 1_000
	maxConditionNodes = 200
	maxLinkBytes      = 2_000
	maxIDBytes        = 128
	maxTextBytes      = 1_000 // Name, Category, Label
)

// RuleSet is a compiled, immutable set of rules. It is safe for concurrent
// use: Screen and Backtest only read it, and each call takes its working
// buffers from a pool.
type RuleSet struct {
	rules []compiledRule
	index map[string]int // rule ID → position in rules

	// One Aho-Corasick automaton over the distinct normalised keywords of
	// all rules; acRefs[pattern id] lists the rules and keywords behind
	// each pattern.
	ac     *ahocorasick.Automaton
	acRefs [][]ref

	// One RE2 set over the distinct regular expressions of all rules, and
	// the same expressions compiled by the standard library, used if the
	// set cannot finish a post (RE2 ran out of DFA memory).
	reSet  *experimental.Set
	reStd  []*regexp.Regexp
	reRefs [][]ref

	domains map[string][]ref    // host key of a listed domain → rules
	urls    map[string][]urlRef // host key of a listed URL → paths and rules
	cond    []int32             // rules with a condition and no patterns
	pool    sync.Pool           // *scratch
}

// ref points at one pattern of one rule: rules[rule] and the index of the
// pattern in its Keywords, Regexps, URLs or Domains.
type ref struct {
	rule, idx int32
}

// urlRef is a listed URL below a host: its path prefix and rule.
type urlRef struct {
	path string
	ref
}

// Compile checks and compiles rules into a RuleSet. It either returns a
// complete RuleSet or an *parley.Error with code EInvalid whose Field names
// the field of the rule (e.g. "regexps[2]") and whose Message names the rule
// ID and says what is wrong and where; nothing is half-applied. An empty
// list compiles to a RuleSet that matches nothing.
func Compile(rules []Rule) (*RuleSet, error) {
	if len(rules) > MaxRules {
		return nil, parley.Errorf(parley.EInvalid, "too many rules: %d, the limit is %d", len(rules), MaxRules)
	}
	rs := &RuleSet{
		rules:   make([]compiledRule, len(rules)),
		index:   make(map[string]int, len(rules)),
		domains: map[string][]ref{},
		urls:    map[string][]urlRef{},
	}
	var (
		keywords   []string // distinct normalised keywords, by pattern id
		keywordIDs = map[string]int{}
		regexps    []string // distinct regular expressions, by set index
		regexpIDs  = map[string]int{}
		nKeywords  int
		nLinks     int
		tmp        []byte
	)
	for i := range rules {
		r := &rules[i]
		if err := checkRuleFields(r); err != nil {
			return nil, err
		}
		if j, dup := rs.index[r.ID]; dup {
			return nil, ruleError(r, "id", "is used by two rules (positions %d and %d)", j, i)
		}
		rs.index[r.ID] = i
		rs.rules[i].Rule = cloneRule(r)
		if len(r.Keywords)+len(r.Regexps)+len(r.URLs)+len(r.Domains) == 0 {
			if r.Condition == "" {
				return nil, ruleError(r, "keywords", "are missing: the rule has no keywords, regexps, urls, domains or condition, so it can never match")
			}
			rs.cond = append(rs.cond, int32(i))
		}

		nKeywords += len(r.Keywords)
		if nKeywords > MaxKeywords {
			return nil, ruleError(r, "keywords", "bring the rule set to more than %d keywords", MaxKeywords)
		}
		for j, kw := range r.Keywords {
			if strings.TrimSpace(kw) == "" {
				return nil, ruleError(r, fieldName("keywords", j), "is empty")
			}
			norm := string(appendNormalized(tmp[:0:0], kw, &tmp))
			switch {
			case norm == "":
				return nil, ruleError(r, fieldName("keywords", j), "%q holds only invisible characters", kw)
			case len(norm) < MinKeywordBytes:
				return nil, ruleError(r, fieldName("keywords", j), "%q normalises to %q, which is too short: it would match almost every post", kw, norm)
			case len(norm) > MaxKeywordBytes:
				return nil, ruleError(r, fieldName("keywords", j), "is %d bytes long once normalised, the limit is %d", len(norm), MaxKeywordBytes)
			}
			id, ok := keywordIDs[norm]
			if !ok {
				id = len(keywords)
				keywordIDs[norm] = id
				keywords = append(keywords, norm)
				rs.acRefs = append(rs.acRefs, nil)
			}
			rs.acRefs[id] = appendRef(rs.acRefs[id], ref{int32(i), int32(j)})
		}

		if len(regexps)+len(r.Regexps) > MaxRegexps {
			return nil, ruleError(r, "regexps", "bring the rule set to more than %d regular expressions", MaxRegexps)
		}
		for j, pattern := range r.Regexps {
			id, ok := regexpIDs[pattern]
			if !ok {
				std, err := checkRegexp(pattern)
				if err != "" {
					return nil, ruleError(r, fieldName("regexps", j), "%s", err)
				}
				id = len(regexps)
				regexpIDs[pattern] = id
				regexps = append(regexps, pattern)
				rs.reStd = append(rs.reStd, std)
				rs.reRefs = append(rs.reRefs, nil)
			}
			rs.reRefs[id] = appendRef(rs.reRefs[id], ref{int32(i), int32(j)})
		}

		nLinks += len(r.URLs) + len(r.Domains)
		if nLinks > MaxLinks {
			return nil, ruleError(r, "urls", "and domains bring the rule set to more than %d urls and domains", MaxLinks)
		}
		for j, u := range r.URLs {
			e, err := parseLinkEntry(u, true)
			if err != "" {
				return nil, ruleError(r, fieldName("urls", j), "%q %s", u, err)
			}
			rs.urls[e.key] = append(rs.urls[e.key], urlRef{e.path, ref{int32(i), int32(j)}})
		}
		for j, d := range r.Domains {
			e, err := parseLinkEntry(d, false)
			if err != "" {
				return nil, ruleError(r, fieldName("domains", j), "%q %s", d, err)
			}
			rs.domains[e.key] = appendRef(rs.domains[e.key], ref{int32(i), int32(j)})
		}

		if r.Condition != "" {
			prog, err := compileCondition(r.Condition)
			if err != "" {
				return nil, ruleError(r, "condition", "%s", err)
			}
			rs.rules[i].cond = prog
		}
	}

	if len(keywords) > 0 {
		ac, err := buildAutomaton(keywords)
		if err != nil {
			return nil, parley.Errorf(parley.EInvalid, "the keywords of the rule set could not be compiled: %v", err)
		}
		rs.ac = ac
	}
	if len(regexps) > 0 {
		set, err := compileSet(regexps)
		if err != nil {
			// Find the expression RE2 refuses, to name it.
			for id, pattern := range regexps {
				if _, err := re2.Compile(pattern); err != nil {
					ref := rs.reRefs[id][0]
					return nil, ruleError(&rules[ref.rule], fieldName("regexps", int(ref.idx)),
						"%s is not accepted by RE2: %v", quotePattern(pattern), err)
				}
			}
			return nil, parley.Errorf(parley.EInvalid,
				"the %d regular expressions of the rule set are too large for one RE2 set: %v", len(regexps), err)
		}
		rs.reSet = set
	}
	rs.pool.New = func() any { return &scratch{seen: make([]uint32, len(rs.rules))} }
	return rs, nil
}

// appendRef appends r to refs unless the same rule is already there: a rule
// listing one keyword twice, or two spellings of it, needs one entry. Rules
// are compiled in order, so the same rule can only be the last entry.
func appendRef(refs []ref, r ref) []ref {
	if len(refs) > 0 && refs[len(refs)-1].rule == r.rule {
		return refs
	}
	return append(refs, r)
}

// cloneRule copies r's slices, so that a caller changing its rules after
// Compile cannot change what a Match reports.
func cloneRule(r *Rule) Rule {
	c := *r
	c.Keywords = append([]string(nil), r.Keywords...)
	c.Regexps = append([]string(nil), r.Regexps...)
	c.URLs = append([]string(nil), r.URLs...)
	c.Domains = append([]string(nil), r.Domains...)
	return c
}

// ruleError is the EInvalid error for a field of rule r.
func ruleError(r *Rule, field, format string, args ...any) *parley.Error {
	return &parley.Error{
		Code:    parley.EInvalid,
		Field:   field,
		Message: fmt.Sprintf("rule %q: %s ", r.ID, field) + fmt.Sprintf(format, args...),
	}
}

// fieldName names element i of a list field, as "keywords[3]". It is
// called only on the way to an error, so that compiling a hundred thousand
// good keywords formats no names.
func fieldName(list string, i int) string {
	return list + "[" + strconv.Itoa(i) + "]"
}

// checkRuleFields checks everything of r but its patterns and condition.
func checkRuleFields(r *Rule) *parley.Error {
	switch {
	case r.ID == "":
		return &parley.Error{Code: parley.EInvalid, Field: "id", Message: "a rule has no id"}
	case len(r.ID) > maxIDBytes || !utf8.ValidString(r.ID):
		return &parley.Error{Code: parley.EInvalid, Field: "id",
			Message: fmt.Sprintf("rule id %.40q… is not valid UTF-8 of at most %d bytes", r.ID, maxIDBytes)}
	case strings.IndexFunc(r.ID, func(c rune) bool { return unicode.IsSpace(c) || !unicode.IsPrint(c) }) >= 0:
		return ruleError(r, "id", "may not contain spaces or control characters")
	case r.Version < 1:
		return ruleError(r, "version", "is %d; versions count from 1", r.Version)
	case len(r.Name) > maxTextBytes:
		return ruleError(r, "name", "is longer than %d bytes", maxTextBytes)
	case len(r.Category) > maxTextBytes:
		return ruleError(r, "category", "is longer than %d bytes", maxTextBytes)
	case len(r.Label) > maxTextBytes:
		return ruleError(r, "label", "is longer than %d bytes", maxTextBytes)
	}
	switch r.Action {
	case ActionBlock, ActionRemove, ActionHold:
	case ActionLabel:
		if strings.TrimSpace(r.Label) == "" {
			return ruleError(r, "label", "is required when the action is %q", ActionLabel)
		}
	case ActionNone:
		return ruleError(r, "action", "is required: block, remove, hold or label")
	default:
		return ruleError(r, "action", "%q is unknown: use block, remove, hold or label", r.Action)
	}
	switch r.Mode {
	case ModeEnforce, ModeShadow:
	case "":
		return ruleError(r, "mode", "is required: enforce or shadow")
	default:
		return ruleError(r, "mode", "%q is unknown: use enforce or shadow", r.Mode)
	}
	return nil
}

// checkRegexp checks one regular expression and returns it compiled by the
// standard library, or a message saying what is wrong and where. It accepts
// what both Go's parser and RE2 accept (the same syntax but for a few
// corners such as \C, which Go refuses), so the limits below can be checked
// on Go's parse tree.
func checkRegexp(pattern string) (re *regexp.Regexp, msg string) {
	defer func() {
		if p := recover(); p != nil {
			re, msg = nil, fmt.Sprintf("%s could not be compiled: %v", quotePattern(pattern), p)
		}
	}()
	if pattern == "" {
		return nil, "is empty"
	}
	if len(pattern) > MaxRegexpBytes {
		return nil, fmt.Sprintf("is %d bytes long, the limit is %d", len(pattern), MaxRegexpBytes)
	}
	parsed, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			where := ""
			if at := strings.Index(pattern, se.Expr); se.Expr != "" && at >= 0 {
				where = fmt.Sprintf(" at byte %d", at)
			}
			return nil, fmt.Sprintf("%s does not compile: %s%s: `%s`", quotePattern(pattern), se.Code, where, se.Expr)
		}
		return nil, fmt.Sprintf("%s does not compile: %v", quotePattern(pattern), err)
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return nil, fmt.Sprintf("%s does not compile: %v", quotePattern(pattern), err)
	}
	if n := programSize(prog); n > MaxRegexpSize {
		return nil, fmt.Sprintf("%s is too large: its program size is %d, the limit is %d (repetition counts such as {500} multiply the size, large character classes such as \\pL add to it)",
			quotePattern(pattern), n, MaxRegexpSize)
	}
	re, err = regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Sprintf("%s does not compile: %v", quotePattern(pattern), err)
	}
	if re.MatchString("") {
		return nil, fmt.Sprintf("%s matches the empty string, so it would match every post", quotePattern(pattern))
	}
	return re, ""
}

// programSize estimates the size of a regular expression's RE2 program
// from Go's: one per instruction, except that a character class costs one
// per two ranges, because RE2 compiles classes into UTF-8 byte automata and
// \pL, one instruction in Go, has some 650 ranges. The estimate is what
// keeps a rule from filling RE2's memory or blowing up its DFA on every post.
func programSize(prog *syntax.Prog) int {
	n := 0
	for _, inst := range prog.Inst {
		switch inst.Op {
		case syntax.InstRune:
			n += max(1, len(inst.Rune)/4)
		default:
			n++
		}
	}
	return n
}

// compileSet compiles the RE2 set, turning a panic of the library into an
// error.
func compileSet(patterns []string) (set *experimental.Set, err error) {
	defer func() {
		if p := recover(); p != nil {
			set, err = nil, fmt.Errorf("%v", p)
		}
	}()
	return experimental.CompileSet(patterns)
}

// buildAutomaton builds the keyword automaton, turning a panic of the
// library into an error.
func buildAutomaton(keywords []string) (ac *ahocorasick.Automaton, err error) {
	defer func() {
		if p := recover(); p != nil {
			ac, err = nil, fmt.Errorf("%v", p)
		}
	}()
	return ahocorasick.NewBuilder().AddStrings(keywords).Build()
}

// compileCondition compiles an expression over Context that must yield a
// bool, or returns a message saying what is wrong and where.
func compileCondition(src string) (prog *vm.Program, msg string) {
	defer func() {
		if p := recover(); p != nil {
			prog, msg = nil, fmt.Sprintf("could not be compiled: %v", p)
		}
	}()
	if len(src) > MaxConditionBytes {
		return nil, fmt.Sprintf("is %d bytes long, the limit is %d", len(src), MaxConditionBytes)
	}
	prog, err := expr.Compile(src, expr.Env(Context{}), expr.AsBool(), expr.MaxNodes(maxConditionNodes))
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, fmt.Sprintf("does not compile at line %d, column %d: %s", fe.Line, fe.Column+1, fe.Message)
		}
		return nil, "does not compile: " + strings.ReplaceAll(err.Error(), "\n", " ")
	}
	return prog, ""
}

// quotePattern quotes a regular expression for a message: in backquotes,
// which keep its backslashes readable, unless it holds a backquote or an
// unprintable character.
func quotePattern(p string) string {
	if strconv.CanBackquote(p) {
		return "`" + p + "`"
	}
	return strconv.Quote(p)
}

func itoa(n int) string { return strconv.Itoa(n) }

func quoteRune(r rune) string { return strconv.QuoteRune(r) }

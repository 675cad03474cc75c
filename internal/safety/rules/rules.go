// Package rules is the text screening engine of the safety system: rule sets
// of keyword lists, regular expressions, URL and domain lists and conditions
// on the context of a post, compiled once into one multi-pattern automaton,
// one RE2 set, two link maps and a handful of expression programs, then
// applied to every post before anyone can see it.
//
// The package is self-contained: it knows nothing of storage, HTTP or the
// posting path. Its caller loads rules, calls Compile, keeps the *RuleSet
// (swapping it atomically when rules change) and calls Screen for each post,
// or Backtest over stored messages before a rule is enabled.
//
// Matching works on two views of the text (see normalize.go): keywords on a
// normalised skeleton that folds case, accents, invisible characters,
// look-alike letters and digit-for-letter disguises; regular expressions and
// links on a clean view that is the text as written minus invisible
// characters and compatibility forms.
package rules

import "github.com/expr-lang/expr/vm"

// Action is what a matching rule asks for. The zero value, ActionNone, is
// the Decision of a post that no enforced rule matched.
type Action string

// The actions, from the strongest to the weakest. Screen's Decision is the
// strongest action among the enforced matches.
const (
	ActionBlock  Action = "block"  // refuse the post: it is never stored as visible
	ActionRemove Action = "remove" // store it, remove it at once, with a statement of reasons
	ActionHold   Action = "hold"   // keep it invisible until a moderator reviews it
	ActionLabel  Action = "label"  // show it with Rule.Label attached
	ActionNone   Action = ""       // no enforced rule matched
)

// rank orders actions for the Decision: a larger rank wins.
func (a Action) rank() int {
	switch a {
	case ActionBlock:
		return 4
	case ActionRemove:
		return 3
	case ActionHold:
		return 2
	case ActionLabel:
		return 1
	}
	return 0
}

// Mode says whether a rule acts. A new rule usually runs in shadow mode
// first: its matches are recorded beside real decisions, so moderators can
// see what it would do, but it never changes a Decision.
type Mode string

// The modes.
const (
	ModeEnforce Mode = "enforce"
	ModeShadow  Mode = "shadow"
)

// Kind names the part of a rule that matched.
type Kind string

// The kinds of match.
const (
	KindKeyword   Kind = "keyword"
	KindRegexp    Kind = "regex"
	KindURL       Kind = "url"
	KindDomain    Kind = "domain"
	KindCondition Kind = "condition" // a rule with a condition and no patterns
)

// Rule is one screening rule as staff write it. A rule matches a post when
// any of its patterns (keywords, regular expressions, URLs, domains) matches
// and its Condition, if it has one, is true. A rule with a Condition and no
// patterns matches on the Condition alone.
type Rule struct {
	// ID names the rule across its versions; Version counts its edits
	// (from 1). Every Match records both, so a decision can always be
	// traced to the exact text of the rule that made it.
	ID      string `json:"id"`
	Version int    `json:"version"`
	Name    string `json:"name,omitempty"`

	// Keywords are matched as substrings of the normalised text (see
	// Normalize) and are normalised the same way, so "fraud" also finds
	// "FRÁUD", "fr\u200baud", "frаud" with a Cyrillic а and "fr4ud". A
	// keyword that must stand alone as a word belongs in Regexps, with \b.
	Keywords []string `json:"keywords,omitempty"`

	// Regexps use RE2 syntax (Go's regexp syntax; Perl flags like (?i)) and
	// are matched against the clean view of the text: NFKC, invisible
	// characters removed, whitespace collapsed, case and letters as
	// written.
	Regexps []string `json:"regexps,omitempty"`

	// URLs match links in the text by host and path prefix: the entry
	// "t.me/joinchat/abc" matches "https://t.me/joinchat/abc",
	// "t.me/joinchat/abc/x" and "t.me/joinchat/abc?start=1", not
	// "t.me/joinchat/abcd" and not other hosts. Scheme, "www.", port and
	// fragment are ignored and paths compare without case. An entry
	// without a path matches every link to that exact host. A "://" after
	// the start of the path is part of it: "t.me/go?next=https://x.example"
	// lists that t.me link, with or without a scheme of its own.
	URLs []string `json:"urls,omitempty"`

	// Domains match a domain and all its subdomains in any link, e-mail
	// address or bare host name in the text ("evil.example/path",
	// "mail.evil.example", "evil[.]example", "hxxps://evil(.)example"),
	// never a different name that ends the same ("notevil.example"). A
	// leading "www." or "*." of an entry is ignored. Host names are
	// compared as skeletons (see Normalize), so look-alike spellings such
	// as "paypa1.example" or a Cyrillic "раураl.example" match
	// "paypal.example".
	Domains []string `json:"domains,omitempty"`

	// Condition is an expr-lang expression over the post's Context that
	// must be true for the rule to match, e.g.
	// `account_age_days < 7 && chat_kind == "channel"`. Variable names are
	// the expr tags of Context.
	Condition string `json:"condition,omitempty"`

	Action   Action `json:"action"`
	Mode     Mode   `json:"mode"`
	Category string `json:"category,omitempty"` // e.g. STATEMENT_CATEGORY_SCAMS_AND_FRAUD
	Label    string `json:"label,omitempty"`    // shown on the post, required for ActionLabel
}

// Context is what a Condition may look at: facts about the author and the
// chat of a post, supplied by the caller. Expressions name them by their
// expr tags (snake_case).
type Context struct {
	AccountAgeDays  float64 `expr:"account_age_days"` // days since the author's account was created
	ChatKind        string  `expr:"chat_kind"`        // "channel", "group", "direct" or "secret" (parley.ChatKind)
	SubscriberCount int64   `expr:"subscriber_count"` // members or subscribers of the chat
	Strikes         int     `expr:"strikes"`          // earlier enforcement actions against the author
	Country         string  `expr:"country"`          // ISO 3166-1 alpha-2 country of the author's account
	Verified        bool    `expr:"verified"`         // the author is a verified account
}

// Match is one rule that matched a post.
type Match struct {
	RuleID   string `json:"rule_id"`
	Version  int    `json:"version"`
	Action   Action `json:"action"`
	Mode     Mode   `json:"mode"`
	Category string `json:"category,omitempty"`
	Label    string `json:"label,omitempty"`
	// Kind and Pattern say what matched: the keyword, regular expression,
	// URL or domain as written in the rule, or the condition. When several
	// patterns of one rule match, the first found is reported, looking at
	// keywords, then regular expressions, then URLs, then domains.
	Kind    Kind   `json:"kind"`
	Pattern string `json:"pattern"`
}

// Result is the outcome of screening one post.
type Result struct {
	// Matches lists every matching rule, enforced and shadow, in the order
	// of the rules given to Compile.
	Matches []Match `json:"matches,omitempty"`
	// Decision is the strongest Action among the enforced matches
	// (block > remove > hold > label), ActionNone when there is none.
	// Shadow matches never change it.
	Decision Action `json:"decision"`
	// Errors lists rules whose condition failed while running (a bug in
	// the expression, such as a division by zero). Such a rule does not
	// match; the caller should log the error so the rule gets fixed.
	Errors []RuleError `json:"errors,omitempty"`
}

// RuleError is a condition that failed at run time.
type RuleError struct {
	RuleID  string `json:"rule_id"`
	Version int    `json:"version"`
	Message string `json:"message"`
}

// compiledRule is a Rule with its condition compiled.
type compiledRule struct {
	Rule
	cond *vm.Program // nil when the rule has no condition
}

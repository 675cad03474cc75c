package rules

import (
	"unicode/utf8"

	"parley"
)

// Messages yields stored messages for a backtest: their id, text and the
// Context they were posted in. It stops when yield returns false. The
// caller decides where they come from (a store query, a sample, a file).
type Messages func(yield func(id int64, text string, ctx Context) bool)

// BacktestSampleSize is the number of hits a BacktestReport keeps.
const BacktestSampleSize = 100

// backtestExcerptBytes bounds the text kept for each sampled hit.
const backtestExcerptBytes = 280

// BacktestReport is what a rule would have done to a set of messages.
type BacktestReport struct {
	RuleID  string `json:"rule_id"`
	Version int    `json:"version"`
	Scanned int64  `json:"scanned"` // messages looked at
	Hits    int64  `json:"hits"`    // messages the rule matched
	Errors  int64  `json:"errors"`  // messages on which the condition failed
	Sample  []Hit  `json:"sample"`  // the first BacktestSampleSize hits
}

// Hit is one message a backtested rule matched.
type Hit struct {
	ID      int64  `json:"id"`
	Kind    Kind   `json:"kind"`
	Pattern string `json:"pattern"`
	Excerpt string `json:"excerpt"` // the start of the message's text
}

// Backtest reports which of the messages the rule ruleID of rs would match,
// whatever its Mode: it is how a rule in shadow mode, or a draft, is judged
// against stored messages before it is enabled. It returns ENotFound if rs
// has no such rule.
func Backtest(rs *RuleSet, ruleID string, messages Messages) (BacktestReport, error) {
	i, ok := -1, false
	if rs != nil {
		i, ok = rs.index[ruleID]
	}
	if !ok {
		return BacktestReport{}, parley.Errorf(parley.ENotFound, "no rule %q in the rule set", ruleID)
	}
	r := &rs.rules[i]
	rep := BacktestReport{RuleID: r.ID, Version: r.Version}
	sc := rs.pool.Get().(*scratch)
	defer rs.pool.Put(sc)
	messages(func(id int64, text string, ctx Context) bool {
		rep.Scanned++
		rs.match(sc, text, ctx, int32(i))
		if len(sc.hits) == 0 {
			return true
		}
		h := sc.hits[0]
		matched, err := rs.check(sc, r)
		if err != nil {
			rep.Errors++
		}
		if !matched {
			return true
		}
		rep.Hits++
		if len(rep.Sample) < BacktestSampleSize {
			rep.Sample = append(rep.Sample, Hit{ID: id, Kind: h.kind, Pattern: r.pattern(h), Excerpt: excerpt(text)})
		}
		return true
	})
	return rep, nil
}

// excerpt cuts text to backtestExcerptBytes at a character boundary.
func excerpt(text string) string {
	if len(text) <= backtestExcerptBytes {
		return text
	}
	cut := backtestExcerptBytes
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

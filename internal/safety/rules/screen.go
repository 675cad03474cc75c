package rules

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/expr-lang/expr/vm"
)

// scratch holds the working buffers of one Screen call. RuleSet keeps them
// in a sync.Pool, so that screening a post that matches nothing allocates
// nothing in the steady state.
type scratch struct {
	kw, clean, link, host, tmp []byte

	// seen[rule] == gen when the rule already has a hit in this call: a
	// generation counter instead of clearing a slice as long as the rule
	// set for every post.
	seen []uint32
	gen  uint32
	hits []hit

	ctx Context // the call's Context, addressable for the expression VM
	vm  vm.VM
	ids []int
}

// hit is a rule whose patterns matched, before its condition is checked.
type hit struct {
	rule int32
	idx  int32 // the pattern's index in the rule's list of that kind
	kind Kind
}

func (sc *scratch) begin(ctx Context) {
	sc.gen++
	if sc.gen == 0 {
		clear(sc.seen)
		sc.gen = 1
	}
	sc.hits = sc.hits[:0]
	sc.ctx = ctx
}

// mark records the first hit of a rule; only, when not negative, restricts
// the call to one rule (for Backtest).
func (sc *scratch) mark(r ref, kind Kind, only int32) {
	if (only >= 0 && r.rule != only) || sc.seen[r.rule] == sc.gen {
		return
	}
	sc.seen[r.rule] = sc.gen
	sc.hits = append(sc.hits, hit{rule: r.rule, idx: r.idx, kind: kind})
}

// Screen applies every rule to one post and returns the matches and the
// Decision. It is safe for concurrent use. A nil RuleSet matches nothing.
func (rs *RuleSet) Screen(text string, ctx Context) Result {
	if rs == nil {
		return Result{}
	}
	sc := rs.pool.Get().(*scratch)
	defer rs.pool.Put(sc)
	rs.match(sc, text, ctx, -1)
	if len(sc.hits) == 0 {
		return Result{}
	}
	var res Result
	for _, h := range sc.hits {
		r := &rs.rules[h.rule]
		ok, err := rs.check(sc, r)
		if err != nil {
			res.Errors = append(res.Errors, RuleError{RuleID: r.ID, Version: r.Version, Message: err.Error()})
		}
		if !ok {
			continue
		}
		res.Matches = append(res.Matches, Match{
			RuleID:   r.ID,
			Version:  r.Version,
			Action:   r.Action,
			Mode:     r.Mode,
			Category: r.Category,
			Label:    r.Label,
			Kind:     h.kind,
			Pattern:  r.pattern(h),
		})
		if r.Mode == ModeEnforce && r.Action.rank() > res.Decision.rank() {
			res.Decision = r.Action
		}
	}
	return res
}

// match fills sc.hits with the rules whose patterns match text (or that
// have only a condition), in the order of the rules.
func (rs *RuleSet) match(sc *scratch, text string, ctx Context, only int32) {
	sc.begin(ctx)
	if rs.ac != nil {
		sc.kw = appendNormalized(sc.kw[:0], text, &sc.tmp)
		// Overlapping matches, because a rule must find "scam" in
		// "scammer" even when another rule lists "scammer": the leftmost
		// search would report only one of them.
		for _, m := range rs.ac.FindAllOverlapping(sc.kw) {
			for _, r := range rs.acRefs[m.PatternID] {
				sc.mark(r, KindKeyword, only)
			}
		}
	}
	if rs.reSet != nil || len(rs.urls) > 0 || len(rs.domains) > 0 {
		sc.clean = appendClean(sc.clean[:0], text, &sc.tmp)
	}
	if rs.reSet != nil && len(sc.clean) > 0 {
		ids, err := rs.reSet.FindAllWithError(sc.clean, -1)
		if err != nil {
			// RE2 gave up on this post (its DFA ran out of memory): ask
			// each expression separately, slower but complete.
			ids = rs.matchRegexpsOneByOne(sc)
		}
		slices.Sort(ids)
		for _, id := range ids {
			for _, r := range rs.reRefs[id] {
				sc.mark(r, KindRegexp, only)
			}
		}
	}
	if len(rs.urls) > 0 || len(rs.domains) > 0 {
		sc.link = appendLinkView(sc.link[:0], sc.clean)
		scanLinks(sc.link, func(host, path []byte) bool {
			sc.host = appendHostKey(sc.host[:0], host, &sc.tmp)
			rs.matchLink(sc, sc.host, path, only)
			return true
		})
	}
	for _, i := range rs.cond {
		sc.mark(ref{rule: i, idx: -1}, KindCondition, only)
	}
	slices.SortFunc(sc.hits, func(a, b hit) int { return cmp.Compare(a.rule, b.rule) })
}

// matchRegexpsOneByOne returns the ids of the regular expressions that
// match sc.clean, asking the standard library's compilation of each. It is
// the fallback when the RE2 set cannot finish a post.
func (rs *RuleSet) matchRegexpsOneByOne(sc *scratch) []int {
	ids := sc.ids[:0]
	for id, re := range rs.reStd {
		if re.Match(sc.clean) {
			ids = append(ids, id)
		}
	}
	sc.ids = ids
	return ids
}

// matchLink marks the rules listing the host (for URLs, with the path) or
// one of its parent domains.
func (rs *RuleSet) matchLink(sc *scratch, key, path []byte, only int32) {
	if len(rs.urls) > 0 {
		k := bytes.TrimPrefix(key, []byte("www."))
		for _, u := range rs.urls[string(k)] {
			if pathMatches(path, u.path) {
				sc.mark(u.ref, KindURL, only)
			}
		}
	}
	for len(rs.domains) > 0 {
		for _, r := range rs.domains[string(key)] {
			sc.mark(r, KindDomain, only)
		}
		dot := bytes.IndexByte(key, '.')
		if dot < 0 {
			return
		}
		key = key[dot+1:]
		if bytes.IndexByte(key, '.') < 0 {
			// A top-level domain alone is never listed.
			return
		}
	}
}

// check runs the rule's condition, if any, on sc.ctx.
func (rs *RuleSet) check(sc *scratch, r *compiledRule) (bool, error) {
	if r.cond == nil {
		return true, nil
	}
	out, err := sc.vm.Run(r.cond, &sc.ctx)
	if err != nil {
		return false, fmt.Errorf("condition failed: %w", err)
	}
	ok, _ := out.(bool)
	return ok, nil
}

// pattern is what a Match reports for hit h of rule r.
func (r *compiledRule) pattern(h hit) string {
	switch h.kind {
	case KindKeyword:
		return r.Keywords[h.idx]
	case KindRegexp:
		return r.Regexps[h.idx]
	case KindURL:
		return r.URLs[h.idx]
	case KindDomain:
		return r.Domains[h.idx]
	}
	return r.Condition
}

// Rules returns the rules of the set, in the order given to Compile.
func (rs *RuleSet) Rules() []Rule {
	if rs == nil {
		return nil
	}
	out := make([]Rule, len(rs.rules))
	for i := range rs.rules {
		out[i] = cloneRule(&rs.rules[i].Rule)
	}
	return out
}

package rules

import "testing"

// mustCompile compiles rules or fails the test.
func mustCompile(t testing.TB, rules ...Rule) *RuleSet {
	t.Helper()
	rs, err := Compile(rules)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return rs
}

// matchedIDs returns the IDs of the rules in res, in order.
func matchedIDs(res Result) []string {
	var ids []string
	for _, m := range res.Matches {
		ids = append(ids, m.RuleID)
	}
	return ids
}

package web

import (
	"testing"

	"parley/internal/sor"
)

// The forms offer the Transparency Database's categories and keywords, the
// ones hash banks accept too, each with a name for people.
func TestChoicesAreTheTransparencyDatabaseLists(t *testing.T) {
	if len(statementCategories) != 16 {
		t.Errorf("%d categories offered, the database has 16", len(statementCategories))
	}
	for _, c := range statementCategories {
		if !sor.IsCategory(c) || sor.CategoryLabel(c) == "" {
			t.Errorf("category %s is not one of the database's, or has no name", c)
		}
	}
	if len(statementKeywords) != 69 {
		t.Errorf("%d keywords offered, the database has 69", len(statementKeywords))
	}
	seen := map[sor.Keyword]bool{}
	for _, k := range statementKeywords {
		if !sor.IsKeyword(k) || seen[k] {
			t.Errorf("keyword %s is not one of the database's, or is offered twice", k)
		}
		seen[k] = true
	}
	if got := keywordLabel(sor.KeywordViolationEULaw); got != "Violation EU law" {
		t.Errorf("keywordLabel = %q", got)
	}
}

func TestBaseFieldDropsListIndexes(t *testing.T) {
	for in, want := range map[string]string{"territorial_scope.2": "territorial_scope", "keywords[1]": "keywords",
		"signal.kind": "signal.kind", "target.chat_id": "target.chat_id", "name": "name", "": ""} {
		if got := baseField(in); got != want {
			t.Errorf("baseField(%q) = %q, want %q", in, got, want)
		}
	}
}

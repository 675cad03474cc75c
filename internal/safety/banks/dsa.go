package banks

import "parley/internal/sor"

// The DSA Transparency Database's statement categories and category
// specifications (keywords), as internal/sor defines them (from
// shared/REGULATION.md and the Commission's app/Models/Statement.php). A
// block bank names the category and keywords that statements of reasons
// for its matches will carry.

// Categories are the STATEMENT_CATEGORY_* values.
var Categories = func() []string {
	var out []string
	for _, c := range sor.Categories() {
		out = append(out, string(c))
	}
	return out
}()

// Keywords are the KEYWORD_* values.
var Keywords = func() []string {
	var out []string
	for _, k := range sor.Keywords() {
		out = append(out, string(k))
	}
	return out
}()

// ValidCategory reports whether c is one of Categories.
func ValidCategory(c string) bool { return sor.IsCategory(sor.Category(c)) }

// ValidKeyword reports whether k is one of Keywords.
func ValidKeyword(k string) bool { return sor.IsKeyword(sor.Keyword(k)) }

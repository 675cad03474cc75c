package sor

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"parley"
)

// The limits of the Transparency Database. Lengths count characters (Unicode
// code points), as the database's validator does, not bytes.
const (
	MaxPUIDLength        = 500
	MaxShortTextLength   = 500  // grounds, *_other texts, source_identity, reference URL
	MaxExplanationLength = 2000 // illegal_content_explanation, incompatible_content_explanation
	MaxFactsLength       = 5000 // decision_facts
)

// The date ranges the database accepts, inclusive.
var (
	minContentDate     = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	minApplicationDate = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDate            = time.Date(2038, 1, 1, 0, 0, 0, 0, time.UTC)
)

// maxProblems bounds how many problems one statement reports. A statement
// with a thousand bad territorial_scope entries gets the first hundred and a
// note of how many more there were, not a megabyte of messages.
const maxProblems = 100

// Problems is everything wrong with a statement (or a batch), each problem an
// EInvalid *parley.Error whose Field names the JSON field as the
// Transparency Database names it: "puid", "content_type.1" for the second
// element of content_type, and "statements.3.puid" inside a batch. Those are
// the keys the database itself uses in its answers, so a field named by
// Validate and one named by the database read the same.
//
// Problems is an error. errors.As finds its first *parley.Error, so
// parley.ErrorCode, ErrorField and ErrorMessage work on it and report the
// first problem; AsError folds all of them into one *parley.Error.
type Problems []*parley.Error

// Error lists every problem on one line.
func (p Problems) Error() string {
	if len(p) == 0 {
		return "sor: no problems"
	}
	var b strings.Builder
	if len(p) == 1 {
		b.WriteString("sor: 1 problem: ")
	} else {
		fmt.Fprintf(&b, "sor: %d problems: ", len(p))
	}
	for i, e := range p {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (p Problems) Unwrap() []error {
	errs := make([]error, len(p))
	for i, e := range p {
		errs[i] = e
	}
	return errs
}

// Fields returns the field of each problem, in order.
func (p Problems) Fields() []string {
	fields := make([]string, len(p))
	for i, e := range p {
		fields[i] = e.Field
	}
	return fields
}

// AsError folds the problems into one EInvalid *parley.Error for a caller
// that shows a single message: the Field is the first problem's and the
// Message joins all messages. It returns nil for no problems.
func (p Problems) AsError() *parley.Error {
	if len(p) == 0 {
		return nil
	}
	msgs := make([]string, len(p))
	for i, e := range p {
		msgs[i] = e.Message
	}
	return &parley.Error{Code: parley.EInvalid, Field: p[0].Field, Message: strings.Join(msgs, "; ")}
}

// err returns p as an error, or a true nil when there are no problems (a nil
// Problems in an error interface would not compare equal to nil).
func (p Problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return p
}

// checker collects problems.
type checker struct {
	problems Problems
	dropped  int // problems past maxProblems, counted but not kept
}

func (c *checker) add(field, format string, args ...any) {
	if len(c.problems) >= maxProblems {
		c.dropped++
		return
	}
	c.problems = append(c.problems, parley.FieldError(field, format, args...))
}

// result returns the problems, with a last one saying how many were left out.
func (c *checker) result() Problems {
	if c.dropped > 0 {
		last := c.problems[len(c.problems)-1]
		c.problems = append(c.problems, parley.FieldError(last.Field, "and %d more problems not listed", c.dropped))
		c.dropped = 0
	}
	return c.problems
}

// Validate checks s against every rule of the Transparency Database (see
// docs/transparency-database.md for the list and where each is checked) and
// returns nil or Problems with everything wrong at once. It does not look for
// personal data; CheckPersonalData does, and Check does both.
//
// Validate is a little stricter than the database in a few places where the
// database would accept something meaningless: a *_other text without its
// *_OTHER value, the texts of the ground not chosen, a source_identity for a
// voluntary decision (all silently dropped by the database), duplicates in a
// list, an end date for a restriction that was not imposed or before the
// application date, content dated after the decision, and text that is not
// valid UTF-8 or holds a NUL character.
func (s *Statement) Validate() error {
	var c checker
	s.validate(&c)
	return c.result().err()
}

func (s *Statement) validate(c *checker) {
	// At least one restriction.
	if len(s.DecisionVisibility) == 0 && s.DecisionMonetary == "" && s.DecisionProvision == "" && s.DecisionAccount == "" {
		c.add("decision_visibility", "a statement needs at least one restriction: decision_visibility, decision_monetary, decision_provision or decision_account")
	}
	checkList(c, "decision_visibility", s.DecisionVisibility, visibilitySet, "a visibility restriction")
	checkOther(c, "decision_visibility_other", s.DecisionVisibilityOther, slices.Contains(s.DecisionVisibility, VisibilityOther), string(VisibilityOther))
	checkEnum(c, "decision_monetary", s.DecisionMonetary, monetarySet)
	checkOther(c, "decision_monetary_other", s.DecisionMonetaryOther, s.DecisionMonetary == MonetaryOther, string(MonetaryOther))
	checkEnum(c, "decision_provision", s.DecisionProvision, provisionSet)
	checkEnum(c, "decision_account", s.DecisionAccount, accountSet)
	checkEnum(c, "account_type", s.AccountType, accountTypes)

	// The ground and its texts.
	if s.DecisionGround == "" {
		c.add("decision_ground", "decision_ground is required: %s or %s", GroundIllegalContent, GroundIncompatibleContent)
	} else {
		checkEnum(c, "decision_ground", s.DecisionGround, groundSet)
	}
	if s.DecisionGroundReferenceURL != "" {
		checkText(c, "decision_ground_reference_url", s.DecisionGroundReferenceURL, MaxShortTextLength)
		if u, err := url.Parse(s.DecisionGroundReferenceURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			strings.ContainsAny(s.DecisionGroundReferenceURL, " \t\r\n") {
			c.add("decision_ground_reference_url", "decision_ground_reference_url must be an absolute http or https URL of the terms or the law relied on")
		}
	}
	illegal := s.DecisionGround == GroundIllegalContent
	incompatible := s.DecisionGround == GroundIncompatibleContent
	checkGroundText(c, "illegal_content_legal_ground", s.IllegalContentLegalGround, MaxShortTextLength, illegal, GroundIllegalContent)
	checkGroundText(c, "illegal_content_explanation", s.IllegalContentExplanation, MaxExplanationLength, illegal, GroundIllegalContent)
	checkGroundText(c, "incompatible_content_ground", s.IncompatibleContentGround, MaxShortTextLength, incompatible, GroundIncompatibleContent)
	checkGroundText(c, "incompatible_content_explanation", s.IncompatibleContentExplanation, MaxExplanationLength, incompatible, GroundIncompatibleContent)
	if s.IncompatibleContentIllegal != "" {
		if !incompatible {
			c.add("incompatible_content_illegal", "incompatible_content_illegal goes only with decision_ground %s; leave it out", GroundIncompatibleContent)
		} else {
			checkEnum(c, "incompatible_content_illegal", s.IncompatibleContentIllegal, yesNoSet)
		}
	}

	// What the decision is about.
	if len(s.ContentType) == 0 {
		c.add("content_type", "content_type is required: a list of at least one content type, such as %s", ContentText)
	}
	checkList(c, "content_type", s.ContentType, contentSet, "a content type")
	checkOther(c, "content_type_other", s.ContentTypeOther, slices.Contains(s.ContentType, ContentOther), string(ContentOther))
	if s.Category == "" {
		c.add("category", "category is required, such as %s", CategoryScamsAndFraud)
	} else {
		checkEnum(c, "category", s.Category, categorySet)
	}
	checkList(c, "category_addition", s.CategoryAddition, categorySet, "a category")
	checkList(c, "category_specification", s.CategorySpecification, keywordSet, "a category_specification keyword")
	checkOther(c, "category_specification_other", s.CategorySpecificationOther, slices.Contains(s.CategorySpecification, KeywordOther), string(KeywordOther))
	checkTerritory(c, s.TerritorialScope)
	checkLanguage(c, s.ContentLanguage)

	// When.
	content, contentOK := checkDate(c, "content_date", s.ContentDate, true, minContentDate)
	applied, appliedOK := checkDate(c, "application_date", s.ApplicationDate, true, minApplicationDate)
	if contentOK && appliedOK && content.After(applied) {
		c.add("content_date", "content_date %s is after application_date %s: content cannot be restricted before it was posted", s.ContentDate, s.ApplicationDate)
	}
	ends := []struct {
		field      string
		date       Date
		imposed    bool
		decisionOf string
	}{
		{"end_date_account_restriction", s.EndDateAccountRestriction, s.DecisionAccount != "", "decision_account"},
		{"end_date_monetary_restriction", s.EndDateMonetaryRestriction, s.DecisionMonetary != "", "decision_monetary"},
		{"end_date_service_restriction", s.EndDateServiceRestriction, s.DecisionProvision != "", "decision_provision"},
		{"end_date_visibility_restriction", s.EndDateVisibilityRestriction, len(s.DecisionVisibility) > 0, "decision_visibility"},
	}
	for _, e := range ends {
		if e.date == "" {
			continue
		}
		if !e.imposed {
			c.add(e.field, "%s is set but there is no %s: an end date needs its restriction", e.field, e.decisionOf)
		}
		end, ok := checkDate(c, e.field, e.date, false, time.Time{})
		if ok && appliedOK && end.Before(applied) {
			c.add(e.field, "%s %s is before application_date %s", e.field, e.date, s.ApplicationDate)
		}
	}

	// Facts, source and automation.
	if isBlank(s.DecisionFacts) {
		c.add("decision_facts", "decision_facts is required: the facts and circumstances relied on in taking the decision")
	} else {
		checkText(c, "decision_facts", s.DecisionFacts, MaxFactsLength)
	}
	if s.SourceType == "" {
		c.add("source_type", "source_type is required, such as %s", SourceVoluntary)
	} else {
		checkEnum(c, "source_type", s.SourceType, sourceSet)
	}
	if s.SourceIdentity != "" {
		if s.SourceType == SourceVoluntary {
			c.add("source_identity", "source_identity must be left out when source_type is %s: there is no notifier to name", SourceVoluntary)
		} else {
			checkText(c, "source_identity", s.SourceIdentity, MaxShortTextLength)
		}
	}
	if s.AutomatedDetection == "" {
		c.add("automated_detection", "automated_detection is required: Yes or No")
	} else {
		checkEnum(c, "automated_detection", s.AutomatedDetection, yesNoSet)
	}
	if s.AutomatedDecision == "" {
		c.add("automated_decision", "automated_decision is required: %s, %s or %s", AutomatedFully, AutomatedPartially, NotAutomated)
	} else {
		checkEnum(c, "automated_decision", s.AutomatedDecision, automationSet)
	}

	checkPUID(c, "puid", s.PUID)
}

// checkEnum reports a non-empty value outside its set. Small sets are listed
// in the message so that whoever reads it can fix the value at once.
func checkEnum[T ~string](c *checker, field string, value T, set map[T]bool) {
	if value == "" || set[value] {
		return
	}
	if len(set) <= 8 {
		c.add(field, "%s %q is not one of %s", field, value, strings.Join(sortedKeys(set), ", "))
	} else {
		c.add(field, "%s %q is not a value the Transparency Database knows", field, value)
	}
}

// checkList checks each element of a list against its set and refuses
// duplicates. Elements are named "field.index", as the database names them.
func checkList[T ~string](c *checker, field string, values []T, set map[T]bool, what string) {
	seen := make(map[T]int, len(values))
	for i, v := range values {
		if v != "" && set[v] {
			if _, dup := seen[v]; !dup {
				seen[v] = i
				continue
			}
		}
		name := fmt.Sprintf("%s.%d", field, i) // only for a problem: most lists have none
		switch {
		case v == "":
			c.add(name, "%s is empty; each element must be %s", name, what)
		case !set[v]:
			checkEnum(c, name, v, set)
		default:
			if j, dup := seen[v]; dup {
				c.add(name, "%s repeats %s (already at %s.%d)", name, v, field, j)
			} else {
				seen[v] = i
			}
		}
	}
}

// checkOther checks a *_other text: required when its *_OTHER value is
// chosen, and to be left out otherwise.
func checkOther(c *checker, field, text string, chosen bool, otherValue string) {
	switch {
	case chosen && isBlank(text):
		c.add(field, "%s is required when %s is chosen: say what the other value is", field, otherValue)
	case !chosen && text != "":
		c.add(field, "%s goes only with %s; leave it out or choose %s", field, otherValue, otherValue)
	case chosen:
		checkText(c, field, text, MaxShortTextLength)
	}
}

// checkGroundText checks a text of one ground: required for that ground and
// to be left out for the other.
func checkGroundText(c *checker, field, text string, max int, applies bool, ground DecisionGround) {
	switch {
	case applies && isBlank(text):
		c.add(field, "%s is required when decision_ground is %s", field, ground)
	case !applies && text != "":
		c.add(field, "%s goes only with decision_ground %s; leave it out", field, ground)
	case applies:
		checkText(c, field, text, max)
	}
}

// checkText checks that a free text is valid UTF-8 without NUL characters
// and at most max characters long.
func checkText(c *checker, field, text string, max int) {
	if !utf8.ValidString(text) {
		c.add(field, "%s is not valid UTF-8 text", field)
		return
	}
	if strings.IndexByte(text, 0) >= 0 {
		c.add(field, "%s holds a NUL character", field)
	}
	if n := utf8.RuneCountInString(text); n > max {
		c.add(field, "%s is %d characters long; the limit is %d", field, n, max)
	}
}

// isBlank reports whether a required text is missing: the database treats a
// text of only spaces as absent.
func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// checkDate checks a date's form and range and returns it when it is valid.
// Every date must be on or before 2038-01-01; min, when not zero, is the
// earliest allowed.
func checkDate(c *checker, field string, d Date, required bool, min time.Time) (time.Time, bool) {
	if d == "" {
		if required {
			c.add(field, "%s is required, as YYYY-MM-DD", field)
		}
		return time.Time{}, false
	}
	t, err := d.Time()
	if err != nil {
		c.add(field, "%s: %v", field, err)
		return time.Time{}, false
	}
	if !min.IsZero() && t.Before(min) {
		c.add(field, "%s %s is before %s, the earliest the Transparency Database accepts", field, d, min.Format(dateLayout))
		return t, false
	}
	if t.After(maxDate) {
		c.add(field, "%s %s is after %s, the latest the Transparency Database accepts", field, d, maxDate.Format(dateLayout))
		return t, false
	}
	return t, true
}

// checkTerritory checks territorial_scope: EU and EEA states by ISO 3166-1
// alpha-2 code, upper case, each once. The messages catch the usual slips:
// the EU's own "EL" for Greece, lower case, and states outside the EEA.
func checkTerritory(c *checker, scope []Country) {
	seen := make(map[Country]int, len(scope))
	for i, country := range scope {
		if _, dup := seen[country]; countrySet[country] && !dup {
			seen[country] = i
			continue
		}
		name := fmt.Sprintf("territorial_scope.%d", i)
		upper := Country(strings.ToUpper(string(country)))
		switch {
		case upper == "EL":
			c.add(name, "%s is %q: Greece is GR in the territorial scope (ISO 3166-1), not EL", name, country)
		case upper != country && countrySet[upper]:
			c.add(name, "%s is %q: country codes are upper case, %s", name, country, upper)
		case !countrySet[country]:
			c.add(name, "%s %q is not an EU or EEA state's two-letter code (AT … SK, IS, LI, NO)", name, country)
		default:
			if j, dup := seen[country]; dup {
				c.add(name, "%s repeats %s (already at territorial_scope.%d)", name, country, j)
			} else {
				seen[country] = i
			}
		}
	}
}

// checkLanguage checks content_language: an ISO 639-1 code in upper case.
func checkLanguage(c *checker, l Language) {
	switch upper := Language(strings.ToUpper(string(l))); {
	case l == "" || IsLanguage(l):
	case IsLanguage(upper):
		c.add("content_language", "content_language %q must be upper case: %s", l, upper)
	default:
		c.add("content_language", "content_language %q is not a two-letter ISO 639-1 code such as EN or DE", l)
	}
}

// checkPUID checks a platform unique identifier: present, at most 500
// characters, only ASCII letters, digits, '-' and '_'.
func checkPUID(c *checker, field, puid string) {
	if puid == "" {
		c.add(field, "%s is required: the platform's unique identifier of the statement", field)
		return
	}
	if len(puid) > MaxPUIDLength {
		c.add(field, "%s is %d characters long; the limit is %d", field, len(puid), MaxPUIDLength)
	}
	for i := 0; i < len(puid); i++ {
		if !isPUIDByte(puid[i]) {
			r, _ := utf8.DecodeRuneInString(puid[i:])
			c.add(field, "%s may hold only letters A-Z and a-z, digits, '-' and '_'; it has %q at byte %d", field, r, i)
			return
		}
	}
}

// isPUIDByte reports whether b may appear in a puid.
func isPUIDByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_'
}

// sortedKeys returns a set's members in order, for messages.
func sortedKeys[T ~string](set map[T]bool) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, string(k))
	}
	slices.Sort(keys)
	return keys
}

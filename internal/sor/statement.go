// Package sor holds Parley's statements of reasons (Article 17 of the EU
// Digital Services Act) in the form of the Commission's DSA Transparency
// Database, and everything needed to send them there, as Article 24(5)
// requires: validation against the database's rules, a check that refuses
// statements carrying what looks like personal data, a builder that writes
// the free texts from structured, non-personal facts, stable platform unique
// identifiers (puids), batching and a submission client that retries safely.
//
// The package is self-contained: it knows nothing of storage or of the
// enforcement service. Its caller (the enforcement service, the CLI) turns an
// enforcement action into a Decision, calls Build, stores the Statement with
// the action, and later hands pending statements to Client.Submit, recording
// per puid what the database answered. The sortest subpackage is a local
// stand-in for the database's API, for tests.
package sor

import (
	"fmt"
	"time"
)

// Statement is one statement of reasons as the Transparency Database's API
// takes it: its JSON encoding is exactly the API's statement object. Optional
// fields left empty are omitted from the JSON; required fields are always
// present, so that a missing value is reported by the database (and by
// Validate) rather than silently dropped.
//
// The field comments give the rule Validate checks; docs/transparency-
// database.md has the whole list.
type Statement struct {
	// The restrictions: at least one of the four kinds is required.
	DecisionVisibility      []DecisionVisibility `json:"decision_visibility,omitempty"`
	DecisionVisibilityOther string               `json:"decision_visibility_other,omitempty"` // with VisibilityOther only, ≤ 500
	DecisionMonetary        DecisionMonetary     `json:"decision_monetary,omitempty"`
	DecisionMonetaryOther   string               `json:"decision_monetary_other,omitempty"` // with MonetaryOther only, ≤ 500
	DecisionProvision       DecisionProvision    `json:"decision_provision,omitempty"`
	DecisionAccount         DecisionAccount      `json:"decision_account,omitempty"`
	AccountType             AccountType          `json:"account_type,omitempty"`

	// The ground, and the texts that go with it: the legal ground and
	// explanation for illegal content, the contractual ground and
	// explanation (and optionally whether the content is also illegal)
	// for content incompatible with the terms. The texts of the other
	// ground must be left out.
	DecisionGround                 DecisionGround `json:"decision_ground"`
	DecisionGroundReferenceURL     string         `json:"decision_ground_reference_url,omitempty"`    // http(s), ≤ 500
	IllegalContentLegalGround      string         `json:"illegal_content_legal_ground,omitempty"`     // ≤ 500
	IllegalContentExplanation      string         `json:"illegal_content_explanation,omitempty"`      // ≤ 2000
	IncompatibleContentGround      string         `json:"incompatible_content_ground,omitempty"`      // ≤ 500
	IncompatibleContentExplanation string         `json:"incompatible_content_explanation,omitempty"` // ≤ 2000
	IncompatibleContentIllegal     YesNo          `json:"incompatible_content_illegal,omitempty"`

	// What the decision is about.
	ContentType      []ContentType `json:"content_type"`
	ContentTypeOther string        `json:"content_type_other,omitempty"` // with ContentOther only, ≤ 500

	Category                   Category   `json:"category"`
	CategoryAddition           []Category `json:"category_addition,omitempty"`
	CategorySpecification      []Keyword  `json:"category_specification,omitempty"`
	CategorySpecificationOther string     `json:"category_specification_other,omitempty"` // with KeywordOther only, ≤ 500

	TerritorialScope []Country `json:"territorial_scope,omitempty"`
	ContentLanguage  Language  `json:"content_language,omitempty"`

	// When: the content's posting date (from 2000-01-01), the date the
	// decision took effect (from 2020-01-01), both up to 2038-01-01, and
	// the end of each restriction, empty for an indefinite one.
	ContentDate                  Date `json:"content_date"`
	ApplicationDate              Date `json:"application_date"`
	EndDateAccountRestriction    Date `json:"end_date_account_restriction,omitempty"`
	EndDateMonetaryRestriction   Date `json:"end_date_monetary_restriction,omitempty"`
	EndDateServiceRestriction    Date `json:"end_date_service_restriction,omitempty"`
	EndDateVisibilityRestriction Date `json:"end_date_visibility_restriction,omitempty"`

	// Facts and circumstances, where the information came from, and how
	// automated detection and decision were.
	DecisionFacts      string            `json:"decision_facts"` // ≤ 5000
	SourceType         SourceType        `json:"source_type"`
	SourceIdentity     string            `json:"source_identity,omitempty"` // left out for SourceVoluntary, ≤ 500
	AutomatedDetection YesNo             `json:"automated_detection"`
	AutomatedDecision  AutomatedDecision `json:"automated_decision"`

	// PUID is the platform's own identifier of this statement: unique for
	// the platform, never reused, ≤ 500 characters of [A-Za-z0-9_-]. See
	// MakePUID.
	PUID string `json:"puid"`
}

// Date is a calendar day in the API's form, YYYY-MM-DD. It is a string, not a
// time.Time, so that a statement decoded from JSON keeps exactly what was
// sent and Validate can say what is wrong with it; the empty Date means "not
// set" and is omitted from the JSON of optional fields.
type Date string

// dateLayout is the API's date format.
const dateLayout = "2006-01-02"

// DateOf returns the day of t in UTC. Every date of a statement is taken in
// UTC so that the content date and the application date of one decision
// never disagree because of a time zone. The zero time gives the empty Date.
func DateOf(t time.Time) Date {
	if t.IsZero() {
		return ""
	}
	return Date(t.UTC().Format(dateLayout))
}

// Time parses d as midnight UTC of its day. It refuses anything that is not
// exactly YYYY-MM-DD with a real month and day ("2024-02-30" is refused).
func (d Date) Time() (time.Time, error) {
	s := string(d)
	if len(s) != len(dateLayout) || s[4] != '-' || s[7] != '-' {
		return time.Time{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
	}
	for i := 0; i < len(s); i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			return time.Time{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
		}
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a calendar date", s)
	}
	return t, nil
}

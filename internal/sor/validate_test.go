package sor

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"parley"
)

// goodStatement is a statement that passes Check; each case of the table
// changes one thing. It is on the terms ground, with one restriction.
func goodStatement() Statement {
	return Statement{
		DecisionVisibility:             []DecisionVisibility{VisibilityContentRemoved},
		DecisionGround:                 GroundIncompatibleContent,
		IncompatibleContentGround:      "Section 4.2 (scams) of the Parley Terms of Service",
		IncompatibleContentExplanation: "The post advertised a crypto investment scheme that the terms forbid.",
		ContentType:                    []ContentType{ContentText},
		Category:                       CategoryScamsAndFraud,
		TerritorialScope:               []Country{"DE", "FR"},
		ContentDate:                    "2025-03-01",
		ApplicationDate:                "2025-03-02",
		DecisionFacts:                  "A text message matched text screening rule crypto-drainer (version 3).",
		SourceType:                     SourceVoluntary,
		AutomatedDetection:             Yes,
		AutomatedDecision:              AutomatedFully,
		PUID:                           "parleyeu-sor-42",
	}
}

// illegalStatement is goodStatement on the illegal-content ground.
func illegalStatement() Statement {
	s := goodStatement()
	s.DecisionGround = GroundIllegalContent
	s.IncompatibleContentGround, s.IncompatibleContentExplanation = "", ""
	s.IllegalContentLegalGround = "Article 5(4) of Directive 2011/93/EU"
	s.IllegalContentExplanation = "The image matched a hash bank of known illegal material."
	return s
}

func TestGoodStatementsPass(t *testing.T) {
	for name, s := range map[string]Statement{"terms": goodStatement(), "law": illegalStatement()} {
		if err := s.Check(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestValidateRules has, for every rule of the Transparency Database (and
// the few stricter ones of Validate), at least one case that passes and one
// that fails, named after the rule. A failing case names the field the
// problem must name and words its message must contain.
func TestValidateRules(t *testing.T) {
	type edit func(s *Statement)
	tests := []struct {
		rule  string
		base  func() Statement // goodStatement when nil
		edit  edit
		field string   // "" means the statement must pass
		msg   []string // substrings of the message
	}{
		// At least one restriction.
		{rule: "decision required/visibility alone", edit: func(s *Statement) {}},
		{rule: "decision required/monetary alone", edit: func(s *Statement) { s.DecisionVisibility = nil; s.DecisionMonetary = MonetarySuspension }},
		{rule: "decision required/provision alone", edit: func(s *Statement) { s.DecisionVisibility = nil; s.DecisionProvision = ProvisionTotalSuspension }},
		{rule: "decision required/account alone", edit: func(s *Statement) { s.DecisionVisibility = nil; s.DecisionAccount = AccountSuspended }},
		{rule: "decision required/all four", edit: func(s *Statement) {
			s.DecisionMonetary, s.DecisionProvision, s.DecisionAccount = MonetaryTermination, ProvisionPartialTermination, AccountTerminated
		}},
		{rule: "decision required/none", edit: func(s *Statement) { s.DecisionVisibility = nil }, field: "decision_visibility",
			msg: []string{"at least one restriction", "decision_account"}},
		{rule: "decision required/empty list", edit: func(s *Statement) { s.DecisionVisibility = []DecisionVisibility{} },
			field: "decision_visibility", msg: []string{"at least one restriction"}},

		// Enumerations of the restrictions.
		{rule: "decision_visibility enum/several", edit: func(s *Statement) {
			s.DecisionVisibility = []DecisionVisibility{VisibilityContentDemoted, VisibilityContentLabelled, VisibilityContentAgeRestricted}
		}},
		{rule: "decision_visibility enum/unknown", edit: func(s *Statement) {
			s.DecisionVisibility = []DecisionVisibility{VisibilityContentRemoved, "DECISION_VISIBILITY_HIDDEN"}
		}, field: "decision_visibility.1", msg: []string{`"DECISION_VISIBILITY_HIDDEN"`, "DECISION_VISIBILITY_CONTENT_REMOVED"}},
		{rule: "decision_visibility enum/empty element", edit: func(s *Statement) { s.DecisionVisibility = []DecisionVisibility{""} },
			field: "decision_visibility.0", msg: []string{"is empty"}},
		{rule: "decision_visibility no duplicates", edit: func(s *Statement) {
			s.DecisionVisibility = []DecisionVisibility{VisibilityContentRemoved, VisibilityContentRemoved}
		}, field: "decision_visibility.1", msg: []string{"repeats", "decision_visibility.0"}},
		{rule: "decision_monetary enum/unknown", edit: func(s *Statement) { s.DecisionMonetary = "fine" }, field: "decision_monetary",
			msg: []string{`"fine"`, "DECISION_MONETARY_SUSPENSION"}},
		{rule: "decision_provision enum/unknown", edit: func(s *Statement) { s.DecisionProvision = "DECISION_PROVISION_PAUSE" },
			field: "decision_provision", msg: []string{"DECISION_PROVISION_TOTAL_TERMINATION"}},
		{rule: "decision_account enum/unknown", edit: func(s *Statement) { s.DecisionAccount = "DECISION_ACCOUNT_BANNED" },
			field: "decision_account", msg: []string{"DECISION_ACCOUNT_SUSPENDED"}},
		{rule: "account_type enum/private", edit: func(s *Statement) { s.AccountType = AccountTypePrivate }},
		{rule: "account_type enum/unknown", edit: func(s *Statement) { s.AccountType = "ACCOUNT_TYPE_BOT" }, field: "account_type",
			msg: []string{"ACCOUNT_TYPE_BUSINESS"}},

		// *_OTHER needs its text, and the text needs its *_OTHER.
		{rule: "decision_visibility_other/given", edit: func(s *Statement) {
			s.DecisionVisibility = []DecisionVisibility{VisibilityOther}
			s.DecisionVisibilityOther = "Hidden from search"
		}},
		{rule: "decision_visibility_other/missing", edit: func(s *Statement) { s.DecisionVisibility = []DecisionVisibility{VisibilityOther} },
			field: "decision_visibility_other", msg: []string{"required", "DECISION_VISIBILITY_OTHER"}},
		{rule: "decision_visibility_other/blank", edit: func(s *Statement) {
			s.DecisionVisibility = []DecisionVisibility{VisibilityOther}
			s.DecisionVisibilityOther = "  \n"
		}, field: "decision_visibility_other", msg: []string{"required"}},
		{rule: "decision_visibility_other/without other", edit: func(s *Statement) { s.DecisionVisibilityOther = "Hidden" },
			field: "decision_visibility_other", msg: []string{"goes only with DECISION_VISIBILITY_OTHER"}},
		{rule: "decision_visibility_other/too long", edit: func(s *Statement) {
			s.DecisionVisibility = []DecisionVisibility{VisibilityOther}
			s.DecisionVisibilityOther = strings.Repeat("é", 501)
		}, field: "decision_visibility_other", msg: []string{"501 characters", "limit is 500"}},
		{rule: "decision_visibility_other/500 characters", edit: func(s *Statement) {
			s.DecisionVisibility = []DecisionVisibility{VisibilityOther}
			s.DecisionVisibilityOther = strings.Repeat("é", 500) // 1000 bytes: the limit counts characters
		}},
		{rule: "decision_monetary_other/given", edit: func(s *Statement) {
			s.DecisionMonetary, s.DecisionMonetaryOther = MonetaryOther, "Withholding of tips"
		}},
		{rule: "decision_monetary_other/missing", edit: func(s *Statement) { s.DecisionMonetary = MonetaryOther },
			field: "decision_monetary_other", msg: []string{"required", "DECISION_MONETARY_OTHER"}},
		{rule: "decision_monetary_other/without other", edit: func(s *Statement) {
			s.DecisionMonetary, s.DecisionMonetaryOther = MonetarySuspension, "x"
		}, field: "decision_monetary_other", msg: []string{"goes only with"}},
		{rule: "content_type_other/given", edit: func(s *Statement) {
			s.ContentType, s.ContentTypeOther = []ContentType{ContentText, ContentOther}, "channel"
		}},
		{rule: "content_type_other/missing", edit: func(s *Statement) { s.ContentType = []ContentType{ContentOther} },
			field: "content_type_other", msg: []string{"required", "CONTENT_TYPE_OTHER"}},
		{rule: "content_type_other/without other", edit: func(s *Statement) { s.ContentTypeOther = "channel" },
			field: "content_type_other", msg: []string{"goes only with CONTENT_TYPE_OTHER"}},
		{rule: "category_specification_other/given", edit: func(s *Statement) {
			s.CategorySpecification, s.CategorySpecificationOther = []Keyword{KeywordOther}, "Wallet drainers"
		}},
		{rule: "category_specification_other/missing", edit: func(s *Statement) { s.CategorySpecification = []Keyword{KeywordPhishing, KeywordOther} },
			field: "category_specification_other", msg: []string{"required", "KEYWORD_OTHER"}},
		{rule: "category_specification_other/without other", edit: func(s *Statement) { s.CategorySpecificationOther = "x" },
			field: "category_specification_other", msg: []string{"goes only with KEYWORD_OTHER"}},

		// The ground and its texts.
		{rule: "decision_ground required/missing", edit: func(s *Statement) {
			s.DecisionGround, s.IncompatibleContentGround, s.IncompatibleContentExplanation = "", "", ""
		}, field: "decision_ground", msg: []string{"required"}},
		{rule: "decision_ground enum/unknown", edit: func(s *Statement) { s.DecisionGround = "DECISION_GROUND_POLICY" },
			field: "decision_ground", msg: []string{"DECISION_GROUND_ILLEGAL_CONTENT"}},
		{rule: "illegal ground texts/given", base: illegalStatement, edit: func(s *Statement) {}},
		{rule: "illegal ground texts/legal ground missing", base: illegalStatement, edit: func(s *Statement) { s.IllegalContentLegalGround = "" },
			field: "illegal_content_legal_ground", msg: []string{"required", "DECISION_GROUND_ILLEGAL_CONTENT"}},
		{rule: "illegal ground texts/explanation missing", base: illegalStatement, edit: func(s *Statement) { s.IllegalContentExplanation = " " },
			field: "illegal_content_explanation", msg: []string{"required"}},
		{rule: "illegal ground texts/legal ground too long", base: illegalStatement, edit: func(s *Statement) {
			s.IllegalContentLegalGround = strings.Repeat("a", 501)
		}, field: "illegal_content_legal_ground", msg: []string{"limit is 500"}},
		{rule: "illegal ground texts/explanation too long", base: illegalStatement, edit: func(s *Statement) {
			s.IllegalContentExplanation = strings.Repeat("a", 2001)
		}, field: "illegal_content_explanation", msg: []string{"2001 characters", "limit is 2000"}},
		{rule: "illegal ground texts/explanation 2000", base: illegalStatement, edit: func(s *Statement) {
			s.IllegalContentExplanation = strings.Repeat("a", 2000)
		}},
		{rule: "illegal ground texts/terms texts left out", base: illegalStatement, edit: func(s *Statement) {
			s.IncompatibleContentGround = "Section 4"
		}, field: "incompatible_content_ground", msg: []string{"goes only with decision_ground DECISION_GROUND_INCOMPATIBLE_CONTENT"}},
		{rule: "incompatible ground texts/ground missing", edit: func(s *Statement) { s.IncompatibleContentGround = "" },
			field: "incompatible_content_ground", msg: []string{"required", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}},
		{rule: "incompatible ground texts/explanation missing", edit: func(s *Statement) { s.IncompatibleContentExplanation = "" },
			field: "incompatible_content_explanation", msg: []string{"required"}},
		{rule: "incompatible ground texts/ground too long", edit: func(s *Statement) { s.IncompatibleContentGround = strings.Repeat("a", 501) },
			field: "incompatible_content_ground", msg: []string{"limit is 500"}},
		{rule: "incompatible ground texts/explanation too long", edit: func(s *Statement) {
			s.IncompatibleContentExplanation = strings.Repeat("a", 2001)
		}, field: "incompatible_content_explanation", msg: []string{"limit is 2000"}},
		{rule: "incompatible ground texts/legal texts left out", edit: func(s *Statement) { s.IllegalContentExplanation = "because" },
			field: "illegal_content_explanation", msg: []string{"goes only with decision_ground DECISION_GROUND_ILLEGAL_CONTENT"}},
		{rule: "incompatible_content_illegal/yes", edit: func(s *Statement) { s.IncompatibleContentIllegal = Yes }},
		{rule: "incompatible_content_illegal/no", edit: func(s *Statement) { s.IncompatibleContentIllegal = No }},
		{rule: "incompatible_content_illegal/unknown", edit: func(s *Statement) { s.IncompatibleContentIllegal = "yes" },
			field: "incompatible_content_illegal", msg: []string{`"yes"`, "No, Yes"}},
		{rule: "incompatible_content_illegal/with illegal ground", base: illegalStatement, edit: func(s *Statement) { s.IncompatibleContentIllegal = Yes },
			field: "incompatible_content_illegal", msg: []string{"goes only with"}},
		{rule: "decision_ground_reference_url/https", edit: func(s *Statement) {
			s.DecisionGroundReferenceURL = "https://parley.example/terms#section-4.2"
		}},
		{rule: "decision_ground_reference_url/not a url", edit: func(s *Statement) { s.DecisionGroundReferenceURL = "terms section 4" },
			field: "decision_ground_reference_url", msg: []string{"absolute http or https URL"}},
		{rule: "decision_ground_reference_url/other scheme", edit: func(s *Statement) { s.DecisionGroundReferenceURL = "ftp://parley.example/terms" },
			field: "decision_ground_reference_url", msg: []string{"absolute http or https URL"}},
		{rule: "decision_ground_reference_url/too long", edit: func(s *Statement) {
			s.DecisionGroundReferenceURL = "https://parley.example/" + strings.Repeat("t", 480)
		}, field: "decision_ground_reference_url", msg: []string{"limit is 500"}},

		// What the decision is about.
		{rule: "content_type required/missing", edit: func(s *Statement) { s.ContentType = nil }, field: "content_type",
			msg: []string{"required"}},
		{rule: "content_type enum/several", edit: func(s *Statement) {
			s.ContentType = []ContentType{ContentImage, ContentVideo, ContentAudio, ContentSyntheticMedia}
		}},
		{rule: "content_type enum/unknown", edit: func(s *Statement) { s.ContentType = []ContentType{"CONTENT_TYPE_STICKER"} },
			field: "content_type.0", msg: []string{`"CONTENT_TYPE_STICKER"`, "CONTENT_TYPE_TEXT"}},
		{rule: "content_type no duplicates", edit: func(s *Statement) { s.ContentType = []ContentType{ContentText, ContentImage, ContentText} },
			field: "content_type.2", msg: []string{"repeats CONTENT_TYPE_TEXT"}},
		{rule: "category required/missing", edit: func(s *Statement) { s.Category = "" }, field: "category", msg: []string{"required"}},
		{rule: "category enum/unknown", edit: func(s *Statement) { s.Category = "STATEMENT_CATEGORY_SPAM" }, field: "category",
			msg: []string{`"STATEMENT_CATEGORY_SPAM"`, "not a value"}},
		{rule: "category_addition enum/known", edit: func(s *Statement) {
			s.CategoryAddition = []Category{CategoryCyberViolence, CategoryProtectionOfMinors}
		}},
		{rule: "category_addition enum/unknown", edit: func(s *Statement) { s.CategoryAddition = []Category{CategoryViolence, "SPAM"} },
			field: "category_addition.1", msg: []string{`"SPAM"`}},
		{rule: "category_addition no duplicates", edit: func(s *Statement) { s.CategoryAddition = []Category{CategoryViolence, CategoryViolence} },
			field: "category_addition.1", msg: []string{"repeats"}},
		{rule: "category_specification enum/known", edit: func(s *Statement) {
			s.CategorySpecification = []Keyword{KeywordPhishing, KeywordPyramidSchemes}
		}},
		{rule: "category_specification enum/unknown", edit: func(s *Statement) { s.CategorySpecification = []Keyword{"KEYWORD_SPAM"} },
			field: "category_specification.0", msg: []string{`"KEYWORD_SPAM"`}},
		{rule: "category_specification no duplicates", edit: func(s *Statement) {
			s.CategorySpecification = []Keyword{KeywordPhishing, KeywordPhishing}
		}, field: "category_specification.1", msg: []string{"repeats"}},

		// Territorial scope and language.
		{rule: "territorial_scope/optional", edit: func(s *Statement) { s.TerritorialScope = nil }},
		{rule: "territorial_scope/greece is GR", edit: func(s *Statement) { s.TerritorialScope = []Country{"GR", "CY"} }},
		{rule: "territorial_scope/whole EEA", edit: func(s *Statement) { s.TerritorialScope = EEACountries() }},
		{rule: "territorial_scope/greece is not EL", edit: func(s *Statement) { s.TerritorialScope = []Country{"DE", "EL"} },
			field: "territorial_scope.1", msg: []string{"Greece is GR", "not EL"}},
		{rule: "territorial_scope/upper case", edit: func(s *Statement) { s.TerritorialScope = []Country{"de"} },
			field: "territorial_scope.0", msg: []string{"upper case, DE"}},
		{rule: "territorial_scope/outside the EEA", edit: func(s *Statement) { s.TerritorialScope = []Country{"CH"} },
			field: "territorial_scope.0", msg: []string{`"CH"`, "not an EU or EEA state"}},
		{rule: "territorial_scope/united kingdom", edit: func(s *Statement) { s.TerritorialScope = []Country{"GB"} },
			field: "territorial_scope.0", msg: []string{"not an EU or EEA state"}},
		{rule: "territorial_scope no duplicates", edit: func(s *Statement) { s.TerritorialScope = []Country{"DE", "FR", "DE"} },
			field: "territorial_scope.2", msg: []string{"repeats DE", "territorial_scope.0"}},
		{rule: "content_language/upper case code", edit: func(s *Statement) { s.ContentLanguage = "EN" }},
		{rule: "content_language/greek", edit: func(s *Statement) { s.ContentLanguage = "EL" }},
		{rule: "content_language/lower case", edit: func(s *Statement) { s.ContentLanguage = "de" }, field: "content_language",
			msg: []string{`"de"`, "upper case: DE"}},
		{rule: "content_language/three letters", edit: func(s *Statement) { s.ContentLanguage = "DEU" }, field: "content_language",
			msg: []string{"ISO 639-1"}},
		{rule: "content_language/not a language", edit: func(s *Statement) { s.ContentLanguage = "XX" }, field: "content_language",
			msg: []string{`"XX"`}},

		// Dates.
		{rule: "content_date required/missing", edit: func(s *Statement) { s.ContentDate = "" }, field: "content_date",
			msg: []string{"required", "YYYY-MM-DD"}},
		{rule: "content_date format/with time", edit: func(s *Statement) { s.ContentDate = "2025-03-01T10:00:00Z" },
			field: "content_date", msg: []string{"YYYY-MM-DD"}},
		{rule: "content_date format/no leading zero", edit: func(s *Statement) { s.ContentDate = "2025-3-01" },
			field: "content_date", msg: []string{"YYYY-MM-DD"}},
		{rule: "content_date format/not a day", edit: func(s *Statement) { s.ContentDate = "2024-02-30" },
			field: "content_date", msg: []string{"not a calendar date"}},
		{rule: "content_date format/leap day", edit: func(s *Statement) { s.ContentDate = "2024-02-29" }},
		{rule: "content_date range/earliest", edit: func(s *Statement) { s.ContentDate = "2000-01-01" }},
		{rule: "content_date range/too early", edit: func(s *Statement) { s.ContentDate = "1999-12-31" }, field: "content_date",
			msg: []string{"before 2000-01-01"}},
		{rule: "application_date required/missing", edit: func(s *Statement) { s.ApplicationDate = "" }, field: "application_date",
			msg: []string{"required"}},
		{rule: "application_date format/slashes", edit: func(s *Statement) { s.ApplicationDate = "2025/03/02" },
			field: "application_date", msg: []string{"YYYY-MM-DD"}},
		{rule: "application_date range/earliest", edit: func(s *Statement) { s.ContentDate, s.ApplicationDate = "2019-05-01", "2020-01-01" }},
		{rule: "application_date range/too early", edit: func(s *Statement) { s.ContentDate, s.ApplicationDate = "2019-05-01", "2019-12-31" },
			field: "application_date", msg: []string{"before 2020-01-01"}},
		{rule: "dates range/latest", edit: func(s *Statement) { s.ContentDate, s.ApplicationDate = "2038-01-01", "2038-01-01" }},
		{rule: "dates range/too late", edit: func(s *Statement) { s.ContentDate, s.ApplicationDate = "2025-01-01", "2038-01-02" },
			field: "application_date", msg: []string{"after 2038-01-01"}},
		{rule: "content before application/same day", edit: func(s *Statement) { s.ContentDate = s.ApplicationDate }},
		{rule: "content before application/after", edit: func(s *Statement) { s.ContentDate = "2025-03-03" }, field: "content_date",
			msg: []string{"after application_date"}},
		{rule: "end dates/visibility", edit: func(s *Statement) { s.EndDateVisibilityRestriction = "2025-04-01" }},
		{rule: "end dates/all four", edit: func(s *Statement) {
			s.DecisionMonetary, s.DecisionProvision, s.DecisionAccount = MonetarySuspension, ProvisionPartialSuspension, AccountSuspended
			s.EndDateVisibilityRestriction, s.EndDateMonetaryRestriction = "2025-04-01", "2025-04-02"
			s.EndDateServiceRestriction, s.EndDateAccountRestriction = "2025-04-03", "2025-03-02"
		}},
		{rule: "end dates/format", edit: func(s *Statement) { s.EndDateVisibilityRestriction = "01.04.2025" },
			field: "end_date_visibility_restriction", msg: []string{"YYYY-MM-DD"}},
		{rule: "end dates/too late", edit: func(s *Statement) { s.EndDateVisibilityRestriction = "2040-01-01" },
			field: "end_date_visibility_restriction", msg: []string{"after 2038-01-01"}},
		{rule: "end dates/before application", edit: func(s *Statement) {
			s.DecisionAccount, s.EndDateAccountRestriction = AccountSuspended, "2025-03-01"
		}, field: "end_date_account_restriction", msg: []string{"before application_date"}},
		{rule: "end dates/without restriction", edit: func(s *Statement) { s.EndDateMonetaryRestriction = "2025-04-01" },
			field: "end_date_monetary_restriction", msg: []string{"no decision_monetary"}},
		{rule: "end dates/service without provision", edit: func(s *Statement) { s.EndDateServiceRestriction = "2025-04-01" },
			field: "end_date_service_restriction", msg: []string{"no decision_provision"}},

		// Facts, source, automation.
		{rule: "decision_facts required/missing", edit: func(s *Statement) { s.DecisionFacts = "" }, field: "decision_facts",
			msg: []string{"required"}},
		{rule: "decision_facts length/5000", edit: func(s *Statement) { s.DecisionFacts = strings.Repeat("f", 5000) }},
		{rule: "decision_facts length/5001", edit: func(s *Statement) { s.DecisionFacts = strings.Repeat("f", 5001) },
			field: "decision_facts", msg: []string{"5001 characters", "limit is 5000"}},
		{rule: "text encoding/invalid utf-8", edit: func(s *Statement) { s.DecisionFacts = "facts \xff" }, field: "decision_facts",
			msg: []string{"not valid UTF-8"}},
		{rule: "text encoding/nul", edit: func(s *Statement) { s.DecisionFacts = "facts \x00" }, field: "decision_facts",
			msg: []string{"NUL"}},
		{rule: "source_type required/missing", edit: func(s *Statement) { s.SourceType = "" }, field: "source_type", msg: []string{"required"}},
		{rule: "source_type enum/article 16", edit: func(s *Statement) { s.SourceType = SourceArticle16 }},
		{rule: "source_type enum/other notification", edit: func(s *Statement) { s.SourceType = SourceTypeOtherNotification }},
		{rule: "source_type enum/unknown", edit: func(s *Statement) { s.SourceType = "SOURCE_USER_REPORT" }, field: "source_type",
			msg: []string{"SOURCE_ARTICLE_16", "SOURCE_VOLUNTARY"}},
		{rule: "source_identity/trusted flagger", edit: func(s *Statement) {
			s.SourceType, s.SourceIdentity = SourceTrustedFlagger, "Internet Watch Foundation"
		}},
		{rule: "source_identity/left out when voluntary", edit: func(s *Statement) { s.SourceIdentity = "Internet Watch Foundation" },
			field: "source_identity", msg: []string{"left out", "SOURCE_VOLUNTARY"}},
		{rule: "source_identity/too long", edit: func(s *Statement) {
			s.SourceType, s.SourceIdentity = SourceTrustedFlagger, strings.Repeat("x", 501)
		}, field: "source_identity", msg: []string{"limit is 500"}},
		{rule: "automated_detection required/missing", edit: func(s *Statement) { s.AutomatedDetection = "" },
			field: "automated_detection", msg: []string{"required", "Yes or No"}},
		{rule: "automated_detection enum/no", edit: func(s *Statement) { s.AutomatedDetection = No }},
		{rule: "automated_detection enum/lower case", edit: func(s *Statement) { s.AutomatedDetection = "yes" },
			field: "automated_detection", msg: []string{`"yes"`}},
		{rule: "automated_decision required/missing", edit: func(s *Statement) { s.AutomatedDecision = "" },
			field: "automated_decision", msg: []string{"required"}},
		{rule: "automated_decision enum/partially", edit: func(s *Statement) { s.AutomatedDecision = AutomatedPartially }},
		{rule: "automated_decision enum/not automated", edit: func(s *Statement) { s.AutomatedDecision = NotAutomated }},
		{rule: "automated_decision enum/old yes", edit: func(s *Statement) { s.AutomatedDecision = "Yes" },
			field: "automated_decision", msg: []string{"AUTOMATED_DECISION_FULLY"}},

		// The puid.
		{rule: "puid required/missing", edit: func(s *Statement) { s.PUID = "" }, field: "puid", msg: []string{"required"}},
		{rule: "puid pattern/all allowed characters", edit: func(s *Statement) { s.PUID = "AZaz09-_" }},
		{rule: "puid pattern/dot", edit: func(s *Statement) { s.PUID = "parley.42" }, field: "puid", msg: []string{"'.'", "byte 6"}},
		{rule: "puid pattern/space", edit: func(s *Statement) { s.PUID = "parley 42" }, field: "puid", msg: []string{"' '"}},
		{rule: "puid pattern/trailing newline", edit: func(s *Statement) { s.PUID = "parley42\n" }, field: "puid", msg: []string{`'\n'`}},
		{rule: "puid pattern/non-ascii letter", edit: func(s *Statement) { s.PUID = "parléy" }, field: "puid", msg: []string{"'é'"}},
		{rule: "puid length/500", edit: func(s *Statement) { s.PUID = strings.Repeat("p", 500) }},
		{rule: "puid length/501", edit: func(s *Statement) { s.PUID = strings.Repeat("p", 501) }, field: "puid",
			msg: []string{"501 characters", "limit is 500"}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			if seen[tt.rule] {
				t.Fatalf("two cases named %q", tt.rule)
			}
			seen[tt.rule] = true
			base := goodStatement
			if tt.base != nil {
				base = tt.base
			}
			s := base()
			tt.edit(&s)
			err := s.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want no problem, got %v", err)
				}
				return
			}
			var problems Problems
			if !errors.As(err, &problems) {
				t.Fatalf("want Problems naming %s, got %v", tt.field, err)
			}
			i := slices.Index(problems.Fields(), tt.field)
			if i < 0 {
				t.Fatalf("no problem names %s: %v", tt.field, err)
			}
			p := problems[i]
			if p.Code != parley.EInvalid {
				t.Errorf("code %q, want %q", p.Code, parley.EInvalid)
			}
			for _, want := range tt.msg {
				if !strings.Contains(p.Message, want) {
					t.Errorf("message %q does not contain %q", p.Message, want)
				}
			}
		})
	}
}

// TestValidateReportsEverythingAtOnce checks that one call names every wrong
// field, in the order of the statement's fields, and that the error works
// with the parley error helpers.
func TestValidateReportsEverythingAtOnce(t *testing.T) {
	err := (&Statement{}).Validate()
	want := []string{"decision_visibility", "decision_ground", "content_type", "category", "content_date",
		"application_date", "decision_facts", "source_type", "automated_detection", "automated_decision", "puid"}
	var problems Problems
	if !errors.As(err, &problems) {
		t.Fatalf("got %v", err)
	}
	if got := problems.Fields(); !slices.Equal(got, want) {
		t.Errorf("fields %v\nwant   %v", got, want)
	}
	if parley.ErrorCode(err) != parley.EInvalid || parley.ErrorField(err) != "decision_visibility" {
		t.Errorf("parley helpers see code %q field %q", parley.ErrorCode(err), parley.ErrorField(err))
	}
	one := problems.AsError()
	if one.Field != "decision_visibility" || !strings.Contains(one.Message, "puid is required") || strings.Count(one.Message, "; ") != len(want)-1 {
		t.Errorf("AsError = %+v", one)
	}
	if !strings.HasPrefix(err.Error(), "sor: 11 problems: ") {
		t.Errorf("Error() = %q", err.Error())
	}
}

// TestValidateBoundsProblems checks that a statement with thousands of bad
// list elements gets a bounded list of problems that says how many more
// there were.
func TestValidateBoundsProblems(t *testing.T) {
	s := goodStatement()
	for i := 0; i < 5000; i++ {
		s.TerritorialScope = append(s.TerritorialScope, "XX")
	}
	var problems Problems
	if !errors.As(s.Validate(), &problems) {
		t.Fatal("no problems")
	}
	if len(problems) != maxProblems+1 || !strings.Contains(problems[maxProblems].Message, "and 4900 more problems") {
		t.Errorf("%d problems, last %q", len(problems), problems[len(problems)-1].Message)
	}
}

// TestStatementJSON checks the encoding against the API's field names:
// required fields always present, empty optional fields left out, dates as
// written.
func TestStatementJSON(t *testing.T) {
	s := goodStatement()
	data, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"decision_visibility", "decision_ground", "incompatible_content_ground", "incompatible_content_explanation",
		"content_type", "category", "territorial_scope", "content_date", "application_date", "decision_facts", "source_type",
		"automated_detection", "automated_decision", "puid"}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("keys %v\nwant %v", got, want)
	}
	if m["content_date"] != "2025-03-01" || m["automated_detection"] != "Yes" {
		t.Errorf("content_date %v automated_detection %v", m["content_date"], m["automated_detection"])
	}
	if v, ok := m["decision_visibility"].([]any); !ok || len(v) != 1 || v[0] != "DECISION_VISIBILITY_CONTENT_REMOVED" {
		t.Errorf("decision_visibility %v is not an array of the value", m["decision_visibility"])
	}

	// Every field of the struct has a JSON name in the API's snake case,
	// and the empty statement encodes only the required fields.
	data, _ = json.Marshal(&Statement{})
	m = nil
	_ = json.Unmarshal(data, &m)
	if len(m) != 10 {
		t.Errorf("the empty statement encodes %d fields, want the 10 required ones: %s", len(m), data)
	}
}

func TestDateOf(t *testing.T) {
	tests := []struct {
		in   string
		want Date
	}{
		{"2025-03-01T23:30:00-02:00", "2025-03-02"}, // taken in UTC
		{"2025-03-01T00:30:00+02:00", "2025-02-28"},
		{"2025-03-01T12:00:00Z", "2025-03-01"},
	}
	for _, tt := range tests {
		tm, _ := timeParse(tt.in)
		if got := DateOf(tm); got != tt.want {
			t.Errorf("DateOf(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if DateOf(zeroTime) != "" {
		t.Error("the zero time is not the empty date")
	}
}

func TestDecodeStatement(t *testing.T) {
	good, _ := json.Marshal(goodStatement())
	s, err := DecodeStatement(good)
	if err != nil || s.PUID != "parleyeu-sor-42" || s.Check() != nil {
		t.Fatalf("decoding a good statement: %v, %v", s, err)
	}
	tests := []struct {
		name, input, field, msg string
	}{
		{"not an object", `[1]`, "", "must be a JSON object"},
		{"syntax", `{"puid": }`, "", "at byte"},
		{"truncated", `{"puid": "a"`, "", "ends early"},
		{"trailing data", `{"puid": "a"} {}`, "", "nothing after it"},
		{"unknown field", `{"puid": "a", "url": "https://x.example/"}`, "url", `"url" is not a field`},
		{"string for a list", `{"decision_visibility": "DECISION_VISIBILITY_CONTENT_REMOVED"}`, "decision_visibility", "a list of strings"},
		{"number for a string", `{"puid": 42}`, "puid", "must be a string, not number"},
		{"boolean for yes", `{"automated_detection": true}`, "automated_detection", "must be a string, not bool"},
	}
	for _, tt := range tests {
		_, err := DecodeStatement([]byte(tt.input))
		if parley.ErrorCode(err) != parley.EInvalid || parley.ErrorField(err) != tt.field || !strings.Contains(parley.ErrorMessage(err), tt.msg) {
			t.Errorf("%s: got field %q, %v; want field %q and %q", tt.name, parley.ErrorField(err), err, tt.field, tt.msg)
		}
	}
}

package sor

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"parley"
)

// scamDecision is an automated removal of a scam post in a channel, on the
// terms ground, with the account suspended for a month.
func scamDecision() Decision {
	return Decision{
		Namespace:          "parleyeu",
		ActionID:           1234,
		Visibility:         []DecisionVisibility{VisibilityContentRemoved},
		Account:            AccountSuspended,
		AccountUntil:       time.Date(2025, 4, 2, 0, 0, 0, 0, time.UTC),
		ContentPosted:      time.Date(2025, 3, 1, 22, 15, 0, 0, time.UTC),
		Applied:            time.Date(2025, 3, 2, 8, 0, 0, 0, time.UTC),
		Items:              []ItemKind{ItemText, ItemImage},
		Chat:               parley.ChatChannel,
		Ground:             GroundIncompatibleContent,
		TermsGround:        "Section 4.2 (scams) of the Parley Terms of Service",
		AlsoIllegal:        Yes,
		ReferenceURL:       "https://parley.example/terms#section-4.2",
		Category:           CategoryScamsAndFraud,
		Keywords:           []Keyword{KeywordPhishing},
		Reason:             "The rule lists wallet-drainer sites used in crypto investment scams.",
		Source:             SourceVoluntary,
		Signal:             Signal{Kind: SignalTextRule, Name: "crypto-drainer", Version: 3},
		AutomatedDetection: true,
		Automation:         AutomatedFully,
	}
}

func TestBuildScamRemoval(t *testing.T) {
	s, err := Build(scamDecision())
	if err != nil {
		t.Fatal(err)
	}
	if s.PUID != "parleyeu-sor-1234" || s.ContentDate != "2025-03-01" || s.ApplicationDate != "2025-03-02" ||
		s.EndDateAccountRestriction != "2025-04-02" || s.EndDateVisibilityRestriction != "" {
		t.Errorf("puid %s dates %s %s %s %s", s.PUID, s.ContentDate, s.ApplicationDate, s.EndDateAccountRestriction, s.EndDateVisibilityRestriction)
	}
	if !slices.Equal(s.ContentType, []ContentType{ContentText, ContentImage}) || s.ContentTypeOther != "" {
		t.Errorf("content type %v %q", s.ContentType, s.ContentTypeOther)
	}
	if !sameCountries(s.TerritorialScope, EEACountries()) {
		t.Errorf("an unrestricted territory is the whole EEA, got %v", s.TerritorialScope)
	}
	if s.AutomatedDetection != Yes || s.IncompatibleContentIllegal != Yes || s.SourceIdentity != "" {
		t.Errorf("automated %s, also illegal %s, source %q", s.AutomatedDetection, s.IncompatibleContentIllegal, s.SourceIdentity)
	}
	wantFacts := "The decision concerns a text message and an image posted in a channel. " +
		`It was found on the platform's own initiative and matched text screening rule "crypto-drainer" (version 3), which screens the text of posts automatically. ` +
		"Automated means were used to detect it; the decision was taken fully by automated means. " +
		"Restrictions applied from 2025-03-02: removal of the content (indefinitely); suspension of the account until 2025-04-02. " +
		"They apply in the whole European Economic Area."
	if s.DecisionFacts != wantFacts {
		t.Errorf("facts\n%s\nwant\n%s", s.DecisionFacts, wantFacts)
	}
	wantExplanation := "The content was assessed as incompatible with Section 4.2 (scams) of the Parley Terms of Service, in the category scams and fraud, " +
		`because it matched text screening rule "crypto-drainer" (version 3), which screens the text of posts automatically. ` +
		"The rule lists wallet-drainer sites used in crypto investment scams."
	if s.IncompatibleContentExplanation != wantExplanation {
		t.Errorf("explanation\n%s\nwant\n%s", s.IncompatibleContentExplanation, wantExplanation)
	}
	if s.IllegalContentLegalGround != "" || s.IllegalContentExplanation != "" {
		t.Error("texts of the other ground are set")
	}
}

// TestBuildVariants builds the other shapes of decision Parley takes and
// checks each passes Check with the expected mapping.
func TestBuildVariants(t *testing.T) {
	t.Run("known image from a hash bank, illegal", func(t *testing.T) {
		d := scamDecision()
		d.Items, d.Chat, d.Account, d.AccountUntil = []ItemKind{ItemImage}, parley.ChatGroup, "", time.Time{}
		d.Ground, d.TermsGround, d.AlsoIllegal = GroundIllegalContent, "", ""
		d.LegalGround = "Article 5(4) of Directive 2011/93/EU"
		d.Category, d.Keywords, d.Reason = CategoryProtectionOfMinors, []Keyword{KeywordChildSexualAbuseMaterial}, ""
		d.Signal = Signal{Kind: SignalHashBank, Name: "known-csam", Version: 12}
		s, err := Build(d)
		if err != nil {
			t.Fatal(err)
		}
		if s.IllegalContentLegalGround != d.LegalGround || !strings.Contains(s.IllegalContentExplanation, "illegal under Article 5(4)") ||
			!strings.Contains(s.DecisionFacts, `hash bank "known-csam" (version 12)`) || !strings.Contains(s.DecisionFacts, "in a group chat") {
			t.Errorf("%+v", s)
		}
	})
	t.Run("withheld in one country after a trusted flagger's notice", func(t *testing.T) {
		d := scamDecision()
		d.Visibility, d.Account, d.AccountUntil = []DecisionVisibility{VisibilityContentDisabled}, "", time.Time{}
		d.Territory = []Country{"DE"}
		d.Source, d.NotifierOrganisation = SourceTrustedFlagger, "Example Hotline e.V."
		d.Signal, d.AutomatedDetection, d.Automation = Signal{}, false, NotAutomated
		s, err := Build(d)
		if err != nil {
			t.Fatal(err)
		}
		d.Territory[0] = "FR" // the statement does not share the decision's lists
		if !slices.Equal(s.TerritorialScope, []Country{"DE"}) || s.SourceIdentity != "Example Hotline e.V." || s.AutomatedDetection != No ||
			!strings.Contains(s.DecisionFacts, "They apply in DE only.") || !strings.Contains(s.DecisionFacts, "trusted flagger") ||
			!strings.Contains(s.IncompatibleContentExplanation, "by a moderator who reviewed it") {
			t.Errorf("%+v", s)
		}
	})
	t.Run("a channel closed after a campaign", func(t *testing.T) {
		d := scamDecision()
		d.Items, d.Chat = []ItemKind{ItemChannel, ItemAccount}, ""
		d.Visibility, d.Provision = nil, ProvisionTotalTermination
		d.Signal = Signal{Kind: SignalCampaign, Name: "campaign:pump", Version: 1}
		d.Automation = AutomatedPartially
		s, err := Build(d)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.ContentType, []ContentType{ContentOther}) || s.ContentTypeOther != "channel, user account" ||
			!strings.Contains(s.DecisionFacts, "concerns a channel and an account.") {
			t.Errorf("content %v %q facts %q", s.ContentType, s.ContentTypeOther, s.DecisionFacts)
		}
	})
}

func TestBuildRefuses(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(d *Decision)
		field string
	}{
		{"no action id", func(d *Decision) { d.ActionID = 0 }, "action_id"},
		{"bad namespace", func(d *Decision) { d.Namespace = "parley eu" }, "namespace"},
		{"no items", func(d *Decision) { d.Items = nil }, "items"},
		{"unknown item", func(d *Decision) { d.Items = []ItemKind{"story"} }, "items.0"},
		{"secret chat", func(d *Decision) { d.Chat = parley.ChatSecret }, "chat"},
		{"no posting time", func(d *Decision) { d.ContentPosted = time.Time{} }, "content_posted"},
		{"no application time", func(d *Decision) { d.Applied = time.Time{} }, "applied"},
		{"no terms ground", func(d *Decision) { d.TermsGround = "" }, "terms_ground"},
		{"legal ground on the terms", func(d *Decision) { d.LegalGround = "Article 5" }, "legal_ground"},
		{"no legal ground", func(d *Decision) { d.Ground, d.TermsGround, d.AlsoIllegal = GroundIllegalContent, "", "" }, "legal_ground"},
		{"no ground", func(d *Decision) { d.Ground = "" }, "ground"},
		{"unknown category", func(d *Decision) { d.Category = "SPAM" }, "category"},
		{"no automation", func(d *Decision) { d.Automation = "" }, "automation"},
		{"notifier of an Article 16 notice", func(d *Decision) { d.Source, d.NotifierOrganisation = SourceArticle16, "Jane Doe" }, "notifier_organisation"},
		{"signal name with a space", func(d *Decision) { d.Signal.Name = "ban alice" }, "signal.name"},
		{"signal without version", func(d *Decision) { d.Signal.Version = 0 }, "signal.version"},
		{"unknown signal", func(d *Decision) { d.Signal.Kind = "hunch" }, "signal.kind"},
		{"own initiative without a signal", func(d *Decision) { d.Signal = Signal{} }, "signal.kind"},
		// Problems found after building name the statement's fields.
		{"personal data in the clause", func(d *Decision) { d.TermsGround = "Section 4, as agreed with bob@example.org" }, "incompatible_content_ground"},
		{"personal data in the reason", func(d *Decision) { d.Reason = "Reported by @alice." }, "incompatible_content_explanation"},
		{"territory outside the EEA", func(d *Decision) { d.Territory = []Country{"CH"} }, "territorial_scope.0"},
		{"content after decision", func(d *Decision) { d.ContentPosted = d.Applied.Add(48 * time.Hour) }, "content_date"},
		{"reason too long", func(d *Decision) { d.Reason = strings.Repeat("x", 2000) }, "incompatible_content_explanation"},
	}
	for _, tt := range tests {
		d := scamDecision()
		tt.edit(&d)
		s, err := Build(d)
		var problems Problems
		if s != nil || !errors.As(err, &problems) || !slices.Contains(problems.Fields(), tt.field) {
			t.Errorf("%s: got %v, %v; want a problem with %s", tt.name, s, err, tt.field)
		}
	}
}

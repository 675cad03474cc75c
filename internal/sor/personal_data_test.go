package sor

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestFindPersonalDataFinds(t *testing.T) {
	tests := []struct {
		text string
		kind PersonalDataKind
	}{
		{"contact alice.smith+spam@example.co.uk for details", PersonalEmail},
		{"ALICE@EXAMPLE.COM", PersonalEmail},
		{"write to alice [at] example (dot) com", PersonalEmail},
		{"write to alice(at)mail(dot)example(dot)org", PersonalEmail},
		{"call +49 151 2345 6789 now", PersonalPhone},
		{"call 0612345678", PersonalPhone},
		{"call (030) 123-4567", PersonalPhone},
		{"call 06.12.34.56.78", PersonalPhone},
		{"call ０６１２３４５６７８", PersonalPhone},       // full-width digits
		{"user 123456789 posted", PersonalPhone}, // a bare long number may be an account id
		{"posted by @alice_99", PersonalHandle},
		{"(@bob.smith)", PersonalHandle},
		{"@carol said", PersonalHandle},
		{"see https://t.me/alice", PersonalLink},
		{"see t.me/alice", PersonalLink},
		{"see www.example.com", PersonalLink},
		{"see parley.example/u/alice?x=1", PersonalLink},
		{"see tel:+33612345678", PersonalLink},
		{"from 192.168.10.20 at noon", PersonalIPAddress},
		{"from 2001:db8::1", PersonalIPAddress},
	}
	for _, tt := range tests {
		found := FindPersonalData(tt.text)
		if !slices.ContainsFunc(found, func(f Finding) bool { return f.Kind == tt.kind }) {
			t.Errorf("%q: found %v, want a %s", tt.text, found, tt.kind)
		}
	}
}

// TestFindPersonalDataLetsThrough checks texts the platform writes itself:
// laws, clauses, rule names, versions and dates must not be refused.
func TestFindPersonalDataLetsThrough(t *testing.T) {
	for _, text := range []string{
		"Article 5(4) of Directive 2011/93/EU",
		"Article 17(3)(d) of Regulation (EU) 2022/2065 and Regulation (EU) 2021/784",
		"Section 4.2 (scams) of the Parley Terms of Service",
		`It matched text screening rule "crypto-drainer.v2" (version 12).`,
		"Restrictions applied from 2025-03-01: suspension of the account until 2025-04-01.",
		"§ 130 StGB (Volksverhetzung)",
		"e.g. spam, i.e. bulk messages, at 12:30:45",
		"They apply in DE, FR and GR only.",
		"The scam site scam-wallet.example is on the list.", // a bare domain without a path is let through
		"a 5-star review, 100 statements, 1,000,000 posts",
		"",
	} {
		if found := FindPersonalData(text); len(found) > 0 {
			t.Errorf("%q: found %v, want nothing", text, found)
		}
	}
}

// TestFindingPositions checks that positions count characters, not bytes,
// and that overlapping findings are reported once.
func TestFindingPositions(t *testing.T) {
	text := "éé bob@example.com"
	found := FindPersonalData(text)
	if len(found) != 1 || found[0] != (Finding{PersonalEmail, 3, 18}) {
		t.Errorf("found %v, want one e-mail address at characters 3 to 18", found)
	}
	found = FindPersonalData("from 10.1.2.3")
	if len(found) != 1 || found[0].Kind != PersonalIPAddress {
		t.Errorf("an IP address is reported once, as an IP address: %v", found)
	}
}

func TestCheckPersonalData(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(s *Statement)
		field string // "" means it must pass
		msg   string
	}{
		{"clean", func(s *Statement) {}, "", ""},
		{"e-mail in facts", func(s *Statement) { s.DecisionFacts = "Reported by jane@example.org." }, "decision_facts", "e-mail address at characters 12 to 28"},
		{"phone in explanation", func(s *Statement) { s.IncompatibleContentExplanation = "Call +33 6 12 34 56 78 for crypto." },
			"incompatible_content_explanation", "phone number"},
		{"handle in other text", func(s *Statement) {
			s.ContentType, s.ContentTypeOther = []ContentType{ContentOther}, "channel @cryptoking"
		}, "content_type_other", "@handle"},
		{"link in ground", func(s *Statement) { s.IncompatibleContentGround = "https://parley.example/terms#4" },
			"incompatible_content_ground", "belongs in decision_ground_reference_url"},
		{"notifier's e-mail", func(s *Statement) { s.SourceType, s.SourceIdentity = SourceTrustedFlagger, "flagger@example.org" },
			"source_identity", "e-mail"},
		{"reference to the terms", func(s *Statement) { s.DecisionGroundReferenceURL = "https://parley.example/terms#section-4.2" }, "", ""},
		{"reference to the law", func(s *Statement) {
			s.DecisionGroundReferenceURL = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32022R2065"
		}, "", ""},
		{"reference to a telegram user", func(s *Statement) { s.DecisionGroundReferenceURL = "https://t.me/alice" },
			"decision_ground_reference_url", "link into t.me"},
		{"reference to a profile page", func(s *Statement) { s.DecisionGroundReferenceURL = "https://parley.example/users/alice" },
			"decision_ground_reference_url", "/users/ segment"},
		{"reference to a handle", func(s *Statement) { s.DecisionGroundReferenceURL = "https://video.example/@alice/terms" },
			"decision_ground_reference_url", "@handle"},
		{"reference with a user query", func(s *Statement) { s.DecisionGroundReferenceURL = "https://parley.example/terms?uid=77" },
			"decision_ground_reference_url", "query names a uid"},
		{"reference with credentials", func(s *Statement) { s.DecisionGroundReferenceURL = "https://bob:pw@parley.example/terms" },
			"decision_ground_reference_url", "user name before the host"},
		{"text too long to scan", func(s *Statement) { s.DecisionFacts = strings.Repeat("x", 4*MaxFactsLength+1) },
			"decision_facts", "too long to check"},
		{"reference with an e-mail in the fragment", func(s *Statement) {
			s.DecisionGroundReferenceURL = "https://parley.example/terms#bob@example.org"
		}, "decision_ground_reference_url", "e-mail address or a handle"},
	}
	for _, tt := range tests {
		s := goodStatement()
		tt.edit(&s)
		err := s.CheckPersonalData()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var problems Problems
		if !errors.As(err, &problems) || problems[0].Field != tt.field || !strings.Contains(problems[0].Message, tt.msg) {
			t.Errorf("%s: got %v, want field %s with %q", tt.name, err, tt.field, tt.msg)
			continue
		}
		// The message says where, never what: it must not copy the
		// personal data into logs.
		for _, secret := range []string{"jane@", "+33 6", "@cryptoking", "flagger@", "alice", "bob"} {
			if strings.Contains(problems[0].Message, secret) {
				t.Errorf("%s: message %q copies %q", tt.name, problems[0].Message, secret)
			}
		}
	}
}

// TestCheckCombines checks that Check reports the problems of Validate and
// of CheckPersonalData together.
func TestCheckCombines(t *testing.T) {
	s := goodStatement()
	s.PUID = ""
	s.DecisionFacts = "Posted by @alice."
	var problems Problems
	if !errors.As(s.Check(), &problems) || !slices.Equal(problems.Fields(), []string{"puid", "decision_facts"}) {
		t.Errorf("Check = %v", problems)
	}
}

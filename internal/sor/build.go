package sor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"parley"
)

// Decision is what the enforcement service knows about one decision, in
// structured form with no personal data: which restrictions, on what kind of
// item, on which ground, found how. Build turns it into a Statement and
// writes the free texts itself, so that no case note, content, name or link
// can reach the Transparency Database through them.
//
// The only free texts a Decision holds are LegalGround, TermsGround and
// Reason, and they are meant to be picked from lists that staff write and
// review once (the laws Parley enforces, the clauses of its terms, the
// purpose of each rule or bank), not typed for a case. Build still checks
// them for personal data.
type Decision struct {
	// Namespace and ActionID make the puid (see MakePUID).
	Namespace string
	ActionID  int64

	// The restrictions; at least one. A visibility restriction limited to
	// some countries (content withheld in one country) is
	// VisibilityContentDisabled with those countries as Territory.
	Visibility      []DecisionVisibility
	VisibilityOther string // what the restriction is, with VisibilityOther
	Monetary        DecisionMonetary
	MonetaryOther   string // what the restriction is, with MonetaryOther
	Provision       DecisionProvision
	Account         DecisionAccount
	AccountType     AccountType // optional

	// When each restriction ends; the zero time means indefinitely.
	VisibilityUntil, MonetaryUntil, ProvisionUntil, AccountUntil time.Time

	// ContentPosted is when the item was posted (or the account, channel or
	// group created); Applied is when the decision took effect. Only their
	// days (UTC) are sent.
	ContentPosted time.Time
	Applied       time.Time

	// Territory lists the states where the restriction applies; empty means
	// everywhere, which Build writes as the whole EEA.
	Territory []Country
	// Language is the content's language, when known (upper-case ISO 639-1).
	Language Language

	// Items are the kinds of item the decision is about (a post with text
	// and an image is both); Chat is where it was posted, when it was.
	Items []ItemKind
	Chat  parley.ChatKind

	// The ground. For GroundIllegalContent, LegalGround names the law (e.g.
	// "Article 5(4) of Directive 2011/93/EU"); for GroundIncompatibleContent,
	// TermsGround names the clause of the terms (e.g. "Section 4.2 (scams)
	// of the Parley Terms of Service") and AlsoIllegal optionally says
	// whether the content is also considered illegal. ReferenceURL may
	// point to the law or the terms.
	Ground       DecisionGround
	LegalGround  string
	TermsGround  string
	AlsoIllegal  YesNo
	ReferenceURL string

	Category           Category
	AdditionalCategory []Category
	Keywords           []Keyword
	KeywordOther       string // what the other keyword is, with KeywordOther

	// Reason says, in one or two sentences, why the matched rule or bank
	// identifies such content: the purpose written with the rule or bank,
	// never details of the case. Optional.
	Reason string

	// How the item was found and decided.
	Source SourceType
	// NotifierOrganisation names the trusted flagger, or the organisation
	// behind another kind of notification. It is refused for a notice under
	// Article 16, whose notifier may be a private person, and for a
	// voluntary decision.
	NotifierOrganisation string
	Signal               Signal
	AutomatedDetection   bool
	Automation           AutomatedDecision
}

// ItemKind is a kind of item Parley restricts.
type ItemKind string

// The kinds of item.
const (
	ItemText    ItemKind = "text"    // a text message or post
	ItemImage   ItemKind = "image"   // a photo, picture or sticker
	ItemVideo   ItemKind = "video"   // a video or animation
	ItemAudio   ItemKind = "audio"   // a voice message or audio file
	ItemFile    ItemKind = "file"    // a document of another kind
	ItemChannel ItemKind = "channel" // a channel as a whole
	ItemGroup   ItemKind = "group"   // a group as a whole
	ItemAccount ItemKind = "account" // an account as a whole
)

// itemKinds gives each kind its content type, its content_type_other text
// for the kinds without their own type, and how the facts name it.
var itemKinds = map[ItemKind]struct {
	contentType ContentType
	other       string
	phrase      string
}{
	ItemText:    {ContentText, "", "a text message"},
	ItemImage:   {ContentImage, "", "an image"},
	ItemVideo:   {ContentVideo, "", "a video"},
	ItemAudio:   {ContentAudio, "", "an audio recording"},
	ItemFile:    {ContentOther, "file attachment", "a file attachment"},
	ItemChannel: {ContentOther, "channel", "a channel"},
	ItemGroup:   {ContentOther, "group chat", "a group chat"},
	ItemAccount: {ContentOther, "user account", "an account"},
}

// chatPhrases say where an item was posted.
var chatPhrases = map[parley.ChatKind]string{
	parley.ChatChannel: "in a channel",
	parley.ChatGroup:   "in a group chat",
	parley.ChatDirect:  "in a direct chat, reported by a participant",
}

// SignalKind is the kind of thing that brought the item to a decision.
type SignalKind string

// The kinds of signal.
const (
	SignalNone       SignalKind = ""           // no automated signal: a notice or a review alone
	SignalTextRule   SignalKind = "text_rule"  // a text screening rule matched
	SignalHashBank   SignalKind = "hash_bank"  // a hash bank of known items matched
	SignalCampaign   SignalKind = "campaign"   // a detector of coordinated campaigns
	SignalClassifier SignalKind = "classifier" // a machine-learning classifier
	SignalModerator  SignalKind = "moderator"  // a moderator's review on the platform's initiative
)

// Signal names what matched: the kind, the name of the rule, bank, detector
// or classifier (an identifier, 1 to 64 of A-Z a-z 0-9 . _ : -) and its
// version, so that the decision can be traced to exactly what made it. A
// moderator's review has no name.
type Signal struct {
	Kind    SignalKind `json:"kind"`
	Name    string     `json:"name,omitempty"`
	Version int        `json:"version,omitempty"`
}

// phrase says what the signal is, for the facts.
func (sg Signal) phrase() string {
	switch sg.Kind {
	case SignalTextRule:
		return fmt.Sprintf("text screening rule %q (version %d), which screens the text of posts automatically", sg.Name, sg.Version)
	case SignalHashBank:
		return fmt.Sprintf("hash bank %q (version %d), a list of hashes of items already identified as violating", sg.Name, sg.Version)
	case SignalCampaign:
		return fmt.Sprintf("campaign detector %q (version %d), which finds the same content posted in bulk by coordinated accounts", sg.Name, sg.Version)
	case SignalClassifier:
		return fmt.Sprintf("classifier %q (version %d), an automated model", sg.Name, sg.Version)
	}
	return ""
}

// visibilityPhrases, and the maps below, name each restriction in the facts.
var visibilityPhrases = map[DecisionVisibility]string{
	VisibilityContentRemoved:               "removal of the content",
	VisibilityContentDisabled:              "disabling of access to the content",
	VisibilityContentDemoted:               "demotion of the content",
	VisibilityContentAgeRestricted:         "age restriction of the content",
	VisibilityContentInteractionRestricted: "restriction of interaction with the content",
	VisibilityContentLabelled:              "labelling of the content",
	VisibilityOther:                        "another visibility restriction",
}

var monetaryPhrases = map[DecisionMonetary]string{
	MonetarySuspension:  "suspension of monetary payments",
	MonetaryTermination: "termination of monetary payments",
	MonetaryOther:       "another restriction of monetary payments",
}

var provisionPhrases = map[DecisionProvision]string{
	ProvisionPartialSuspension:  "partial suspension of the service",
	ProvisionTotalSuspension:    "total suspension of the service",
	ProvisionPartialTermination: "partial termination of the service",
	ProvisionTotalTermination:   "total termination of the service",
}

var accountPhrases = map[DecisionAccount]string{
	AccountSuspended:  "suspension of the account",
	AccountTerminated: "termination of the account",
}

// categoryLabels name each category in the explanations.
var categoryLabels = map[Category]string{
	CategoryAnimalWelfare:                      "animal welfare",
	CategoryConsumerInformation:                "consumer information infringements",
	CategoryCyberViolence:                      "cyber violence",
	CategoryCyberViolenceAgainstWomen:          "cyber violence against women",
	CategoryDataProtectionAndPrivacyViolations: "data protection and privacy violations",
	CategoryIllegalOrHarmfulSpeech:             "illegal or harmful speech",
	CategoryIntellectualPropertyInfringements:  "intellectual property infringements",
	CategoryNegativeEffectsOnCivicDiscourse:    "negative effects on civic discourse or elections",
	CategoryNotSpecifiedNotice:                 "a type of illegal content not specified by the notifier",
	CategoryOtherViolationTC:                   "another violation of the terms and conditions",
	CategoryProtectionOfMinors:                 "protection of minors",
	CategoryRiskForPublicSecurity:              "risk for public security",
	CategoryScamsAndFraud:                      "scams and fraud",
	CategorySelfHarm:                           "self-harm",
	CategoryUnsafeAndProhibitedProducts:        "unsafe, non-compliant or prohibited products",
	CategoryViolence:                           "violence",
}

// automationPhrases say how automated the decision was.
var automationPhrases = map[AutomatedDecision]string{
	AutomatedFully:     "the decision was taken fully by automated means",
	AutomatedPartially: "the decision was taken partly by automated means, with a person involved",
	NotAutomated:       "the decision was taken by a person, without automated means",
}

// Build composes the statement of reasons of d. The free texts (facts and
// explanations) are written here from d's structured fields; nothing of the
// case beyond them goes in. The result has passed Check (Validate and
// CheckPersonalData); otherwise Build returns nil and Problems naming
// Decision fields (snake case, e.g. "signal.name") for wrong input and
// statement fields for the rest.
func Build(d Decision) (*Statement, error) {
	var c checker
	d.check(&c)
	if len(c.problems) > 0 {
		return nil, c.result().err()
	}
	puid, err := MakePUID(d.Namespace, d.ActionID)
	if err != nil {
		return nil, Problems{err.(*parley.Error)}
	}
	s := &Statement{
		DecisionVisibility:           slices.Clone(d.Visibility),
		DecisionVisibilityOther:      d.VisibilityOther,
		DecisionMonetary:             d.Monetary,
		DecisionMonetaryOther:        d.MonetaryOther,
		DecisionProvision:            d.Provision,
		DecisionAccount:              d.Account,
		AccountType:                  d.AccountType,
		DecisionGround:               d.Ground,
		DecisionGroundReferenceURL:   d.ReferenceURL,
		Category:                     d.Category,
		CategoryAddition:             slices.Clone(d.AdditionalCategory),
		CategorySpecification:        slices.Clone(d.Keywords),
		CategorySpecificationOther:   d.KeywordOther,
		TerritorialScope:             slices.Clone(d.Territory),
		ContentLanguage:              d.Language,
		ContentDate:                  DateOf(d.ContentPosted),
		ApplicationDate:              DateOf(d.Applied),
		EndDateAccountRestriction:    DateOf(d.AccountUntil),
		EndDateMonetaryRestriction:   DateOf(d.MonetaryUntil),
		EndDateServiceRestriction:    DateOf(d.ProvisionUntil),
		EndDateVisibilityRestriction: DateOf(d.VisibilityUntil),
		SourceType:                   d.Source,
		SourceIdentity:               d.NotifierOrganisation,
		AutomatedDetection:           YesNoOf(d.AutomatedDetection),
		AutomatedDecision:            d.Automation,
		PUID:                         puid,
	}
	if len(s.TerritorialScope) == 0 {
		s.TerritorialScope = EEACountries()
	}
	var others []string
	for _, item := range d.Items {
		k := itemKinds[item]
		if !slices.Contains(s.ContentType, k.contentType) {
			s.ContentType = append(s.ContentType, k.contentType)
		}
		if k.other != "" && !slices.Contains(others, k.other) {
			others = append(others, k.other)
		}
	}
	s.ContentTypeOther = strings.Join(others, ", ")

	switch d.Ground {
	case GroundIllegalContent:
		s.IllegalContentLegalGround = d.LegalGround
		s.IllegalContentExplanation = d.explanation("illegal under " + d.LegalGround)
	case GroundIncompatibleContent:
		s.IncompatibleContentGround = d.TermsGround
		s.IncompatibleContentExplanation = d.explanation("incompatible with " + d.TermsGround)
		s.IncompatibleContentIllegal = d.AlsoIllegal
	}
	s.DecisionFacts = d.facts(s)

	if err := s.Check(); err != nil {
		return nil, err
	}
	return s, nil
}

// check refuses Decision input that Build cannot turn into good texts. The
// statement's own rules are left to Check, after building.
func (d *Decision) check(c *checker) {
	if _, err := MakePUID(d.Namespace, d.ActionID); err != nil {
		e := err.(*parley.Error)
		c.add(e.Field, "%s", e.Message)
	}
	if len(d.Items) == 0 {
		c.add("items", "items is required: what kind of item the decision is about")
	}
	for i, item := range d.Items {
		if _, ok := itemKinds[item]; !ok {
			c.add(fmt.Sprintf("items.%d", i), "items.%d %q is not a known item kind", i, item)
		}
	}
	if _, ok := chatPhrases[d.Chat]; d.Chat != "" && !ok {
		if d.Chat == parley.ChatSecret {
			c.add("chat", "a secret chat is end-to-end encrypted: the platform cannot see, and so cannot decide about, its content")
		} else {
			c.add("chat", "chat %q is not a known kind of chat", d.Chat)
		}
	}
	if d.ContentPosted.IsZero() {
		c.add("content_posted", "content_posted is required: when the item was posted")
	}
	if d.Applied.IsZero() {
		c.add("applied", "applied is required: when the decision took effect")
	}
	switch d.Ground {
	case GroundIllegalContent:
		if isBlank(d.LegalGround) {
			c.add("legal_ground", "legal_ground is required for a decision on illegal content: the law relied on")
		}
		if d.TermsGround != "" || d.AlsoIllegal != "" {
			c.add("terms_ground", "terms_ground and also_illegal go only with ground %s", GroundIncompatibleContent)
		}
	case GroundIncompatibleContent:
		if isBlank(d.TermsGround) {
			c.add("terms_ground", "terms_ground is required for a decision under the terms: the clause relied on")
		}
		if d.LegalGround != "" {
			c.add("legal_ground", "legal_ground goes only with ground %s", GroundIllegalContent)
		}
	default:
		c.add("ground", "ground must be %s or %s", GroundIllegalContent, GroundIncompatibleContent)
	}
	if _, ok := categoryLabels[d.Category]; !ok {
		c.add("category", "category %q is not a Transparency Database category", d.Category)
	}
	if _, ok := automationPhrases[d.Automation]; !ok {
		c.add("automation", "automation must be %s, %s or %s", AutomatedFully, AutomatedPartially, NotAutomated)
	}
	if d.NotifierOrganisation != "" && d.Source != SourceTrustedFlagger && d.Source != SourceTypeOtherNotification {
		c.add("notifier_organisation", "notifier_organisation goes only with %s or %s: a notifier under Article 16 may be a private person, and a voluntary decision has none",
			SourceTrustedFlagger, SourceTypeOtherNotification)
	}
	switch d.Signal.Kind {
	case SignalNone, SignalModerator:
		if d.Signal.Name != "" || d.Signal.Version != 0 {
			c.add("signal.name", "a signal of kind %q has no name or version", d.Signal.Kind)
		}
	case SignalTextRule, SignalHashBank, SignalCampaign, SignalClassifier:
		if !isSignalName(d.Signal.Name) {
			c.add("signal.name", "signal.name must be the identifier of the rule, bank, detector or classifier: 1 to 64 of A-Z a-z 0-9 . _ : -")
		}
		if d.Signal.Version < 1 {
			c.add("signal.version", "signal.version must count from 1, not %d", d.Signal.Version)
		}
	default:
		c.add("signal.kind", "signal.kind %q is not a known kind of signal", d.Signal.Kind)
	}
	if d.Source == SourceVoluntary && d.Signal.Kind == SignalNone {
		c.add("signal.kind", "a decision on the platform's own initiative needs a signal: the rule, bank, detector or review that found the item")
	}
}

// isSignalName reports whether name is a valid identifier of a rule, bank,
// detector or classifier. The alphabet keeps names to identifiers: no spaces,
// no '@', so a name cannot be a sentence about someone.
func isSignalName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if b := name[i]; !isPUIDByte(b) && b != '.' && b != ':' {
			return false
		}
	}
	return true
}

// facts writes decision_facts from the decision's structure and the built
// statement's restrictions.
func (d *Decision) facts(s *Statement) string {
	var b strings.Builder
	items := make([]string, 0, len(d.Items))
	for _, item := range d.Items {
		if p := itemKinds[item].phrase; !slices.Contains(items, p) {
			items = append(items, p)
		}
	}
	b.WriteString("The decision concerns ")
	b.WriteString(joinList(items))
	if p := chatPhrases[d.Chat]; p != "" {
		b.WriteString(" posted ")
		b.WriteString(p)
	}
	b.WriteString(". ")

	switch d.Source {
	case SourceVoluntary:
		b.WriteString("It was found on the platform's own initiative")
	case SourceArticle16:
		b.WriteString("It was reported in a notice under Article 16 of the Digital Services Act")
	case SourceTrustedFlagger:
		b.WriteString("It was reported by a trusted flagger under Article 22 of the Digital Services Act")
	default:
		b.WriteString("It was reported in a notification other than a notice under Article 16")
	}
	switch p := d.Signal.phrase(); {
	case p != "":
		b.WriteString(" and matched ")
		b.WriteString(p)
	case d.Signal.Kind == SignalModerator:
		b.WriteString(", in a review by a moderator")
	}
	b.WriteString(". ")

	if d.AutomatedDetection {
		b.WriteString("Automated means were used to detect it; ")
	} else {
		b.WriteString("It was not detected by automated means; ")
	}
	b.WriteString(automationPhrases[d.Automation])
	b.WriteString(". ")

	var restrictions []string
	for _, v := range s.DecisionVisibility {
		restrictions = append(restrictions, until(visibilityPhrases[v], s.EndDateVisibilityRestriction))
	}
	if s.DecisionMonetary != "" {
		restrictions = append(restrictions, until(monetaryPhrases[s.DecisionMonetary], s.EndDateMonetaryRestriction))
	}
	if s.DecisionProvision != "" {
		restrictions = append(restrictions, until(provisionPhrases[s.DecisionProvision], s.EndDateServiceRestriction))
	}
	if s.DecisionAccount != "" {
		restrictions = append(restrictions, until(accountPhrases[s.DecisionAccount], s.EndDateAccountRestriction))
	}
	if len(restrictions) > 0 {
		fmt.Fprintf(&b, "Restrictions applied from %s: %s. ", s.ApplicationDate, strings.Join(restrictions, "; "))
	}

	if sameCountries(s.TerritorialScope, eeaCountries) {
		b.WriteString("They apply in the whole European Economic Area.")
	} else {
		scope := make([]string, len(s.TerritorialScope))
		for i, c := range s.TerritorialScope {
			scope[i] = string(c)
		}
		fmt.Fprintf(&b, "They apply in %s only.", joinList(scope))
	}
	return b.String()
}

// explanation writes the explanation of the ground: what was assessed, under
// what, and why the signal identifies such content.
func (d *Decision) explanation(assessed string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The content was assessed as %s, in the category %s", assessed, categoryLabels[d.Category])
	switch p := d.Signal.phrase(); {
	case p != "":
		b.WriteString(", because it matched ")
		b.WriteString(p)
	case d.Signal.Kind == SignalModerator || d.Automation == NotAutomated:
		b.WriteString(", by a moderator who reviewed it")
	}
	b.WriteString(".")
	if r := strings.TrimSpace(d.Reason); r != "" {
		b.WriteString(" ")
		b.WriteString(r)
	}
	return b.String()
}

// until adds a restriction's end date to its phrase.
func until(phrase string, end Date) string {
	if end == "" {
		return phrase + " (indefinitely)"
	}
	return phrase + " until " + string(end)
}

// joinList joins phrases as English does: "a", "a and b", "a, b and c".
func joinList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// sameCountries reports whether a and b hold the same countries.
func sameCountries(a, b []Country) bool {
	if len(a) != len(b) {
		return false
	}
	set := setOf(b...)
	for _, c := range a {
		if !set[c] {
			return false
		}
	}
	return true
}

// CategoryLabel names category c for the people shown a restriction, such as
// "Scams and fraud" in "This message was removed: Scams and fraud." It is
// "" for a value that is not a category.
func CategoryLabel(c Category) string {
	l := categoryLabels[c]
	if l == "" {
		return ""
	}
	return strings.ToUpper(l[:1]) + l[1:]
}

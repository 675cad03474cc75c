package sor

import "slices"

// The enumerations of the Transparency Database. Each is a string type whose
// constants are the exact values the Commission's API accepts; the JSON
// encoding of a Statement carries them unchanged. A value outside its list is
// still representable (so that Validate can name it, and a decoded statement
// from elsewhere is not silently altered), which is why every list is also
// kept as a set for membership checks.

// DecisionVisibility is a restriction of the visibility of an item
// (Article 17(1)(a) DSA). A statement may carry several.
type DecisionVisibility string

// The visibility restrictions.
const (
	VisibilityContentRemoved               DecisionVisibility = "DECISION_VISIBILITY_CONTENT_REMOVED"
	VisibilityContentDisabled              DecisionVisibility = "DECISION_VISIBILITY_CONTENT_DISABLED"
	VisibilityContentDemoted               DecisionVisibility = "DECISION_VISIBILITY_CONTENT_DEMOTED"
	VisibilityContentAgeRestricted         DecisionVisibility = "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"
	VisibilityContentInteractionRestricted DecisionVisibility = "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"
	VisibilityContentLabelled              DecisionVisibility = "DECISION_VISIBILITY_CONTENT_LABELLED"
	VisibilityOther                        DecisionVisibility = "DECISION_VISIBILITY_OTHER" // needs DecisionVisibilityOther
)

// DecisionMonetary is a suspension, termination or other restriction of
// monetary payments (Article 17(1)(b)).
type DecisionMonetary string

// The monetary restrictions.
const (
	MonetarySuspension  DecisionMonetary = "DECISION_MONETARY_SUSPENSION"
	MonetaryTermination DecisionMonetary = "DECISION_MONETARY_TERMINATION"
	MonetaryOther       DecisionMonetary = "DECISION_MONETARY_OTHER" // needs DecisionMonetaryOther
)

// DecisionProvision is a suspension or termination of the provision of the
// service (Article 17(1)(c)).
type DecisionProvision string

// The restrictions of the provision of the service.
const (
	ProvisionPartialSuspension  DecisionProvision = "DECISION_PROVISION_PARTIAL_SUSPENSION"
	ProvisionTotalSuspension    DecisionProvision = "DECISION_PROVISION_TOTAL_SUSPENSION"
	ProvisionPartialTermination DecisionProvision = "DECISION_PROVISION_PARTIAL_TERMINATION"
	ProvisionTotalTermination   DecisionProvision = "DECISION_PROVISION_TOTAL_TERMINATION"
)

// DecisionAccount is a suspension or termination of the account
// (Article 17(1)(d)).
type DecisionAccount string

// The account restrictions.
const (
	AccountSuspended  DecisionAccount = "DECISION_ACCOUNT_SUSPENDED"
	AccountTerminated DecisionAccount = "DECISION_ACCOUNT_TERMINATED"
)

// AccountType says whether the restricted account is a business or a private
// person's. It is optional.
type AccountType string

// The account types.
const (
	AccountTypeBusiness AccountType = "ACCOUNT_TYPE_BUSINESS"
	AccountTypePrivate  AccountType = "ACCOUNT_TYPE_PRIVATE"
)

// DecisionGround is the basis of the decision: the law (Article 17(3)(d)) or
// the platform's terms and conditions (Article 17(3)(e)).
type DecisionGround string

// The grounds.
const (
	GroundIllegalContent      DecisionGround = "DECISION_GROUND_ILLEGAL_CONTENT"
	GroundIncompatibleContent DecisionGround = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
)

// ContentType is a kind of item the decision is about. A statement lists one
// or more.
type ContentType string

// The content types.
const (
	ContentApp            ContentType = "CONTENT_TYPE_APP"
	ContentAudio          ContentType = "CONTENT_TYPE_AUDIO"
	ContentImage          ContentType = "CONTENT_TYPE_IMAGE"
	ContentProduct        ContentType = "CONTENT_TYPE_PRODUCT"
	ContentSyntheticMedia ContentType = "CONTENT_TYPE_SYNTHETIC_MEDIA"
	ContentText           ContentType = "CONTENT_TYPE_TEXT"
	ContentVideo          ContentType = "CONTENT_TYPE_VIDEO"
	ContentOther          ContentType = "CONTENT_TYPE_OTHER" // needs ContentTypeOther
)

// Category is the category of the statement, and of its additional
// categories.
type Category string

// The categories.
const (
	CategoryAnimalWelfare                      Category = "STATEMENT_CATEGORY_ANIMAL_WELFARE"
	CategoryConsumerInformation                Category = "STATEMENT_CATEGORY_CONSUMER_INFORMATION"
	CategoryCyberViolence                      Category = "STATEMENT_CATEGORY_CYBER_VIOLENCE"
	CategoryCyberViolenceAgainstWomen          Category = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN"
	CategoryDataProtectionAndPrivacyViolations Category = "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"
	CategoryIllegalOrHarmfulSpeech             Category = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
	CategoryIntellectualPropertyInfringements  Category = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
	CategoryNegativeEffectsOnCivicDiscourse    Category = "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"
	CategoryNotSpecifiedNotice                 Category = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"
	CategoryOtherViolationTC                   Category = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
	CategoryProtectionOfMinors                 Category = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
	CategoryRiskForPublicSecurity              Category = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
	CategoryScamsAndFraud                      Category = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
	CategorySelfHarm                           Category = "STATEMENT_CATEGORY_SELF_HARM"
	CategoryUnsafeAndProhibitedProducts        Category = "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"
	CategoryViolence                           Category = "STATEMENT_CATEGORY_VIOLENCE"
)

// Keyword refines the category (category_specification).
type Keyword string

// The keywords.
const (
	KeywordAdultSexualMaterial                       Keyword = "KEYWORD_ADULT_SEXUAL_MATERIAL"
	KeywordAgeSpecificRestrictions                   Keyword = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS"
	KeywordAgeSpecificRestrictionsMinors             Keyword = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"
	KeywordAnimalHarm                                Keyword = "KEYWORD_ANIMAL_HARM"
	KeywordBiometricDataBreach                       Keyword = "KEYWORD_BIOMETRIC_DATA_BREACH"
	KeywordBullyingAgainstGirls                      Keyword = "KEYWORD_BULLYING_AGAINST_GIRLS"
	KeywordChildSexualAbuseMaterial                  Keyword = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"
	KeywordChildSexualAbuseMaterialDeepfake          Keyword = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"
	KeywordContentPromotingEatingDisorders           Keyword = "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS"
	KeywordCoordinatedHarm                           Keyword = "KEYWORD_COORDINATED_HARM"
	KeywordCopyrightInfringement                     Keyword = "KEYWORD_COPYRIGHT_INFRINGEMENT"
	KeywordCyberBullyingIntimidation                 Keyword = "KEYWORD_CYBER_BULLYING_INTIMIDATION"
	KeywordCyberHarassment                           Keyword = "KEYWORD_CYBER_HARASSMENT"
	KeywordCyberHarassmentAgainstWomen               Keyword = "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN"
	KeywordCyberIncitement                           Keyword = "KEYWORD_CYBER_INCITEMENT"
	KeywordCyberStalking                             Keyword = "KEYWORD_CYBER_STALKING"
	KeywordCyberStalkingAgainstWomen                 Keyword = "KEYWORD_CYBER_STALKING_AGAINST_WOMEN"
	KeywordDataFalsification                         Keyword = "KEYWORD_DATA_FALSIFICATION"
	KeywordDefamation                                Keyword = "KEYWORD_DEFAMATION"
	KeywordDesignInfringement                        Keyword = "KEYWORD_DESIGN_INFRINGEMENT"
	KeywordDiscrimination                            Keyword = "KEYWORD_DISCRIMINATION"
	KeywordFemaleGenderedDisinformation              Keyword = "KEYWORD_FEMALE_GENDERED_DISINFORMATION"
	KeywordGeographicIndicationsInfringement         Keyword = "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT"
	KeywordGeographicalRequirements                  Keyword = "KEYWORD_GEOGRAPHICAL_REQUIREMENTS"
	KeywordGoodsServicesNotPermitted                 Keyword = "KEYWORD_GOODS_SERVICES_NOT_PERMITTED"
	KeywordGroomingSexualEnticementMinors            Keyword = "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"
	KeywordHateSpeech                                Keyword = "KEYWORD_HATE_SPEECH"
	KeywordHiddenAdvertisement                       Keyword = "KEYWORD_HIDDEN_ADVERTISEMENT"
	KeywordHumanExploitation                         Keyword = "KEYWORD_HUMAN_EXPLOITATION"
	KeywordHumanTrafficking                          Keyword = "KEYWORD_HUMAN_TRAFFICKING"
	KeywordIllegalOrganizations                      Keyword = "KEYWORD_ILLEGAL_ORGANIZATIONS"
	KeywordImpersonationAccountHijacking             Keyword = "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING"
	KeywordInauthenticAccounts                       Keyword = "KEYWORD_INAUTHENTIC_ACCOUNTS"
	KeywordInauthenticListings                       Keyword = "KEYWORD_INAUTHENTIC_LISTINGS"
	KeywordInauthenticUserReviews                    Keyword = "KEYWORD_INAUTHENTIC_USER_REVIEWS"
	KeywordIncitementAgainstWomen                    Keyword = "KEYWORD_INCITEMENT_AGAINST_WOMEN"
	KeywordIncitementViolenceHatred                  Keyword = "KEYWORD_INCITEMENT_VIOLENCE_HATRED"
	KeywordInsufficientInformationOnTraders          Keyword = "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS"
	KeywordLanguageRequirements                      Keyword = "KEYWORD_LANGUAGE_REQUIREMENTS"
	KeywordMisinformationDisinformation              Keyword = "KEYWORD_MISINFORMATION_DISINFORMATION"
	KeywordMisleadingInfoConsumerRights              Keyword = "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS"
	KeywordMisleadingInfoGoodsServices               Keyword = "KEYWORD_MISLEADING_INFO_GOODS_SERVICES"
	KeywordMissingProcessingGround                   Keyword = "KEYWORD_MISSING_PROCESSING_GROUND"
	KeywordNonConsensualImageSharing                 Keyword = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"
	KeywordNonConsensualImageSharingAgainstWomen     Keyword = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN"
	KeywordNonConsensualMaterialDeepfake             Keyword = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"
	KeywordNonConsensualMaterialDeepfakeAgainstWomen Keyword = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"
	KeywordNoncompliancePricing                      Keyword = "KEYWORD_NONCOMPLIANCE_PRICING"
	KeywordNudity                                    Keyword = "KEYWORD_NUDITY"
	KeywordPatentInfringement                        Keyword = "KEYWORD_PATENT_INFRINGEMENT"
	KeywordPhishing                                  Keyword = "KEYWORD_PHISHING"
	KeywordProhibitedProducts                        Keyword = "KEYWORD_PROHIBITED_PRODUCTS"
	KeywordPyramidSchemes                            Keyword = "KEYWORD_PYRAMID_SCHEMES"
	KeywordRightToBeForgotten                        Keyword = "KEYWORD_RIGHT_TO_BE_FORGOTTEN"
	KeywordRiskEnvironmentalDamage                   Keyword = "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE"
	KeywordRiskPublicHealth                          Keyword = "KEYWORD_RISK_PUBLIC_HEALTH"
	KeywordSelfMutilation                            Keyword = "KEYWORD_SELF_MUTILATION"
	KeywordStalking                                  Keyword = "KEYWORD_STALKING"
	KeywordSuicide                                   Keyword = "KEYWORD_SUICIDE"
	KeywordTerroristContent                          Keyword = "KEYWORD_TERRORIST_CONTENT"
	KeywordTradeSecretInfringement                   Keyword = "KEYWORD_TRADE_SECRET_INFRINGEMENT"
	KeywordTrademarkInfringement                     Keyword = "KEYWORD_TRADEMARK_INFRINGEMENT"
	KeywordTraffickingWomenGirls                     Keyword = "KEYWORD_TRAFFICKING_WOMEN_GIRLS"
	KeywordUnlawfulSaleAnimals                       Keyword = "KEYWORD_UNLAWFUL_SALE_ANIMALS"
	KeywordUnsafeChallenges                          Keyword = "KEYWORD_UNSAFE_CHALLENGES"
	KeywordUnsafeProducts                            Keyword = "KEYWORD_UNSAFE_PRODUCTS"
	KeywordViolationEULaw                            Keyword = "KEYWORD_VIOLATION_EU_LAW"
	KeywordViolationNationalLaw                      Keyword = "KEYWORD_VIOLATION_NATIONAL_LAW"
	KeywordOther                                     Keyword = "KEYWORD_OTHER" // needs CategorySpecificationOther
)

// SourceType says where the information that led to the decision came from
// (Article 17(3)(b)).
type SourceType string

// The sources.
const (
	SourceArticle16             SourceType = "SOURCE_ARTICLE_16"              // a notice under Article 16
	SourceTrustedFlagger        SourceType = "SOURCE_TRUSTED_FLAGGER"         // a notice by a trusted flagger (Article 22)
	SourceTypeOtherNotification SourceType = "SOURCE_TYPE_OTHER_NOTIFICATION" // any other notification
	SourceVoluntary             SourceType = "SOURCE_VOLUNTARY"               // the platform's own initiative; no source_identity
)

// YesNo is the API's boolean, spelt "Yes" or "No".
type YesNo string

// The two answers.
const (
	Yes YesNo = "Yes"
	No  YesNo = "No"
)

// YesNoOf turns a bool into the API's spelling.
func YesNoOf(b bool) YesNo {
	if b {
		return Yes
	}
	return No
}

// AutomatedDecision says how far the decision itself was automated
// (Article 17(3)(c)); whether detection was automated is a separate field.
type AutomatedDecision string

// The degrees of automation.
const (
	AutomatedFully     AutomatedDecision = "AUTOMATED_DECISION_FULLY"
	AutomatedPartially AutomatedDecision = "AUTOMATED_DECISION_PARTIALLY"
	NotAutomated       AutomatedDecision = "AUTOMATED_DECISION_NOT_AUTOMATED"
)

// Country is a member of the territorial scope: an ISO 3166-1 alpha-2 code of
// an EU or EEA state, upper case. Greece is GR here, not the EU's own "EL".
type Country string

// euCountries are the 27 member states of the European Union.
var euCountries = []Country{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
	"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
}

// eeaCountries are the 30 states of the European Economic Area: the EU plus
// Iceland, Liechtenstein and Norway. They are exactly the values the API
// accepts in territorial_scope.
var eeaCountries = []Country{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
	"IE", "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
}

// EUCountries returns the 27 member states of the European Union, the
// territorial scope of a restriction in the whole EU.
func EUCountries() []Country { return slices.Clone(euCountries) }

// EEACountries returns the 30 states of the European Economic Area, exactly
// the values territorial_scope accepts: the scope of a restriction that
// applies everywhere.
func EEACountries() []Country { return slices.Clone(eeaCountries) }

// Language is an ISO 639-1 code in upper case, such as "EN" or "DE".
type Language string

// The sets behind membership checks, built once from the constants above.
var (
	visibilitySet = setOf(VisibilityContentRemoved, VisibilityContentDisabled, VisibilityContentDemoted,
		VisibilityContentAgeRestricted, VisibilityContentInteractionRestricted, VisibilityContentLabelled, VisibilityOther)
	monetarySet  = setOf(MonetarySuspension, MonetaryTermination, MonetaryOther)
	provisionSet = setOf(ProvisionPartialSuspension, ProvisionTotalSuspension, ProvisionPartialTermination, ProvisionTotalTermination)
	accountSet   = setOf(AccountSuspended, AccountTerminated)
	accountTypes = setOf(AccountTypeBusiness, AccountTypePrivate)
	groundSet    = setOf(GroundIllegalContent, GroundIncompatibleContent)
	contentSet   = setOf(ContentApp, ContentAudio, ContentImage, ContentProduct, ContentSyntheticMedia, ContentText,
		ContentVideo, ContentOther)
	categoryList = []Category{CategoryAnimalWelfare, CategoryConsumerInformation, CategoryCyberViolence,
		CategoryCyberViolenceAgainstWomen, CategoryDataProtectionAndPrivacyViolations, CategoryIllegalOrHarmfulSpeech,
		CategoryIntellectualPropertyInfringements, CategoryNegativeEffectsOnCivicDiscourse, CategoryNotSpecifiedNotice,
		CategoryOtherViolationTC, CategoryProtectionOfMinors, CategoryRiskForPublicSecurity, CategoryScamsAndFraud,
		CategorySelfHarm, CategoryUnsafeAndProhibitedProducts, CategoryViolence}
	categorySet = setOf(categoryList...)
	keywordList = []Keyword{KeywordAdultSexualMaterial, KeywordAgeSpecificRestrictions, KeywordAgeSpecificRestrictionsMinors,
		KeywordAnimalHarm, KeywordBiometricDataBreach, KeywordBullyingAgainstGirls, KeywordChildSexualAbuseMaterial,
		KeywordChildSexualAbuseMaterialDeepfake, KeywordContentPromotingEatingDisorders, KeywordCoordinatedHarm,
		KeywordCopyrightInfringement, KeywordCyberBullyingIntimidation, KeywordCyberHarassment,
		KeywordCyberHarassmentAgainstWomen, KeywordCyberIncitement, KeywordCyberStalking, KeywordCyberStalkingAgainstWomen,
		KeywordDataFalsification, KeywordDefamation, KeywordDesignInfringement, KeywordDiscrimination,
		KeywordFemaleGenderedDisinformation, KeywordGeographicIndicationsInfringement, KeywordGeographicalRequirements,
		KeywordGoodsServicesNotPermitted, KeywordGroomingSexualEnticementMinors, KeywordHateSpeech,
		KeywordHiddenAdvertisement, KeywordHumanExploitation, KeywordHumanTrafficking, KeywordIllegalOrganizations,
		KeywordImpersonationAccountHijacking, KeywordInauthenticAccounts, KeywordInauthenticListings,
		KeywordInauthenticUserReviews, KeywordIncitementAgainstWomen, KeywordIncitementViolenceHatred,
		KeywordInsufficientInformationOnTraders, KeywordLanguageRequirements, KeywordMisinformationDisinformation,
		KeywordMisleadingInfoConsumerRights, KeywordMisleadingInfoGoodsServices, KeywordMissingProcessingGround,
		KeywordNonConsensualImageSharing, KeywordNonConsensualImageSharingAgainstWomen,
		KeywordNonConsensualMaterialDeepfake, KeywordNonConsensualMaterialDeepfakeAgainstWomen, KeywordNoncompliancePricing,
		KeywordNudity, KeywordPatentInfringement, KeywordPhishing, KeywordProhibitedProducts, KeywordPyramidSchemes,
		KeywordRightToBeForgotten, KeywordRiskEnvironmentalDamage, KeywordRiskPublicHealth, KeywordSelfMutilation,
		KeywordStalking, KeywordSuicide, KeywordTerroristContent, KeywordTradeSecretInfringement,
		KeywordTrademarkInfringement, KeywordTraffickingWomenGirls, KeywordUnlawfulSaleAnimals, KeywordUnsafeChallenges,
		KeywordUnsafeProducts, KeywordViolationEULaw, KeywordViolationNationalLaw, KeywordOther}
	keywordSet    = setOf(keywordList...)
	sourceSet     = setOf(SourceArticle16, SourceTrustedFlagger, SourceTypeOtherNotification, SourceVoluntary)
	yesNoSet      = setOf(Yes, No)
	automationSet = setOf(AutomatedFully, AutomatedPartially, NotAutomated)
	countrySet    = setOf(eeaCountries...)
)

// setOf makes a membership set of string-typed constants.
func setOf[T ~string](values ...T) map[T]bool {
	m := make(map[T]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

// Categories returns every statement category (STATEMENT_CATEGORY_*), in
// the database's order: the list to offer when a category is chosen.
func Categories() []Category { return slices.Clone(categoryList) }

// Keywords returns every category specification (KEYWORD_*), in the
// database's order.
func Keywords() []Keyword { return slices.Clone(keywordList) }

// IsCategory reports whether c is a statement category.
func IsCategory(c Category) bool { return categorySet[c] }

// IsKeyword reports whether k is a category specification.
func IsKeyword(k Keyword) bool { return keywordSet[k] }

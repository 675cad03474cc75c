package sor

import "strings"

// iso639_1 lists the 183 two-letter codes of ISO 639-1 in upper case, the
// spelling the Transparency Database asks for in content_language. The
// withdrawn code BH (Bihari) is left out: the Commission still accepts it,
// but a statement written today should name the actual language.
const iso639_1 = "AA AB AE AF AK AM AN AR AS AV AY AZ BA BE BG BI BM BN BO BR BS CA CE CH CO CR CS CU CV CY " +
	"DA DE DV DZ EE EL EN EO ES ET EU FA FF FI FJ FO FR FY GA GD GL GN GU GV HA HE HI HO HR HT HU HY HZ " +
	"IA ID IE IG II IK IO IS IT IU JA JV KA KG KI KJ KK KL KM KN KO KR KS KU KV KW KY LA LB LG LI LN LO " +
	"LT LU LV MG MH MI MK ML MN MR MS MT MY NA NB ND NE NG NL NN NO NR NV NY OC OJ OM OR OS PA PI PL PS " +
	"PT QU RM RN RO RU RW SA SC SD SE SG SI SK SL SM SN SO SQ SR SS ST SU SV SW TA TE TG TH TI TK TL TN " +
	"TO TR TS TT TW TY UG UK UR UZ VE VI VO WA WO XH YI YO ZA ZH ZU"

// languageSet holds the codes of iso639_1.
var languageSet = setOf(strings.Fields(iso639_1)...)

// IsLanguage reports whether l is an upper-case ISO 639-1 code that the
// Transparency Database accepts.
func IsLanguage(l Language) bool { return languageSet[string(l)] }

package parley

// Screening decisions, from the strongest to the weakest. They unify the
// actions of text rules (internal/safety/rules) and of hash banks
// (internal/safety/banks).
const (
	ScreenBlock  = "block"  // refuse the post or upload; keep what was sent as evidence
	ScreenRemove = "remove" // store it and remove it at once, with a statement of reasons
	ScreenHold   = "hold"   // store it invisible until a moderator reviews it
	ScreenLabel  = "label"  // show it with a label, with a statement of reasons
	ScreenNone   = ""       // nothing enforced matched
)

// ScreenRank orders screening decisions: a larger rank is stronger.
func ScreenRank(decision string) int {
	switch decision {
	case ScreenBlock:
		return 4
	case ScreenRemove:
		return 3
	case ScreenHold:
		return 2
	case ScreenLabel:
		return 1
	}
	return 0
}

// Sources of a screening match.
const (
	MatchRule = "rule" // a text screening rule
	MatchBank = "bank" // a hash bank entry
)

// ScreeningMatch is one rule or bank entry that matched a post or an upload,
// enforced or in shadow mode, with exactly what matched.
type ScreeningMatch struct {
	Source   string `json:"source"`    // MatchRule or MatchBank
	SourceID string `json:"source_id"` // the rule's id, or the bank's id
	Name     string `json:"name"`      // the rule's or the bank's name
	// Version is the rule's version, or the bank change log id the matcher
	// had applied: what the decision can be traced back to.
	Version  int    `json:"version"`
	Decision string `json:"decision"` // what the match asks for (Screen*)
	Shadow   bool   `json:"shadow,omitempty"`
	// Suppressed is a bank match overridden by an allow bank.
	Suppressed bool   `json:"suppressed,omitempty"`
	Detail     string `json:"detail"` // the pattern, the entry, the distance
	Category   string `json:"category,omitempty"`
	Label      string `json:"label,omitempty"`
}

// Screening is the outcome of screening one post or upload.
type Screening struct {
	// Decision is the strongest decision among the enforced, unsuppressed
	// matches; ScreenNone when there is none.
	Decision string           `json:"decision"`
	Matches  []ScreeningMatch `json:"matches,omitempty"`
	// By is the match that made the decision (nil for ScreenNone).
	By *ScreeningMatch `json:"by,omitempty"`
}

// Enforced reports whether anything but shadow or suppressed matches
// were found.
func (s *Screening) Enforced() bool { return s != nil && s.Decision != ScreenNone }

package enforce

import (
	"parley"
	"parley/internal/sor"
)

// SignalOf names the rule or hash bank a screening match came from, as a
// statement of reasons names its signal: the automated screen's own
// actions and a moderator's decision on what the screen held both carry it.
func SignalOf(by *parley.ScreeningMatch) sor.Signal {
	kind := sor.SignalTextRule
	if by.Source == parley.MatchBank {
		kind = sor.SignalHashBank
	}
	return sor.Signal{Kind: kind, Name: signalName(by), Version: max(1, by.Version)}
}

// signalName makes a statement's signal name from a rule id or bank name
// (an identifier of A-Z a-z 0-9 . _ : -, at most 64).
func signalName(m *parley.ScreeningMatch) string {
	name := m.SourceID
	if m.Source == parley.MatchBank {
		name = m.Name
	}
	b := []byte(name)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	if len(b) == 0 {
		return "unnamed"
	}
	return string(b)
}

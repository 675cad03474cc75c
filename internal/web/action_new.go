package web

import (
	"net/http"

	"parley"
	"parley/internal/sor"
)

// actionFormPage is the data of the take-action form.
type actionFormPage struct {
	page
	Form *form
}

// actionFields are the fields of the take-action form.
var actionFields = []string{"kind", "chat_id", "seq", "media_id", "username", "countries", "also_unknown", "label", "until",
	"ground", "ground_text", "also_illegal", "category", "source", "notifier", "automation", "automated_detection", "note"}

// The choices of the form, for its template.
func (p *actionFormPage) KindOptions() []option       { return takeKindOptions() }
func (p *actionFormPage) GroundOptions() []option     { return groundChoices }
func (p *actionFormPage) CategoryOptions() []option   { return categoryOptions("Choose a category") }
func (p *actionFormPage) KeywordOptions() []option    { return keywordOptions() }
func (p *actionFormPage) SourceOptions() []option     { return sourceChoices }
func (p *actionFormPage) AutomationOptions() []option { return automationChoices }

// AlsoUnknownHint explains the choice to withhold from viewers whose
// country is unknown, and what it means where no viewer's country is known.
func (p *actionFormPage) AlsoUnknownHint() string {
	hint := "Withholdings only: hide it as well from viewers whom no trusted source places (a hidden proxy, an address not in the table), who could be in these countries."
	if p.CountryUnknown {
		hint += " No source is configured on this server: without this, the withholding hides nothing from anyone."
	}
	return hint
}

// actionNew shows the form to take an enforcement action. The target and
// kind may be given in the query (?kind=remove_message&chat_id=3&seq=7), so
// that other pages can link to the form ready to act on an item.
func (s *Server) actionNew(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := newForm()
	for _, name := range actionFields {
		f.Values[name] = ""
	}
	q := r.URL.Query()
	for _, name := range []string{"kind", "chat_id", "seq", "media_id", "username"} {
		f.Values[name] = q.Get(name)
	}
	f.Values["source"] = string(sor.SourceVoluntary)
	f.Values["automation"] = string(sor.NotAutomated)
	f.Values["keywords"] = ""
	s.render(w, r, http.StatusOK, "action_new", &actionFormPage{page: modPage("Take an action", "take"), Form: f})
	return nil
}

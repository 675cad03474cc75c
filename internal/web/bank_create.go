package web

import (
	"net/http"
	"strings"

	"parley"
	"parley/internal/api"
	"parley/internal/safety/banks"
)

// bankCreate creates a bank from the form.
func (s *Server) bankCreate(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	if err := r.ParseForm(); err != nil {
		return parley.Errorf(parley.EInvalid, "the form could not be read; please try again")
	}
	f := formFrom(r, bankFields...)
	keywords := f.readList(r, "keywords")
	b, err := s.Banks.CreateBank(r.Context(), banks.UserActor(u), banks.Bank{
		Name:        strings.TrimSpace(f.Get("name")),
		Description: strings.TrimSpace(f.Get("description")),
		Kind:        banks.Kind(f.Get("kind")),
		Category:    f.Get("category"),
		Keywords:    keywords,
		Action:      banks.Action(f.Get("action")),
		Label:       strings.TrimSpace(f.Get("label")),
		Enabled:     f.Get("enabled") != "",
	})
	if err != nil {
		if !formError(err) || parley.ErrorCode(err) == parley.EForbidden {
			return err
		}
		f.fail(err, nil)
		f.nameErrors(map[string]string{"name": "The name", "description": "The description", "kind": "The kind",
			"category": "The category", "keywords": "The list of keywords", "action": "The action", "label": "The label"})
		s.render(w, r, api.StatusOf(err), "bank_new", &bankFormPage{page: modPage("New hash bank", "banks"), Form: f})
		return nil
	}
	setFlash(w, "Hash bank "+b.Name+" created. Add entries, or import a file.")
	return seeOther(w, r, bankURL(b.ID))
}

package web

import (
	"net/http"

	"parley"
)

// bankNew shows the form that creates a bank.
func (s *Server) bankNew(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := newForm()
	for _, name := range bankFields {
		f.Values[name] = ""
	}
	f.Values["keywords"] = ""
	f.Values["enabled"] = "yes"
	s.render(w, r, http.StatusOK, "bank_new", &bankFormPage{page: modPage("New hash bank", "banks"), Form: f})
	return nil
}

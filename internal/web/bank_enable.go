package web

import (
	"net/http"

	"parley"
	"parley/internal/safety/banks"
)

// bankSetEnabled enables or disables a bank.
func (s *Server) bankSetEnabled(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	enabled := r.PostFormValue("enabled") == "true"
	b, err := s.Banks.SetBankEnabled(r.Context(), banks.UserActor(u), id, enabled)
	if err != nil {
		return err
	}
	if b.Enabled {
		setFlash(w, "Bank "+b.Name+" enabled: its entries match from now on.")
	} else {
		setFlash(w, "Bank "+b.Name+" disabled: it matches nothing until enabled again.")
	}
	return seeOther(w, r, bankURL(b.ID))
}

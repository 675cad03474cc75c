package web

import (
	"fmt"
	"net/http"

	"parley"
	"parley/internal/safety/banks"
)

// entryRemove removes one entry from a bank, with an optional reason.
func (s *Server) entryRemove(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadBankPage(r.Context(), r, u)
	if err != nil {
		return err
	}
	entryID, err := pathID(r, "entryID")
	if err != nil {
		return err
	}
	p.Remove = formFrom(r, "reason")
	if err := s.Banks.RemoveEntry(r.Context(), banks.UserActor(u), p.Bank.ID, entryID, p.Remove.Get("reason")); err != nil {
		if parley.ErrorCode(err) == parley.ENotFound {
			err = parley.Errorf(parley.ENotFound, "entry %d is not in %s (any more)", entryID, p.Bank.Name)
		}
		return s.renderBankForm(w, r, u, p, p.Remove, err, nil)
	}
	setFlash(w, fmt.Sprintf("Entry %d removed from %s.", entryID, p.Bank.Name))
	return seeOther(w, r, bankURL(p.Bank.ID))
}

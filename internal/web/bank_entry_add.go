package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"parley"
	"parley/internal/safety/banks"
)

// entryAdd adds one entry to a bank.
func (s *Server) entryAdd(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadBankPage(r.Context(), r, u)
	if err != nil {
		return err
	}
	p.Add = formFrom(r, entryFields...)
	in := banks.Entry{Type: banks.EntryType(p.Add.Get("type")), Value: p.Add.Get("value"), Source: p.Add.Get("source"),
		ExternalID: p.Add.Get("external_id"), Tags: splitList(p.Add.Get("tags")), Note: p.Add.Get("note")}
	if q := p.Add.Get("quality"); q != "" {
		if in.Quality, err = strconv.Atoi(strings.TrimSpace(q)); err != nil {
			return s.renderBankForm(w, r, u, p, p.Add, parley.FieldError("quality", "is a number from 50 to 100, or empty when not known"), nil)
		}
	}
	e, added, err := s.Banks.AddEntry(r.Context(), banks.UserActor(u), p.Bank.ID, in)
	if err != nil {
		return s.renderBankForm(w, r, u, p, p.Add, err, nil)
	}
	if added {
		setFlash(w, fmt.Sprintf("Entry %d added to %s.", e.ID, p.Bank.Name))
	} else {
		setFlash(w, fmt.Sprintf("%s already holds that value (entry %d); nothing changed.", p.Bank.Name, e.ID))
	}
	return seeOther(w, r, bankURL(p.Bank.ID))
}

package web

import (
	"fmt"
	"net/http"

	"parley"
	"parley/internal/safety/banks"
	"parley/internal/sor"
)

// Hash banks are for moderators and admins (banks.Service decides); a
// legal officer who opens these pages is told so.

// bankListPage is the data of the list of hash banks.
type bankListPage struct {
	page
	Banks []bankRow
}

// bankRow is one bank in the list.
type bankRow struct {
	*banks.Bank
	ActionLabel, Category string
}

// bankActionLabels say what a block bank's match asks for.
var bankActionLabels = map[banks.Action]string{
	banks.ActionBlockUpload: "Block the upload or post",
	banks.ActionRemove:      "Remove, with a statement of reasons",
	banks.ActionReview:      "Hold for review",
	banks.ActionLabel:       "Show with a label",
	banks.ActionNone:        "None: suppresses block matches",
}

// bankList lists every hash bank with its entry count.
func (s *Server) bankList(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	list, err := s.Banks.Banks(r.Context(), banks.UserActor(u))
	if err != nil {
		return err
	}
	p := &bankListPage{page: modPage("Hash banks", "banks")}
	for _, b := range list {
		p.Banks = append(p.Banks, bankRow{Bank: b, ActionLabel: bankActionLabels[b.Action], Category: categoryName(sor.Category(b.Category))})
	}
	s.render(w, r, http.StatusOK, "bank_list", p)
	return nil
}

// bankFormPage is the data of the form that creates a bank.
type bankFormPage struct {
	page
	Form *form
}

// bankFields are the fields of the form that creates a bank.
var bankFields = []string{"name", "description", "kind", "category", "action", "label", "enabled"}

func (p *bankFormPage) KindOptions() []option {
	return []option{{"", "Choose the kind"}, {string(banks.KindBlock), "Block: lists harmful content"}, {string(banks.KindAllow), "Allow: lists known false positives"}}
}

func (p *bankFormPage) ActionOptions() []option {
	opts := []option{{"", "None (allow banks)"}}
	for _, a := range []banks.Action{banks.ActionBlockUpload, banks.ActionRemove, banks.ActionReview, banks.ActionLabel} {
		opts = append(opts, option{string(a), bankActionLabels[a]})
	}
	return opts
}

func (p *bankFormPage) CategoryOptions() []option { return categoryOptions("None (allow banks)") }
func (p *bankFormPage) KeywordOptions() []option  { return keywordOptions() }

// bankURL is the address of a bank's page.
func bankURL(id int64) string { return fmt.Sprintf("/moderation/banks/%d", id) }

package web

import (
	"net/http"

	"parley"
	"parley/internal/safety/campaign"
)

// Campaigns are for moderators and admins (campaign.Service decides): the
// detector groups near-identical posts by several accounts, and a
// moderator removes a campaign's posts at once or dismisses it.

// campaignListPage is the data of the list of campaigns.
type campaignListPage struct {
	page
	Filter    *form
	Status    string
	Campaigns []*campaign.Stored
}

// campaignListSize is how many campaigns the list shows.
const campaignListSize = 100

var campaignStatusLabels = map[string]string{
	campaign.StatusOpen:      "Open",
	campaign.StatusRemoved:   "Removed",
	campaign.StatusDismissed: "Dismissed",
	campaign.StatusAbsorbed:  "Merged into another",
}

// StatusOptions are the choices of the list's filter.
func (p *campaignListPage) StatusOptions() []option {
	var opts []option
	for _, st := range []string{campaign.StatusOpen, campaign.StatusRemoved, campaign.StatusDismissed, campaign.StatusAbsorbed} {
		opts = append(opts, option{st, campaignStatusLabels[st]})
	}
	return opts
}

// campaignList lists the campaigns with a status (?status=, open by
// default), the most recently active first.
func (s *Server) campaignList(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	status := r.URL.Query().Get("status")
	if status == "" {
		status = campaign.StatusOpen
	}
	list, err := s.Campaigns.List(r.Context(), u, status, campaignListSize)
	if err != nil {
		return err
	}
	p := &campaignListPage{page: modPage("Campaigns", "campaigns"), Filter: newForm(), Status: status, Campaigns: list}
	p.Filter.Values["status"] = status
	s.render(w, r, http.StatusOK, "campaign_list", p)
	return nil
}

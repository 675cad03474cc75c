package web

import (
	"fmt"
	"net/http"

	"parley"
)

// campaignDismiss records that a campaign is harmless; its posts stay up.
func (s *Server) campaignDismiss(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Campaigns.Dismiss(r.Context(), u, id); err != nil {
		return s.renderCampaignForm(w, r, u, func(p *campaignPage) *form { return p.Dismiss }, err)
	}
	setFlash(w, fmt.Sprintf("Campaign #%d dismissed: its posts stay up.", id))
	return seeOther(w, r, "/moderation/campaigns")
}

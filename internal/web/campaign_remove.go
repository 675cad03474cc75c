package web

import (
	"fmt"
	"net/http"

	"parley"
	"parley/internal/sor"
)

// campaignRemove removes every post of a campaign that is still up, each
// with a statement of reasons for its author, on the grounds of the form
// (campaign.DefaultGrounds unless the moderator changes them).
func (s *Server) campaignRemove(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := formFrom(r, groundsFields...)
	keywords := f.readList(r, "keywords")
	g, err := readGrounds(f, keywords)
	removed := 0
	if err == nil {
		g.Source = sor.SourceVoluntary
		removed, err = s.Campaigns.Remove(r.Context(), u, id, &g)
	}
	if err != nil {
		if removed > 0 {
			// Part of the campaign was removed before the error: the page
			// shows which posts are still up.
			s.Log.Warn("web: campaign removal stopped part way", "campaign", id, "removed", removed, "err", err)
		}
		return s.renderCampaignForm(w, r, u, func(p *campaignPage) *form { p.Remove = f; return f }, err)
	}
	setFlash(w, fmt.Sprintf("Campaign #%d: %s removed, each with a statement of reasons for its author.", id, plural(int64(removed), "post", "posts")))
	return seeOther(w, r, fmt.Sprintf("/moderation/campaigns/%d", id))
}

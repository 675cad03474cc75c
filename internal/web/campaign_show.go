package web

import (
	"context"
	"fmt"
	"net/http"

	"parley"
	"parley/internal/api"
	"parley/internal/safety/campaign"
	"parley/internal/safety/enforce"
)

// campaignPage is the data of a campaign's page: its posts, and the forms
// to remove them all or dismiss it.
type campaignPage struct {
	page
	*campaign.Stored
	StatusLabel string
	DecidedBy   string
	Members     []memberRow
	// StillUp counts the posts not removed yet.
	StillUp int64
	Remove  *form
	Dismiss *form
}

// memberRow is one post of a campaign.
type memberRow struct {
	*campaign.StoredMember
	Where   link
	Account string
}

// Open says whether the campaign waits for a decision.
func (p *campaignPage) Open() bool { return p.Status == campaign.StatusOpen }

// campaignShow shows a campaign and its posts.
func (s *Server) campaignShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadCampaignPage(r.Context(), r, u)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "campaign_show", p)
	return nil
}

// renderCampaignForm shows the campaign's page, loaded only now, with err
// on the form which picks (or puts in place), or returns err when the page
// cannot show it.
func (s *Server) renderCampaignForm(w http.ResponseWriter, r *http.Request, u *parley.User, which func(*campaignPage) *form, err error) error {
	if !formError(err) || parley.ErrorCode(err) == parley.EForbidden {
		return err
	}
	p, perr := s.loadCampaignPage(r.Context(), r, u)
	if perr != nil {
		return perr
	}
	which(p).failAll(err, actionErrorFields)
	s.render(w, r, api.StatusOf(err), "campaign_show", p)
	return nil
}

func (s *Server) loadCampaignPage(ctx context.Context, r *http.Request, u *parley.User) (*campaignPage, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	c, members, err := s.Campaigns.Find(ctx, u, id)
	if err != nil {
		return nil, err
	}
	n := s.names(ctx)
	p := &campaignPage{page: modPage(fmt.Sprintf("Campaign #%d", c.ID), "campaigns"), Stored: c,
		StatusLabel: labelOr(campaignStatusLabels, c.Status), DecidedBy: n.username(c.DecidedBy, "the system"),
		Remove: newForm(), Dismiss: newForm()}
	for _, m := range members {
		p.Members = append(p.Members, memberRow{StoredMember: m, Account: n.username(m.AccountID, "unknown"),
			Where: n.target(enforce.Target{Type: enforce.TargetMessage, ChatID: m.ChatID, Seq: m.Seq})})
		if !m.Removed {
			p.StillUp++
		}
	}
	for _, name := range groundsFields {
		p.Remove.Values[name] = ""
	}
	setGrounds(p.Remove, campaign.DefaultGrounds)
	return p, nil
}

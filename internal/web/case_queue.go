package web

import (
	"fmt"
	"net/http"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
)

// The review queue is for moderators and admins (review.Service decides):
// what the automated screen held or stopped waits there for a person, the
// most urgent first.

// caseListPage is the data of the queue and of the list of decided cases.
type caseListPage struct {
	page
	// Cases are, on the queue, the first caseListSize of the page's
	// QueueOpen open cases.
	Cases   []caseRow
	Decided bool
}

// caseRow is one review case as the lists and its page show it.
type caseRow struct {
	*review.Case
	KindLabel     string
	DecisionLabel string
	Target        link
	Author        string
	// Matched names the rule or bank whose match opened the case.
	Matched   string
	DecidedBy string
}

// caseListSize is how many cases the lists show.
const caseListSize = 100

var caseKindLabels = map[string]string{
	review.KindHeldPost:      "Post held for review",
	review.KindScreenedPost:  "Post held while the screen acted",
	review.KindFlaggedPost:   "Visible post found by re-screening",
	review.KindBlockedUpload: "Upload stopped by a hash bank",
	review.KindFlaggedMedia:  "Stored image found by re-screening",
}

var caseDecisionLabels = map[string]string{
	review.DecisionApproved:  "Approved: made visible",
	review.DecisionRemoved:   "Removed",
	review.DecisionConfirmed: "Block confirmed",
	review.DecisionReleased:  "Block released: a false positive",
	review.DecisionAutomated: "Settled by the screen’s own action",
}

// caseQueue lists the open cases, most urgent first.
func (s *Server) caseQueue(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	cases, open, err := s.Review.Queue(r.Context(), u, caseListSize)
	if err != nil {
		return err
	}
	p := &caseListPage{page: modPage("Review queue", "queue")}
	p.QueueOpen, p.queueCounted = open, true
	n := s.names(r.Context())
	for _, c := range cases {
		p.Cases = append(p.Cases, n.caseRow(c))
	}
	s.render(w, r, http.StatusOK, "case_list", p)
	return nil
}

func (n *names) caseRow(c *review.Case) caseRow {
	row := caseRow{Case: c, KindLabel: labelOr(caseKindLabels, c.Kind), DecisionLabel: labelOr(caseDecisionLabels, c.Decision),
		Author: n.username(c.UserID, "unknown"), DecidedBy: n.username(c.DecidedBy, "the screen")}
	switch c.TargetType {
	case review.TargetMessage:
		if t, err := enforce.ParseTarget(enforce.TargetMessage, c.TargetID); err == nil {
			row.Target = n.target(t)
		}
	case review.TargetMedia:
		row.Target = link{Text: "Image " + shortID(c.TargetID)}
	}
	if row.Target.Text == "" {
		row.Target.Text = c.TargetType + " " + c.TargetID
	}
	if sc := c.Screening; sc != nil && sc.By != nil {
		row.Matched = matchName(sc.By)
	} else if c.Kind == review.KindBlockedUpload {
		row.Matched = "A new attempt to upload an image stopped before"
	}
	return row
}

// matchName names a screening match's rule or bank, with its version.
func matchName(m *parley.ScreeningMatch) string {
	if m.Source == parley.MatchRule {
		return fmt.Sprintf("Rule %s, version %d", m.SourceID, m.Version)
	}
	return fmt.Sprintf("Bank %s", m.Name)
}

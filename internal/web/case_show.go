package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/safety/screen"
	"parley/internal/sor"
)

// casePage is the data of a review case's page: what matched, the post or
// image in its context, and the decisions that apply to it.
type casePage struct {
	page
	caseRow
	Matches []screeningRow
	// Account is the author or uploader (nil when the account is gone),
	// AccountDays its age in whole days and Strikes its standing strikes.
	Account              *parley.User
	AccountDays, Strikes int64
	// For a case about a message: the message (nil when it is gone), its
	// chat, and the messages before it, oldest first.
	Message *parley.Message
	Chat    *parley.Chat
	Earlier []contextMessage
	// Media is the image the case is about, or the message's image.
	Media *parley.Media
	// ShowImage says its thumbnail may be shown: never for an upload a hash
	// bank stopped, which may be illegal material.
	ShowImage bool
	// TakeActionURL opens the take-action form for an image the queue has
	// no decision for (a stored image re-screening found).
	TakeActionURL string
	// The forms of the decisions; Decide carries the errors of approving
	// and confirming, which have no fields.
	Decide, Remove, Release *form
}

// screeningRow is one match of the screening that opened the case.
type screeningRow struct {
	parley.ScreeningMatch
	// Source links to the rule's or the bank's page.
	Source link
	// Made is set on the match that made the decision.
	Made bool
}

// CategoryName names the match's category in words.
func (m screeningRow) CategoryName() string {
	if m.Category == "" {
		return ""
	}
	return categoryName(sor.Category(m.Category))
}

// ModeLabel says whether the match acted.
func (m screeningRow) ModeLabel() string {
	switch {
	case m.Shadow:
		return "shadow"
	case m.Suppressed:
		return "suppressed"
	}
	return "enforce"
}

// contextMessage is a message shown before the case's post, to read it in
// its context.
type contextMessage struct {
	Seq    int64
	Author string
	At     time.Time
	Text   string
	// Hidden says why the text is not shown (removed), or is empty.
	Hidden string
}

// caseContextMessages is how many earlier messages of the chat the page
// shows.
const caseContextMessages = 3

// IsPost says whether the case is about a post.
func (p *casePage) IsPost() bool { return p.TargetType == review.TargetMessage }

// Blocked says whether the case is about an upload a hash bank stopped.
func (p *casePage) Blocked() bool { return p.Kind == review.KindBlockedUpload }

// Open says whether the case waits for a decision.
func (p *casePage) Open() bool { return p.Status == review.StatusOpen }

// CanDecidePost says whether approving and removing apply.
func (p *casePage) CanDecidePost() bool {
	return p.Open() && slices.Contains([]string{review.KindHeldPost, review.KindScreenedPost, review.KindFlaggedPost, review.KindFlaggedMedia}, p.Kind)
}

// CanDecideBlock says whether confirming and releasing the block apply.
func (p *casePage) CanDecideBlock() bool { return p.Open() && p.Kind == review.KindBlockedUpload }

// caseShow shows a review case.
func (s *Server) caseShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadCasePage(r.Context(), r, u)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "case_show", p)
	return nil
}

func (s *Server) loadCasePage(ctx context.Context, r *http.Request, u *parley.User) (*casePage, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	c, err := s.Review.Find(ctx, u, id)
	if err != nil {
		return nil, err
	}
	n := s.names(ctx)
	p := &casePage{page: modPage(fmt.Sprintf("Case #%d", c.ID), "queue"), caseRow: n.caseRow(c),
		Decide: newForm(), Remove: newForm(), Release: newForm()}
	if sc := c.Screening; sc != nil {
		for _, m := range sc.Matches {
			p.Matches = append(p.Matches, screeningRow{ScreeningMatch: m, Source: matchSource(m), Made: sc.By != nil && m == *sc.By})
		}
	}
	if p.Account = n.user(c.UserID); p.Account != nil {
		p.AccountDays = int64(time.Since(p.Account.CreatedAt).Hours() / 24)
		p.Strikes = int64(p.Account.Strikes)
	}
	mediaID := ""
	switch c.TargetType {
	case review.TargetMessage:
		t, err := enforce.ParseTarget(enforce.TargetMessage, c.TargetID)
		if err != nil {
			return nil, err
		}
		p.Chat = n.chat(t.ChatID)
		p.Message, err = s.Messaging.Store.FindMessage(ctx, t.ChatID, t.Seq)
		if parley.ErrorCode(err) == parley.ENotFound {
			p.Message = nil
		} else if err != nil {
			return nil, err
		}
		if p.Message != nil {
			mediaID = p.Message.MediaID
		}
		earlier, err := s.Messaging.Store.ListMessages(ctx, t.ChatID, 0, t.Seq, caseContextMessages)
		if err != nil {
			return nil, err
		}
		for i := len(earlier) - 1; i >= 0; i-- {
			m := earlier[i]
			cm := contextMessage{Seq: m.Seq, Author: n.username(m.SenderID, "unknown"), At: m.CreatedAt, Text: m.Text}
			if m.Moderation != nil && m.Moderation.Removed != nil {
				cm.Text, cm.Hidden = "", "Removed: "+m.Moderation.Removed.Reason
			}
			p.Earlier = append(p.Earlier, cm)
		}
	case review.TargetMedia:
		mediaID = c.TargetID
		p.TakeActionURL = fmt.Sprintf("/moderation/actions/new?kind=%s&media_id=%s", enforce.RemoveMedia, c.TargetID)
	}
	if mediaID != "" {
		p.Media, err = s.Messaging.Store.FindMedia(ctx, mediaID)
		if parley.ErrorCode(err) == parley.ENotFound {
			p.Media = nil
		} else if err != nil {
			return nil, err
		}
		p.ShowImage = p.Media != nil && p.Media.Status == "" && c.Kind != review.KindBlockedUpload
	}

	for _, name := range groundsFields {
		p.Remove.Values[name] = ""
	}
	g := enforce.Grounds{Ground: sor.GroundIncompatibleContent, TermsGround: screen.TermsGround}
	if sc := c.Screening; sc != nil && sc.By != nil {
		g.Category = sor.Category(sc.By.Category)
	}
	setGrounds(p.Remove, g)
	p.Release.Values["reason"] = ""
	return p, nil
}

// matchSource links a screening match to its rule's or bank's page.
func matchSource(m parley.ScreeningMatch) link {
	if m.Source == parley.MatchRule {
		return link{Text: "Rule " + m.SourceID, URL: ruleURL(m.SourceID)}
	}
	l := link{Text: "Bank " + m.Name}
	if id, err := strconv.ParseInt(m.SourceID, 10, 64); err == nil {
		l.URL = bankURL(id)
	}
	return l
}

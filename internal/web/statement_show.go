package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

// appealWindow is how long, at least, an account may complain about a
// decision after it is told of it (Article 20(1) DSA: at least six months).
const appealWindow = 6 // months

// statementPage is the data of the page that explains one decision to the
// account it affects: a statement of reasons (Article 17 DSA) in plain
// language. It shows nothing that is for staff only (the note, the evidence,
// who took the decision).
type statementPage struct {
	page
	Action *enforce.Action
	St     *sor.Statement
	summary
	// Own is set for the affected account, and not for a member of staff
	// reading someone else's statement.
	Own bool
	// Duration says how long the restriction lasts; Scope where it applies.
	Duration, Scope string
	// Source, Detection and Decision say how the case came to us and how
	// automated finding and deciding it were.
	Source, Detection, Decision string
	// Illegal is a decision on the legal ground (otherwise it is on the
	// terms); AlsoIllegal says the content is illegal too.
	Illegal, AlsoIllegal bool
	Category             string
	Keywords             []string
	Decided              time.Time
	AppealUntil          time.Time
	Contact              contactView
}

// summary is what a decision did, in words, for the statement page and the
// list of statements.
type summary struct {
	Headline string
	What     string
	// Where links to the content, when the account can still open it.
	Where link
}

// contactView is how members reach the platform about a decision: an email
// address or a web address (Server.UserContact), or neither.
type contactView struct{ Email, URL string }

func (s *Server) contact() contactView {
	c := strings.TrimSpace(s.UserContact)
	switch {
	case strings.HasPrefix(c, "https://") || strings.HasPrefix(c, "http://"):
		return contactView{URL: c}
	case strings.Contains(c, "@") && !strings.ContainsAny(c, " <>\"'"):
		return contactView{Email: c}
	}
	return contactView{}
}

// statementShow shows one statement of reasons to the account it affects
// and to staff; for anyone else it does not exist (Enforce.Find says so).
func (s *Server) statementShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.Enforce.Find(r.Context(), u, id)
	if err != nil {
		return err
	}
	if a.Statement == nil {
		return fmt.Errorf("web: action %d has no statement of reasons", a.ID)
	}
	st := a.Statement
	n := s.names(r.Context())
	p := &statementPage{
		page:    page{Title: "Statement of reasons", Section: "statements"},
		Action:  a,
		St:      st,
		summary: describe(n, a),
		Own:     a.AffectedUserID == u.ID,
		Decided: a.CreatedAt,
		// Informed when the action was taken: its statement is on this
		// page and linked from the notice from that moment.
		AppealUntil: a.CreatedAt.AddDate(0, appealWindow, 0),
		Contact:     s.contact(),
		Category:    categoryName(st.Category),
	}
	p.Title = p.Headline
	if !p.Own {
		p.Section = "moderation"
	}
	p.Illegal = st.DecisionGround == sor.GroundIllegalContent
	p.AlsoIllegal = st.IncompatibleContentIllegal == sor.Yes
	p.Duration = duration(a)
	p.Scope = scope(a)
	p.Source = sourcePhrase(st)
	if st.AutomatedDetection == sor.Yes {
		p.Detection = "Yes. Automated means were used to detect it."
	} else {
		p.Detection = "No. It was not detected by automated means."
	}
	switch st.AutomatedDecision {
	case sor.AutomatedFully:
		p.Decision = "Yes. The decision was taken fully by automated means."
	case sor.AutomatedPartially:
		p.Decision = "Partly. Automated means were used, and a person took part in the decision."
	default:
		p.Decision = "No. A person took the decision."
	}
	for _, c := range st.CategoryAddition {
		p.Keywords = append(p.Keywords, categoryName(c))
	}
	for _, k := range st.CategorySpecification {
		p.Keywords = append(p.Keywords, keywordLabel(k))
	}
	s.render(w, r, http.StatusOK, "statement_show", p)
	return nil
}

// describe says what an action did, addressed to the account it affects.
func describe(n *names, a *enforce.Action) summary {
	t := a.Target
	var chat *parley.Chat
	if t.ChatID != 0 {
		chat = n.chat(t.ChatID)
	}
	noun := "chat"
	in := ""
	if chat != nil {
		switch chat.Kind {
		case parley.ChatChannel:
			noun = "channel"
		case parley.ChatGroup:
			noun = "group"
		}
		if chat.Title != "" {
			in = fmt.Sprintf(" in the %s “%s”", noun, isolate(chat.Title))
		} else {
			in = " in a " + noun
		}
	}
	of := ""
	if a.Statement != nil {
		if d, err := a.Statement.ContentDate.Time(); err == nil {
			of = " of " + d.Format("2 January 2006")
		}
	}
	message := "your message" + of + in
	withheldFrom := withheldFrom(a)
	var sm summary
	switch a.Kind {
	case enforce.RemoveMessage:
		sm.Headline = "Your message was removed"
		sm.What = "We removed " + message + ". Nobody can see its content any more: people in the chat see a notice in its place."
	case enforce.WithholdMessage:
		sm.Headline = "Your message is not shown in some countries"
		sm.What = "We withheld " + message + " from " + withheldFrom + ". Everyone else still sees it."
	case enforce.LabelMessage:
		sm.Headline = "A label was added to your message"
		sm.What = fmt.Sprintf("We added the label “%s” to %s. The message is still shown, with the label beside it.", isolate(a.Label), message)
	case enforce.AgeRestrictMessage:
		sm.Headline = "Your message was age-restricted"
		sm.What = "We age-restricted " + message + ". It is shown only to people who confirm that they are old enough to see it."
	case enforce.RemoveMedia:
		sm.Headline = "Your image was removed"
		sm.What = "We removed an image you uploaded, everywhere it appeared. It can no longer be opened."
		if a.Children > 0 {
			sm.What += fmt.Sprintf(" The %s that carried it were removed too, each with its own statement.", plural(int64(a.Children), "message", "messages"))
		}
	case enforce.BlockUpload:
		sm.Headline = "Your upload was blocked"
		sm.What = "We blocked an image you tried to upload. It was never shown to anyone."
	case enforce.BanChat:
		sm.Headline = "Your " + noun + " was banned"
		sm.What = "We banned your " + noun + titleOf(chat) + ". Its posts are hidden and nothing more can be posted in it."
	case enforce.WithholdChat:
		sm.Headline = "Your " + noun + " is not shown in some countries"
		sm.What = "We withheld your " + noun + titleOf(chat) + " from " + withheldFrom + ". Everyone else still sees it."
	case enforce.SuspendAccount:
		sm.Headline = "Your account was suspended"
		sm.What = "We suspended your account. While it is suspended you cannot sign in, post or send messages."
	case enforce.TerminateAccount:
		sm.Headline = "Your account was terminated"
		sm.What = "We terminated your account. You can no longer sign in, post or send messages."
	default:
		sm.Headline = "A decision about your content"
		sm.What = "We restricted your content."
	}
	if t.Type == enforce.TargetMessage && chat != nil {
		sm.Where = link{"See it in the chat", fmt.Sprintf("/chats/%d#m-%d", t.ChatID, t.Seq)}
	} else if t.Type == enforce.TargetChat && chat != nil && a.Kind == enforce.WithholdChat {
		sm.Where = link{"Open the " + noun, fmt.Sprintf("/chats/%d", t.ChatID)}
	}
	return sm
}

func titleOf(c *parley.Chat) string {
	if c == nil || c.Title == "" {
		return ""
	}
	return " “" + isolate(c.Title) + "”"
}

// duration says how long a restriction lasts.
func duration(a *enforce.Action) string {
	end := func() string { return a.Until.UTC().Format("2 January 2006, 15:04 MST") }
	switch {
	case a.Kind == enforce.TerminateAccount:
		return "Permanently, unless the decision is reversed."
	case a.Kind == enforce.SuspendAccount:
		return "Until " + end() + "."
	case a.Until.IsZero():
		return "Indefinitely: until the decision is reversed."
	}
	return "Until " + end() + "."
}

// scope says where a restriction applies.
func scope(a *enforce.Action) string {
	if len(a.Countries) > 0 {
		return "Only for " + withheldFrom(a) + "."
	}
	if a.Target.Type == enforce.TargetUser {
		return "Everywhere."
	}
	return "Everywhere: for everyone who could see it."
}

// withheldFrom names whom a withholding hides the item from: "people in
// Germany (DE)", and "people whose country we cannot tell" as well when it
// also covers viewers whose country is unknown.
func withheldFrom(a *enforce.Action) string {
	people := "people in " + countryList(a.Countries)
	if a.AlsoUnknown {
		people += " and people whose country we cannot tell"
	}
	return people
}

// sourcePhrase says how the case came to the platform.
func sourcePhrase(st *sor.Statement) string {
	switch st.SourceType {
	case sor.SourceArticle16:
		return "Someone reported it to us in a notice of illegal content (Article 16 of the Digital Services Act)."
	case sor.SourceTrustedFlagger:
		if st.SourceIdentity != "" {
			return "A trusted flagger, " + st.SourceIdentity + ", reported it to us (Article 22 of the Digital Services Act)."
		}
		return "A trusted flagger reported it to us (Article 22 of the Digital Services Act)."
	case sor.SourceTypeOtherNotification:
		if st.SourceIdentity != "" {
			return "It was reported to us by " + st.SourceIdentity + "."
		}
		return "It was reported to us in a notification other than a notice of illegal content."
	}
	return "We found it ourselves, on our own initiative."
}

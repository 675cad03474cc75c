package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

// The moderation pages live under /moderation/ and are for staff:
// moderators, legal officers and admins. Every route is registered with
// staff, moderator or admin, which check the role before the handler runs,
// and every service the handlers call checks it again (legal holds are
// placed by legal officers and admins, the audit log is for admins, as in
// the JSON API). A member who opens one gets the "Not allowed" page, as on
// the rest of the site.

// staff registers a handler for moderators, legal officers and admins.
func (s *Server) staff(mux *http.ServeMux, pattern string, h userHandlerFunc) {
	s.member(mux, pattern, func(w http.ResponseWriter, r *http.Request, u *parley.User) error {
		if !enforce.IsStaff(u) {
			return parley.Errorf(parley.EForbidden, "this page is for moderators, legal officers and admins")
		}
		return h(w, r, u)
	})
}

// admin registers a handler for admins only.
func (s *Server) admin(mux *http.ServeMux, pattern string, h userHandlerFunc) {
	s.member(mux, pattern, func(w http.ResponseWriter, r *http.Request, u *parley.User) error {
		if u.Role != parley.RoleAdmin {
			return parley.Errorf(parley.EForbidden, "this page is for admins")
		}
		return h(w, r, u)
	})
}

// moderator registers a handler for moderators and admins: hash banks,
// the screening rules, the review queue and campaigns, which their services
// keep from legal officers too.
func (s *Server) moderator(mux *http.ServeMux, pattern string, h userHandlerFunc) {
	s.member(mux, pattern, func(w http.ResponseWriter, r *http.Request, u *parley.User) error {
		if !canModerate(u) {
			return parley.Errorf(parley.EForbidden, "this page is for moderators and admins")
		}
		return h(w, r, u)
	})
}

// canModerate says whether u manages hash banks, works the review queue,
// writes screening rules and acts on campaigns (as their services decide:
// moderators and admins).
func canModerate(u *parley.User) bool {
	return u != nil && u.Role.CanModerate()
}

// canPlaceHolds says whether u may place and release legal holds (as
// enforce.Service decides: legal officers and admins), for the pages.
func canPlaceHolds(u *parley.User) bool {
	return u != nil && u.Role.CanPlaceHolds()
}

// modPage starts the data of a moderation page.
func modPage(title, sub string) page {
	return page{Title: title, Section: "moderation", Sub: sub}
}

// modPageSize is how many rows a moderation list shows at once.
const modPageSize = 50

// kindLabels name each kind of action for staff.
var kindLabels = map[enforce.Kind]string{
	enforce.RemoveMessage:      "Remove message",
	enforce.WithholdMessage:    "Withhold message in some countries",
	enforce.LabelMessage:       "Label message",
	enforce.AgeRestrictMessage: "Age-restrict message",
	enforce.RemoveMedia:        "Remove image everywhere",
	enforce.BlockUpload:        "Block upload",
	enforce.BanChat:            "Ban channel or group",
	enforce.WithholdChat:       "Withhold channel or group in some countries",
	enforce.SuspendAccount:     "Suspend account",
	enforce.TerminateAccount:   "Terminate account",
}

func kindLabel(k enforce.Kind) string { return labelOr(kindLabels, k) }

// labelOr returns the label of v, or v itself when it has none (a value
// newer than the page's labels).
func labelOr[V ~string](labels map[V]string, v V) string {
	if l, ok := labels[v]; ok {
		return l
	}
	return string(v)
}

// kindOptions are the kinds for the list filter; takeKindOptions those a
// person can take from the form. A blocked upload is only ever made by the
// screen, with the upload itself.
func kindOptions(all string) []option {
	opts := []option{{"", all}}
	for _, k := range enforce.Kinds {
		opts = append(opts, option{string(k), kindLabel(k)})
	}
	return opts
}

func takeKindOptions() []option {
	opts := []option{{"", "Choose what to do"}}
	for _, k := range enforce.Kinds {
		if k != enforce.BlockUpload {
			opts = append(opts, option{string(k), kindLabel(k)})
		}
	}
	return opts
}

// The choices of the take-action form come from the sor package's
// enumerations, the values of the Transparency Database, so that nothing
// a statement needs is typed by hand.

var groundChoices = []option{
	{"", "Choose the ground"},
	{string(sor.GroundIncompatibleContent), "Incompatible with the terms of service (contractual ground)"},
	{string(sor.GroundIllegalContent), "Illegal content (legal ground)"},
}

var sourceLabels = map[sor.SourceType]string{
	sor.SourceVoluntary:             "Own initiative (found by us)",
	sor.SourceArticle16:             "Notice of illegal content (Article 16 DSA)",
	sor.SourceTrustedFlagger:        "Trusted flagger (Article 22 DSA)",
	sor.SourceTypeOtherNotification: "Other notification (an authority, an organisation)",
}

var sourceChoices = []option{
	{string(sor.SourceVoluntary), sourceLabels[sor.SourceVoluntary]},
	{string(sor.SourceArticle16), sourceLabels[sor.SourceArticle16]},
	{string(sor.SourceTrustedFlagger), sourceLabels[sor.SourceTrustedFlagger]},
	{string(sor.SourceTypeOtherNotification), sourceLabels[sor.SourceTypeOtherNotification]},
}

var automationLabels = map[sor.AutomatedDecision]string{
	sor.NotAutomated:       "Not automated: a person decided",
	sor.AutomatedPartially: "Partly automated: a person was involved",
	sor.AutomatedFully:     "Fully automated",
}

var automationChoices = []option{
	{string(sor.NotAutomated), automationLabels[sor.NotAutomated]},
	{string(sor.AutomatedPartially), automationLabels[sor.AutomatedPartially]},
	{string(sor.AutomatedFully), automationLabels[sor.AutomatedFully]},
}

// groundsFields are the fields of a form that gives the grounds of a
// removal: the ground, the law or clause, whether it is also illegal and
// the category; its keywords are read with readList.
var groundsFields = []string{"ground", "ground_text", "also_illegal", "category"}

// readGrounds reads the grounds of a decision from a form: the legal or
// contractual ground with its text, and the category with its keywords. The
// caller adds how the item was found and how automated the decision is.
func readGrounds(f *form, keywords []string) (enforce.Grounds, error) {
	g := enforce.Grounds{Ground: sor.DecisionGround(f.Get("ground")), Category: sor.Category(f.Get("category"))}
	for _, k := range keywords {
		g.Keywords = append(g.Keywords, sor.Keyword(k))
	}
	text := strings.TrimSpace(f.Get("ground_text"))
	switch g.Ground {
	case sor.GroundIllegalContent:
		g.LegalGround = text
	case sor.GroundIncompatibleContent:
		g.TermsGround = text
		g.AlsoIllegal = f.Get("also_illegal") != ""
	default:
		return g, parley.FieldError("ground", "choose the ground: the law, or the terms of service")
	}
	return g, nil
}

// setGrounds fills a grounds form in with g.
func setGrounds(f *form, g enforce.Grounds) {
	f.Values["ground"] = string(g.Ground)
	f.Values["ground_text"] = g.TermsGround
	if g.Ground == sor.GroundIllegalContent {
		f.Values["ground_text"] = g.LegalGround
	}
	f.Values["also_illegal"] = ""
	if g.AlsoIllegal {
		f.Values["also_illegal"] = "yes"
	}
	f.Values["category"] = string(g.Category)
	f.Values["keywords"] = ""
	f.Lists["keywords"] = nil
	for _, k := range g.Keywords {
		f.Lists["keywords"] = append(f.Lists["keywords"], string(k))
	}
}

// statementCategories and statementKeywords are the Transparency
// Database's categories and category specifications, in its order, as the
// forms offer them.
var (
	statementCategories = sor.Categories()
	statementKeywords   = sor.Keywords()
)

// categoryOptions lists the categories, first the empty choice named first.
func categoryOptions(first string) []option {
	opts := []option{{"", first}}
	for _, c := range statementCategories {
		opts = append(opts, option{string(c), sor.CategoryLabel(c)})
	}
	return opts
}

func keywordOptions() []option {
	opts := make([]option, 0, len(statementKeywords))
	for _, k := range statementKeywords {
		opts = append(opts, option{string(k), keywordLabel(k)})
	}
	return opts
}

// keywordLabel names a keyword in words: KEYWORD_VIOLATION_EU_LAW is
// "Violation EU law".
func keywordLabel(k sor.Keyword) string {
	words := strings.Split(strings.ToLower(strings.TrimPrefix(string(k), "KEYWORD_")), "_")
	for i, w := range words {
		if w == "eu" {
			words[i] = "EU"
		}
	}
	l := strings.Join(words, " ")
	if l == "" {
		return string(k)
	}
	return strings.ToUpper(l[:1]) + l[1:]
}

// categoryName names a category for people; an unknown value is shown as
// it is.
func categoryName(c sor.Category) string {
	if l := sor.CategoryLabel(c); l != "" {
		return l
	}
	return string(c)
}

// names looks up the accounts and chats a moderation page names, once each
// per request.
type names struct {
	s     *Server
	ctx   context.Context
	users map[int64]*parley.User
	chats map[int64]*parley.Chat
}

func (s *Server) names(ctx context.Context) *names {
	return &names{s: s, ctx: ctx, users: map[int64]*parley.User{}, chats: map[int64]*parley.Chat{}}
}

// user returns the account with that id, or nil.
func (n *names) user(id int64) *parley.User {
	if id == 0 {
		return nil
	}
	if u, ok := n.users[id]; ok {
		return u
	}
	u, err := n.s.Auth.Store.FindUserByID(n.ctx, id)
	if err != nil {
		u = nil
	}
	n.users[id] = u
	return u
}

// username returns "@name" for an account id ("account 12" if it is gone),
// or what when the id is 0 (the system, the automated screen).
func (n *names) username(id int64, what string) string {
	if id == 0 {
		return what
	}
	if u := n.user(id); u != nil {
		return "@" + u.Username
	}
	return fmt.Sprintf("account %d", id)
}

// chat returns the chat with that id, or nil.
func (n *names) chat(id int64) *parley.Chat {
	if c, ok := n.chats[id]; ok {
		return c
	}
	c, err := n.s.Messaging.Store.FindChatByID(n.ctx, id)
	if err != nil {
		c = nil
	}
	n.chats[id] = c
	return c
}

// link is a piece of text that may link somewhere.
type link struct {
	Text, URL string
}

// target describes an action's or hold's target for staff, linking to it.
func (n *names) target(t enforce.Target) link {
	chatName := func(id int64) string {
		if c := n.chat(id); c != nil && c.Title != "" {
			return fmt.Sprintf("“%s” (chat %d)", isolate(c.Title), id)
		}
		return fmt.Sprintf("chat %d", id)
	}
	switch t.Type {
	case enforce.TargetMessage:
		return link{fmt.Sprintf("Message %d in %s", t.Seq, chatName(t.ChatID)), fmt.Sprintf("/chats/%d#m-%d", t.ChatID, t.Seq)}
	case enforce.TargetMedia:
		return link{"Image " + shortID(t.MediaID), ""}
	case enforce.TargetChat:
		return link{"Chat " + strings.TrimPrefix(chatName(t.ChatID), "chat "), fmt.Sprintf("/chats/%d", t.ChatID)}
	case enforce.TargetUser:
		if u := n.user(t.UserID); u != nil {
			return link{"Account @" + u.Username, "/users/" + u.Username}
		}
		return link{fmt.Sprintf("Account %d", t.UserID), ""}
	}
	return link{t.Type + " " + t.ID(), ""}
}

// shortID shortens a media id (64 hex digits) for lists.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// targetForm reads the target fields shared by the take-action and
// legal-hold forms: chat_id and seq for a message or chat, media_id for an
// image, username for an account. Malformed numbers and unknown usernames
// are reported on their fields.
func (s *Server) targetForm(ctx context.Context, f *form, typ string) (enforce.Target, error) {
	t := enforce.Target{Type: typ}
	var err error
	pasteLink(f)
	if typ == enforce.TargetMessage || typ == enforce.TargetChat {
		if t.ChatID, err = formID(f, "chat_id", "the chat is a number: the one in its address, /chats/NUMBER"); err != nil {
			return t, err
		}
	}
	if typ == enforce.TargetMessage {
		if t.Seq, err = formID(f, "seq", "the message is a number: the one after #m- in its link"); err != nil {
			return t, err
		}
	}
	if typ == enforce.TargetMedia {
		id := strings.TrimSpace(f.Get("media_id"))
		if _, after, ok := strings.Cut(id, "/media/"); ok { // a pasted image address
			id, _, _ = strings.Cut(after, "?")
		}
		t.MediaID = strings.ToLower(id)
	}
	if typ == enforce.TargetUser {
		name := strings.TrimPrefix(strings.TrimSpace(f.Get("username")), "@")
		if name == "" {
			return t, parley.FieldError("username", "name the account, by its username")
		}
		u, err := s.Auth.Store.FindUserByUsername(ctx, name)
		if err != nil {
			if parley.ErrorCode(err) == parley.ENotFound {
				return t, parley.FieldError("username", "there is no account named %q", name)
			}
			return t, err
		}
		t.UserID = u.ID
	}
	return t, nil
}

// pasteLink lets the chat field take a message's or chat's link, as copied
// from its page (https://host/chats/12#m-3): it fills in the chat and the
// message number.
func pasteLink(f *form) {
	v := strings.TrimSpace(f.Get("chat_id"))
	_, rest, ok := strings.Cut(v, "/chats/")
	if !ok {
		return
	}
	chat, frag, _ := strings.Cut(rest, "#m-")
	chat, _, _ = strings.Cut(chat, "?")
	f.Values["chat_id"] = strings.Trim(chat, "/")
	if frag != "" && strings.TrimSpace(f.Get("seq")) == "" {
		f.Values["seq"] = frag
	}
}

// targetFields names the form field of each part of a target, for errors
// the services report on the target.
var targetFields = map[string]string{
	"target":          "chat_id",
	"target.chat_id":  "chat_id",
	"target.seq":      "seq",
	"target.media_id": "media_id",
	"target.user_id":  "username",
}

// targetField is the form field that names a target of type typ, for an
// error saying the target does not exist.
func targetField(typ string) string {
	switch typ {
	case enforce.TargetMessage:
		return "seq"
	case enforce.TargetMedia:
		return "media_id"
	case enforce.TargetUser:
		return "username"
	}
	return "chat_id"
}

// formID reads an optional positive number from a form field (0 when
// empty).
func formID(f *form, name, msg string) (int64, error) {
	v := strings.TrimSpace(f.Get(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(v, "#m-"), 10, 64)
	if err != nil || n <= 0 {
		return 0, parley.FieldError(name, "%s", msg)
	}
	return n, nil
}

// endOfDay reads a date field (YYYY-MM-DD, as a date input sends it) as
// the last second of that day in UTC, so that a restriction "until 2 March"
// lasts through 2 March and its statement says 2 March. Empty is zero.
func endOfDay(f *form, name string) (time.Time, error) {
	v := strings.TrimSpace(f.Get(name))
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, parley.FieldError(name, "give the date as YYYY-MM-DD")
	}
	return d.Add(24*time.Hour - time.Second), nil
}

// countryNames name the states of the European Economic Area, where
// Parley's statements of reasons apply, for people reading them.
var countryNames = map[string]string{
	"AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CY": "Cyprus", "CZ": "Czechia", "DE": "Germany",
	"DK": "Denmark", "EE": "Estonia", "ES": "Spain", "FI": "Finland", "FR": "France", "GR": "Greece",
	"HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IS": "Iceland", "IT": "Italy", "LI": "Liechtenstein",
	"LT": "Lithuania", "LU": "Luxembourg", "LV": "Latvia", "MT": "Malta", "NL": "the Netherlands", "NO": "Norway",
	"PL": "Poland", "PT": "Portugal", "RO": "Romania", "SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia",
}

// countryList names countries in words: "Germany (DE) and France (FR)".
func countryList(codes []string) string {
	parts := make([]string, len(codes))
	for i, c := range codes {
		if n, ok := countryNames[c]; ok {
			parts[i] = n + " (" + c + ")"
		} else {
			parts[i] = c
		}
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// splitList splits what was typed into a list field (countries, tags) at
// commas and white space.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// nameErrors starts the field errors that continue the field's name ("is
// required", as the hash banks service words them) with the field's name
// in words: "The name is required".
func (f *form) nameErrors(labels map[string]string) {
	for field, msg := range f.Errors {
		label, ok := labels[field]
		if !ok {
			continue
		}
		for _, verb := range []string{"is ", "has ", "holds ", "appears "} {
			if strings.HasPrefix(msg, verb) {
				f.Errors[field] = label + " " + msg
				break
			}
		}
	}
}

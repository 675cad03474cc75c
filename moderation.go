package parley

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Restriction is one enforcement action's effect on an item, as kept with
// the item. Reason is what viewers are told, such as "Scams and fraud"; for
// a label it is the label's text.
type Restriction struct {
	ActionID int64  `json:"action_id"`
	Reason   string `json:"reason"`
}

// Withholding is an item withheld in some countries by one action: hidden
// only for viewers there, who are told why (a court order in one state, say,
// under that state's law).
type Withholding struct {
	ActionID  int64    `json:"action_id"`
	Countries []string `json:"countries"` // ISO 3166-1 alpha-2, upper case, sorted
	// AlsoUnknown withholds the item as well from viewers whose country is
	// not known (no trusted source says where they are), when the order
	// asks for it: otherwise hiding a proxy's header would escape it.
	AlsoUnknown bool   `json:"also_unknown,omitempty"`
	Reason      string `json:"reason"`
}

// Moderation is what enforcement and screening have done to a message, a
// media item, a chat or an account. The zero value (and nil) means nothing.
// Each part names the action that made it, so that a restore takes back
// exactly one action's effect and leaves the others.
type Moderation struct {
	// Removed: a message or media item removed for everyone, a chat banned
	// (its posts hidden, its handle reserved), an account suspended or
	// terminated.
	Removed *Restriction `json:"removed,omitempty"`
	// Withheld lists withholdings by country, one per action.
	Withheld []Withholding `json:"withheld,omitempty"`
	// Label is shown beside the content (Reason is the label's text).
	Label *Restriction `json:"label,omitempty"`
	// AgeRestricted content is shown only to a viewer who confirms their age.
	AgeRestricted *Restriction `json:"age_restricted,omitempty"`
	// Held marks a post kept from view until a moderator reviews it; its
	// ActionID is the review case.
	Held *Restriction `json:"held,omitempty"`
}

// IsZero reports whether m records nothing.
func (m *Moderation) IsZero() bool {
	return m == nil || (m.Removed == nil && len(m.Withheld) == 0 && m.Label == nil && m.AgeRestricted == nil && m.Held == nil)
}

// WithheldIn returns the withholding that hides the item from a viewer in
// country, or nil. An unknown country ("") is covered by the withholdings
// that ask for it (AlsoUnknown) and by no other: a viewer whom no trusted
// source places could be anywhere.
func (m *Moderation) WithheldIn(country string) *Withholding {
	if m == nil {
		return nil
	}
	for i := range m.Withheld {
		w := &m.Withheld[i]
		if country == "" && w.AlsoUnknown || country != "" && slices.Contains(w.Countries, country) {
			return w
		}
	}
	return nil
}

// WithheldCountries returns every country the item is withheld in, sorted.
func (m *Moderation) WithheldCountries() []string {
	if m == nil {
		return nil
	}
	var all []string
	for _, w := range m.Withheld {
		all = append(all, w.Countries...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// Clone returns a deep copy of m (nil for nil).
func (m *Moderation) Clone() *Moderation {
	if m == nil {
		return nil
	}
	c := &Moderation{}
	cp := func(r *Restriction) *Restriction {
		if r == nil {
			return nil
		}
		v := *r
		return &v
	}
	c.Removed, c.Label, c.AgeRestricted, c.Held = cp(m.Removed), cp(m.Label), cp(m.AgeRestricted), cp(m.Held)
	for _, w := range m.Withheld {
		w.Countries = slices.Clone(w.Countries)
		c.Withheld = append(c.Withheld, w)
	}
	return c
}

// Notice kinds: what a viewer is told in place of, or beside, content.
const (
	NoticeRemoved  = "removed"
	NoticeWithheld = "withheld"
	NoticeHeld     = "held"
	NoticeBanned   = "banned"
)

// Notice is what a viewer is told about restricted content. For the
// account the restriction is about, StatementID names the enforcement
// action whose statement of reasons it may read.
type Notice struct {
	Kind        string `json:"kind"`
	Text        string `json:"text"`
	StatementID int64  `json:"statement_id,omitempty"`
}

// Viewer is who is looking: what may be shown depends on it. Make it with
// ViewerOf, which every path that shows content to a member goes through.
type Viewer struct {
	UserID int64 // 0 for a reader who is not signed in
	// Country is the ISO 3166-1 alpha-2 code of where the viewer is, as a
	// trusted source told it; "" when none did. Never the country of the
	// account's profile, which its owner chooses.
	Country string
}

// MessageStatus values, as stored: a message is listed to everyone only
// with the empty status.
const (
	MessageHeld    = "held"
	MessageRemoved = "removed"
)

// Status returns the stored status that follows from m: "removed" when
// removed, "held" when held, "" otherwise.
func (m *Moderation) Status() string {
	switch {
	case m == nil:
		return ""
	case m.Removed != nil:
		return MessageRemoved
	case m.Held != nil:
		return MessageHeld
	}
	return ""
}

// ViewMessage returns the message as v may see it in a chat whose own
// moderation is chatMod (nil for none): content that is removed, withheld
// in the viewer's country or held for review (for anyone but its author) is
// taken out, and a Notice says why. Labels and age restrictions stay in
// Moderation for the client to show. m itself is not changed.
func ViewMessage(m *Message, chatMod *Moderation, v Viewer) *Message {
	mod := m.Moderation
	own := v.UserID != 0 && v.UserID == m.SenderID
	out := *m
	statement := func(id int64) int64 {
		if own {
			return id
		}
		return 0
	}
	withheld, chatWithheld := mod.WithheldIn(v.Country), chatMod.WithheldIn(v.Country)
	switch {
	case m.Deleted():
		return &out
	case mod != nil && mod.Removed != nil:
		out.stripContent()
		out.Notice = &Notice{Kind: NoticeRemoved, Text: "This message was removed: " + mod.Removed.Reason + ".",
			StatementID: statement(mod.Removed.ActionID)}
	case withheld != nil:
		out.stripContent()
		out.Notice = &Notice{Kind: NoticeWithheld, Text: withheldText("message", v.Country, withheld.Reason),
			StatementID: statement(withheld.ActionID)}
	case chatWithheld != nil:
		out.stripContent()
		out.Notice = &Notice{Kind: NoticeWithheld, Text: withheldText("channel", v.Country, chatWithheld.Reason)}
	case mod != nil && mod.Held != nil:
		if !own {
			out.stripContent()
		}
		out.Notice = &Notice{Kind: NoticeHeld, Text: "Waiting for review: only its author can see this message until a moderator has looked at it."}
	}
	return &out
}

// ViewChat returns the chat as v may see it: a banned chat, or one
// withheld from the viewer (see WithheldIn), carries a Notice (with the statement
// for its owner). Its messages are then not shown at all.
func ViewChat(c *Chat, v Viewer) *Chat {
	out := *c
	own := v.UserID != 0 && v.UserID == c.OwnerID
	mod := c.Moderation
	w := mod.WithheldIn(v.Country)
	switch {
	case mod != nil && mod.Removed != nil:
		out.Notice = &Notice{Kind: NoticeBanned, Text: "This " + chatNoun(c.Kind) + " was banned: " + mod.Removed.Reason + "."}
		if own {
			out.Notice.StatementID = mod.Removed.ActionID
		}
	case w != nil:
		out.Notice = &Notice{Kind: NoticeWithheld, Text: withheldText(chatNoun(c.Kind), v.Country, w.Reason)}
		if own {
			out.Notice.StatementID = w.ActionID
		}
	}
	return &out
}

// Hidden reports whether the chat's messages are hidden from v (banned, or
// withheld from v: in v's country, or for a v whose country is unknown
// when the order asks for it).
func (c *Chat) Hidden(v Viewer) bool {
	return c.Moderation != nil && (c.Moderation.Removed != nil || c.Moderation.WithheldIn(v.Country) != nil)
}

func chatNoun(k ChatKind) string {
	if k == ChatChannel {
		return "channel"
	}
	return "chat"
}

// withheldText is the notice of a withholding. For a viewer whose country
// is unknown it names no country: the item is withheld because the viewer
// might be where the order applies.
func withheldText(what, country, reason string) string {
	where := "in your country (" + country + ")"
	if country == "" {
		where = "where you are"
	}
	text := "This " + what + " is not available " + where + " because it violated local law"
	if reason != "" {
		text += ": " + reason
	}
	return text + "."
}

// stripContent removes what a viewer may not see of a message.
func (m *Message) stripContent() {
	m.Text, m.MediaID, m.Forward, m.Ciphertext, m.Nonce = "", "", nil, "", ""
}

// Account statuses, as stored.
const (
	AccountActive     = ""
	AccountSuspended  = "suspended"
	AccountTerminated = "terminated"
)

// Usable reports whether the account may sign in and act at time now: not
// terminated, and not suspended unless the suspension has ended.
func (u *User) Usable(now time.Time) bool {
	switch u.Status {
	case AccountTerminated:
		return false
	case AccountSuspended:
		return u.SuspendedUntil != nil && !now.Before(*u.SuspendedUntil)
	}
	return true
}

// CheckAccountUsable returns nil if an account of the given stored status
// and suspension end may act at time now, EForbidden saying why otherwise.
// Storage adapters apply it in the transaction that stores a post, so that
// a suspension takes effect for posts at once, whatever a process cached.
func CheckAccountUsable(status string, suspendedUntil *time.Time, now time.Time) error {
	u := User{Status: status, SuspendedUntil: suspendedUntil}
	if u.Usable(now) {
		return nil
	}
	return Errorf(EForbidden, "%s", u.UnusableReason())
}

// UnusableReason says why an account may not be used, for the person
// trying to.
func (u *User) UnusableReason() string {
	if u.Status == AccountTerminated {
		return "this account was terminated"
	}
	if u.SuspendedUntil != nil {
		return "this account is suspended until " + u.SuspendedUntil.UTC().Format("2 January 2006 15:04 MST")
	}
	return "this account is suspended"
}

// Media statuses, as stored.
const (
	MediaBlocked = "blocked" // stopped at upload by a hash bank: never shown, kept as evidence
	MediaRemoved = "removed" // removed everywhere after upload: answered with 451
)

// NormalizeCountries upper-cases, sorts and de-duplicates country codes.
func NormalizeCountries(cs []string) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, strings.ToUpper(strings.TrimSpace(c)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

type countryKey struct{}

// WithCountry returns a context saying where the viewer of the request is.
// Only the server's middleware calls it, with what a trusted source told:
// a trusted proxy's header, or the client's address looked up in the
// operator's table of address ranges (see internal/api and internal/geo).
func WithCountry(ctx context.Context, country string) context.Context {
	return context.WithValue(ctx, countryKey{}, country)
}

// ViewerOf returns the viewer of a request by account u (nil for a reader
// who is not signed in), in the country the request context names ("" when
// it names none). It is the one place a viewer is made: history, catch-up
// and live delivery, the chat list, the web pages, the API and media all
// ask it. The country of u's profile is deliberately not used: its owner
// edits it, and a withholding order must not be escaped by editing a field.
func ViewerOf(ctx context.Context, u *User) Viewer {
	var v Viewer
	if u != nil {
		v.UserID = u.ID
	}
	if c, ok := ctx.Value(countryKey{}).(string); ok {
		v.Country = c
	}
	return v
}

package web

import (
	"bytes"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"parley"
	"parley/internal/api"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
)

//go:embed templates
var templateFS embed.FS

// pages holds one parsed template set per page: the shared layout and
// partials, plus the page's own "content". Parsing at start-up means a
// broken template fails every test, not a user's request.
var pages = parsePages()

var templateFuncs = template.FuncMap{
	"static":     staticURL,
	"clock":      func(t time.Time) string { return t.UTC().Format("2 Jan 15:04") },
	"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"excerpt":    excerpt,
	"field":      field,
	"plural":     plural,
	"day":        func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"lower":      strings.ToLower,
	"isolate":    isolate,
	"choose":     choose,
	"checkboxes": checkboxes,
	// The role checks below only decide what the navigation offers; every
	// handler and service checks the role again.
	"isStaff":     enforce.IsStaff,
	"canHolds":    canPlaceHolds,
	"canModerate": canModerate,
	"isAdmin":     func(u *parley.User) bool { return u != nil && u.Role == parley.RoleAdmin },
	// The choices of a grounds form (the "grounds" partial), from the sor
	// enumerations.
	"groundChoices":   func() []option { return groundChoices },
	"categoryChoices": func() []option { return categoryOptions("Choose a category") },
	"keywordChoices":  keywordOptions,
}

func parsePages() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, name := range names {
		page := strings.TrimSuffix(path.Base(name), ".html")
		if page == "layout" || page == "partials" {
			continue
		}
		t := template.Must(base.Clone())
		out[page] = template.Must(t.ParseFS(templateFS, name))
	}
	return out
}

// page is what every page's template gets: the title, the signed-in
// account (nil for visitors), a one-time notice from the previous action,
// and which part of the navigation is current (Sub: within a section with
// its own navigation, such as moderation).
type page struct {
	Title   string
	User    *parley.User
	Flash   string
	Section string
	Sub     string
	// QueueOpen is the number of open review cases, shown in the
	// moderation navigation to those who work the queue; queueCounted is
	// set by a page that counted them already (the queue's own).
	QueueOpen    int64
	queueCounted bool
	// CountryUnknown is set on the moderation pages when no trusted source
	// of viewers' countries is configured, so that staff know a
	// withholding by country hides nothing from anyone unless it also
	// covers viewers whose country is unknown.
	CountryUnknown bool
}

func (p *page) base() *page { return p }

// pageData is implemented by every page's data through its embedded page.
type pageData interface{ base() *page }

// render writes the named page with the given status. The page is rendered
// to a buffer first, so a template error becomes a clean error page rather
// than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data pageData) {
	t, ok := pages[name]
	if !ok {
		s.renderError(w, r, fmt.Errorf("web: no template %q", name))
		return
	}
	p := data.base()
	if p.User == nil {
		p.User = api.CurrentUser(r.Context())
	}
	p.Flash = takeFlash(w, r)
	if p.Section == "moderation" && !p.queueCounted && canModerate(p.User) && s.Review != nil {
		// The count is a convenience: a failure is logged, and the page is
		// shown without it.
		n, err := s.Review.Store.CountCases(r.Context(), review.StatusOpen)
		if err != nil {
			s.Log.Warn("web: count open review cases", "err", err)
		}
		p.QueueOpen = n
	}
	if p.Section == "moderation" && s.API != nil {
		p.CountryUnknown = !s.API.TrustsCountrySource()
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.Log.Error("web: render", "page", name, "err", err)
		if name != "error" {
			s.renderError(w, r, err)
		} else {
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the data of the error page.
type errorPage struct {
	page
	Status  int
	Message string
}

// renderError shows err to the user as a page with the status the API
// would use for it. Internal errors are logged with their details and shown
// only as a short apology: a stack trace or a SQL message never reaches a
// browser. A session that ended sends the user to sign in again.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := parley.ErrorCode(err)
	if code == parley.EUnauthorized {
		redirectToSignIn(w, r)
		return
	}
	status := api.StatusOf(err)
	p := &errorPage{Status: status, Message: parley.ErrorMessage(err)}
	switch code {
	case parley.ENotFound:
		p.Title = "Not found"
	case parley.EForbidden:
		p.Title = "Not allowed"
	case parley.EInternal:
		s.Log.Error("web: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		p.Title = "Something went wrong"
		p.Message = "Something went wrong on our side. Please try again in a moment."
	default:
		p.Title = "That did not work"
	}
	s.render(w, r, status, "error", p)
}

// form carries what the user typed and what was wrong with it, so a form
// that failed validation comes back with the input kept and each message
// next to its field. Passwords are never put back.
type form struct {
	Values map[string]string
	Errors map[string]string
	// Lists holds the values of fields that take several (checkboxes).
	Lists map[string][]string
	// Error is a message that belongs to no single field.
	Error string
	// order is the order the fields were read in, for Problems.
	order []string
}

func newForm() *form {
	return &form{Values: map[string]string{}, Errors: map[string]string{}, Lists: map[string][]string{}}
}

// formFrom copies the named fields of a parsed request form.
func formFrom(r *http.Request, names ...string) *form {
	f := newForm()
	for _, n := range names {
		f.Values[n] = r.PostFormValue(n)
	}
	f.order = names
	return f
}

// Problems lists the field errors in the order of the form's fields, each
// as the field's name (Value) and its message (Label), for a summary at the
// top of a long form.
func (f *form) Problems() []option {
	var out []option
	seen := map[string]bool{}
	for _, n := range f.order {
		if msg := f.Errors[n]; msg != "" && !seen[n] {
			out = append(out, option{n, msg})
			seen[n] = true
		}
	}
	var rest []string
	for n := range f.Errors {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	slices.Sort(rest)
	for _, n := range rest {
		out = append(out, option{n, f.Errors[n]})
	}
	return out
}

// Get returns the value typed into a field.
func (f *form) Get(name string) string { return f.Values[name] }

// Err returns the message for a field, or "".
func (f *form) Err(name string) string { return f.Errors[name] }

// fail records err on the form: on the field it names when the form has
// that field (after renaming service field names to form field names with
// rename, e.g. "peer_id" to "username"), otherwise as the form's message.
func (f *form) fail(err error, rename map[string]string) {
	field := parley.ErrorField(err)
	if to, ok := rename[field]; ok {
		field = to
	} else if to, ok := rename[baseField(field)]; ok {
		field = to
	}
	msg := parley.ErrorMessage(err)
	if _, ok := f.Values[field]; ok && field != "" {
		if f.Errors[field] == "" { // the first problem of a field is the one to fix first
			f.Errors[field] = msg
		}
		return
	}
	if f.Error == "" {
		f.Error = msg
	} else if !strings.Contains(f.Error, msg) {
		f.Error += " " + msg
	}
}

// failAll records every problem err holds: a statement of reasons that
// cannot be built reports all its problems at once (sor.Problems), and
// each goes next to its own field.
func (f *form) failAll(err error, rename map[string]string) {
	var many interface{ Unwrap() []error }
	if errors.As(err, &many) {
		for _, e := range many.Unwrap() {
			f.fail(e, rename)
		}
		return
	}
	f.fail(err, rename)
}

// baseField drops the index from the name of a field in a list, so that
// "territorial_scope.2" and "keywords[1]" name the whole list.
func baseField(field string) string {
	if i := strings.IndexAny(field, ".["); i > 0 {
		rest := strings.Trim(field[i:], ".[]")
		if rest != "" && strings.Trim(rest, "0123456789") == "" {
			return field[:i]
		}
	}
	return field
}

// formError reports whether err is one the user can fix by changing the
// form (anything but a failure on our side), which re-renders the form.
func formError(err error) bool {
	switch parley.ErrorCode(err) {
	case parley.EInternal, parley.EUnauthorized, parley.EUnavailable:
		return false
	}
	return true
}

// flashCookie carries a one-line notice across a redirect ("Channel
// created"), shown once on the next page.
const flashCookie = "parley_flash"

func setFlash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(msg)),
		Path: "/", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || !utf8.Valid(b) || len(b) > 200 {
		return ""
	}
	return string(b)
}

// readList copies the values of a field that takes several (checkboxes) from
// a parsed request form. The field also gets an empty value, so that an
// error can be shown next to it.
func (f *form) readList(r *http.Request, name string) []string {
	f.Lists[name] = r.PostForm[name]
	f.Values[name] = ""
	return f.Lists[name]
}

// fieldView is one form field as the "field" partial renders it.
type fieldView struct {
	Name, Label, Type, Hint, Value, Error string
	// Attrs are extra attributes written in the template itself (never
	// user input), such as required or maxlength.
	Attrs template.HTMLAttr
}

// Described is the ids of the hint and the error, for aria-describedby.
func (f fieldView) Described() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, "f-"+f.Name+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, "f-"+f.Name+"-error")
	}
	return strings.Join(ids, " ")
}

// field builds a fieldView from a form; attrs come from template literals.
func field(f *form, name, label, typ, hint string, attrs ...string) fieldView {
	return fieldView{Name: name, Label: label, Type: typ, Hint: hint, Value: f.Get(name), Error: f.Err(name),
		Attrs: template.HTMLAttr(strings.Join(attrs, " "))}
}

// option is one choice of a select or a list of checkboxes.
type option struct{ Value, Label string }

// selectView is a select field as the "select" partial renders it.
type selectView struct {
	fieldView
	Options []option
}

// choose builds a selectView from a form, for templates.
func choose(f *form, name, label, hint string, opts []option) selectView {
	return selectView{fieldView: fieldView{Name: name, Label: label, Hint: hint, Value: f.Get(name), Error: f.Err(name)}, Options: opts}
}

// checkView is a list of checkboxes as the "checkboxes" partial renders it.
type checkView struct {
	fieldView
	Options []option
	Chosen  []string
}

// Checked reports whether the box of value v is ticked.
func (c checkView) Checked(v string) bool { return slices.Contains(c.Chosen, v) }

// checkboxes builds a checkView from a form, for templates.
func checkboxes(f *form, name, label, hint string, opts []option) checkView {
	return checkView{fieldView: fieldView{Name: name, Label: label, Hint: hint, Error: f.Err(name)}, Options: opts, Chosen: f.Lists[name]}
}

// plural counts n things: "1 post", "3 posts".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// isolate wraps text someone wrote in the Unicode isolates FSI and PDI, for
// plain-text places where no <bdi> element can stand: the page title,
// attribute values, the options of a select, and sentences built here with
// a name in them (flash notices, link texts). Its direction is then found
// from the text itself and cannot reorder the words around it: a
// right-to-left name stays beside the words it belongs to. In HTML text
// the templates use <bdi>, or dir="auto" on an element of its own.
func isolate(s string) string {
	if s == "" {
		return ""
	}
	return "\u2068" + s + "\u2069"
}

// excerpt shortens text to n characters for previews.
func excerpt(n int, text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

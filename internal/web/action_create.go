package web

import (
	"fmt"
	"net/http"
	"strings"

	"parley"
	"parley/internal/api"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

// actionErrorFields names the form field of each field the enforcement
// service and the statement of reasons report problems on: the request's
// own fields, the Decision's and the Transparency Database's.
var actionErrorFields = mergeFields(targetFields, map[string]string{
	"target.type":                      "kind",
	"territorial_scope":                "countries",
	"end_date_visibility_restriction":  "until",
	"end_date_account_restriction":     "until",
	"decision_ground":                  "ground",
	"legal_ground":                     "ground_text",
	"terms_ground":                     "ground_text",
	"illegal_content_legal_ground":     "ground_text",
	"incompatible_content_ground":      "ground_text",
	"illegal_content_explanation":      "ground_text",
	"incompatible_content_explanation": "ground_text",
	"incompatible_content_illegal":     "also_illegal",
	"category_specification":           "keywords",
	"source_type":                      "source",
	"signal.kind":                      "source",
	"notifier_organisation":            "notifier",
	"source_identity":                  "notifier",
	"automated_decision":               "automation",
})

// actionCreate takes an enforcement action from the form, through the same
// service as the JSON API, and shows the action. A request the service or
// the statement of reasons refuses comes back with every problem next to
// its field.
func (s *Server) actionCreate(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	if err := r.ParseForm(); err != nil {
		return parley.Errorf(parley.EInvalid, "the form could not be read; please try again")
	}
	f := formFrom(r, actionFields...)
	keywords := f.readList(r, "keywords")
	fail := func(err error) error {
		if !formError(err) || parley.ErrorCode(err) == parley.EForbidden {
			return err
		}
		f.failAll(err, actionErrorFields)
		s.render(w, r, api.StatusOf(err), "action_new", &actionFormPage{page: modPage("Take an action", "take"), Form: f})
		return nil
	}

	kind := enforce.Kind(f.Get("kind"))
	if kind == "" || !kind.Valid() || kind == enforce.BlockUpload {
		return fail(parley.FieldError("kind", "choose what to do"))
	}
	target, err := s.targetForm(r.Context(), f, kind.TargetType())
	if err != nil {
		return fail(err)
	}
	until, err := endOfDay(f, "until")
	if err != nil {
		return fail(err)
	}
	g, err := readGrounds(f, keywords)
	if err != nil {
		return fail(err)
	}
	g.Source = sor.SourceType(f.Get("source"))
	g.Notifier = strings.TrimSpace(f.Get("notifier"))
	g.AutomatedDetection = f.Get("automated_detection") != ""
	g.Automation = sor.AutomatedDecision(f.Get("automation"))
	req := enforce.Request{Kind: kind, Target: target, Until: until, Grounds: g, Note: f.Get("note")}
	if kind == enforce.WithholdMessage || kind == enforce.WithholdChat {
		req.Countries, req.AlsoUnknown = splitList(f.Get("countries")), f.Get("also_unknown") != ""
	}
	if kind == enforce.LabelMessage {
		req.Label = f.Get("label")
	}
	a, err := s.Enforce.Apply(r.Context(), u, req)
	if err != nil {
		if parley.ErrorCode(err) == parley.ENotFound {
			// The item named does not exist: that is the field to correct.
			err = parley.FieldError(targetField(target.Type), "%s", parley.ErrorMessage(err))
		}
		return fail(err)
	}
	setFlash(w, fmt.Sprintf("Action #%d taken: %s. The affected account can read its statement of reasons.", a.ID, strings.ToLower(kindLabel(a.Kind))))
	return seeOther(w, r, fmt.Sprintf("/moderation/actions/%d", a.ID))
}

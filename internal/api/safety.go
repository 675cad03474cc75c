package api

import (
	"errors"
	"net/http"

	"parley"
	"parley/internal/safety/banks"
	"parley/internal/safety/enforce"
	"parley/internal/safety/rules"
)

// The trust & safety endpoints beyond enforcement actions: screening rules,
// the review queue, campaigns and hash banks. Each service checks the
// caller's role itself; the route table requires staff on top.

func (s *Server) handleListRules(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Rules.List(r.Context(), CurrentUser(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": list})
	return nil
}

func (s *Server) handleCreateRule(w http.ResponseWriter, r *http.Request) error {
	var in rules.Rule
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rule, err := s.Rules.Create(r.Context(), CurrentUser(r.Context()), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rule)
	return nil
}

func (s *Server) handleGetRule(w http.ResponseWriter, r *http.Request) error {
	rule, versions, err := s.Rules.Find(r.Context(), CurrentUser(r.Context()), r.PathValue("ruleID"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"rule": rule, "versions": versions})
	return nil
}

// handleEditRule stores a new version; the body's version must be the one
// the editor started from.
func (s *Server) handleEditRule(w http.ResponseWriter, r *http.Request) error {
	var in rules.Rule
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.ID != "" && in.ID != r.PathValue("ruleID") {
		return parley.FieldError("id", "the body names rule %q, the path %q", in.ID, r.PathValue("ruleID"))
	}
	in.ID = r.PathValue("ruleID")
	rule, err := s.Rules.Edit(r.Context(), CurrentUser(r.Context()), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

func (s *Server) handleEnableRule(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Enabled == nil {
		return parley.FieldError("enabled", "say whether the rule is enabled: true or false")
	}
	rule, err := s.Rules.SetEnabled(r.Context(), CurrentUser(r.Context()), r.PathValue("ruleID"), *in.Enabled)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

// handleBacktest runs a rule (a draft in the body) over stored posts.
func (s *Server) handleBacktest(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Rule  rules.Rule `json:"rule"`
		Limit int        `json:"limit"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rep, err := s.Rules.Backtest(r.Context(), CurrentUser(r.Context()), in.Rule, in.Limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) handleRuleMatches(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Review.Matches(r.Context(), CurrentUser(r.Context()), parley.MatchRule, r.PathValue("ruleID"), 100)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"matches": list})
	return nil
}

func (s *Server) handleReviewQueue(w http.ResponseWriter, r *http.Request) error {
	cases, open, err := s.Review.Queue(r.Context(), CurrentUser(r.Context()), 100)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": cases, "open": open})
	return nil
}

func (s *Server) handleGetCase(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "caseID")
	if err != nil {
		return err
	}
	c, err := s.Review.Find(r.Context(), CurrentUser(r.Context()), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// handleDecideCase applies a moderator's decision on a case: approve or
// remove a post, confirm or release a stopped upload.
func (s *Server) handleDecideCase(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "caseID")
	if err != nil {
		return err
	}
	var in struct {
		Decision string           `json:"decision"`
		Reason   string           `json:"reason"`
		Grounds  *enforce.Grounds `json:"grounds"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	ctx, u := r.Context(), CurrentUser(r.Context())
	switch in.Decision {
	case "approve":
		err = s.Review.Approve(ctx, u, id)
	case "remove":
		g := enforce.Grounds{}
		if in.Grounds != nil {
			g = *in.Grounds
		}
		_, err = s.Review.Remove(ctx, u, id, g)
	case "confirm":
		err = s.Review.ConfirmBlock(ctx, u, id)
	case "release":
		err = s.Review.ReleaseBlock(ctx, u, id, in.Reason)
	default:
		return parley.FieldError("decision", "decision must be approve, remove, confirm or release")
	}
	if err != nil {
		return err
	}
	c, err := s.Review.Find(ctx, u, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) handleListCampaigns(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Campaigns.List(r.Context(), CurrentUser(r.Context()), r.URL.Query().Get("status"), 100)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": list})
	return nil
}

func (s *Server) handleGetCampaign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "campaignID")
	if err != nil {
		return err
	}
	c, members, err := s.Campaigns.Find(r.Context(), CurrentUser(r.Context()), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign": c, "members": members})
	return nil
}

func (s *Server) handleRemoveCampaign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "campaignID")
	if err != nil {
		return err
	}
	var in struct {
		Grounds *enforce.Grounds `json:"grounds"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := s.Campaigns.Remove(r.Context(), CurrentUser(r.Context()), id, in.Grounds)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"removed": n})
	return nil
}

func (s *Server) handleDismissCampaign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "campaignID")
	if err != nil {
		return err
	}
	if err := s.Campaigns.Dismiss(r.Context(), CurrentUser(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleListBanks(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Banks.Banks(r.Context(), banks.UserActor(CurrentUser(r.Context())))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"banks": list})
	return nil
}

func (s *Server) handleCreateBank(w http.ResponseWriter, r *http.Request) error {
	var in banks.Bank
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	b, err := s.Banks.CreateBank(r.Context(), banks.UserActor(CurrentUser(r.Context())), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, b)
	return nil
}

func (s *Server) handleEnableBank(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "bankID")
	if err != nil {
		return err
	}
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Enabled == nil {
		return parley.FieldError("enabled", "say whether the bank is enabled: true or false")
	}
	b, err := s.Banks.SetBankEnabled(r.Context(), banks.UserActor(CurrentUser(r.Context())), id, *in.Enabled)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) handleListBankEntries(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "bankID")
	if err != nil {
		return err
	}
	after, limit, err := queryPage(r, "after", 100)
	if err != nil {
		return err
	}
	list, err := s.Banks.Entries(r.Context(), banks.UserActor(CurrentUser(r.Context())), id, after, int(limit))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": list})
	return nil
}

func (s *Server) handleAddBankEntry(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "bankID")
	if err != nil {
		return err
	}
	var in banks.Entry
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	e, added, err := s.Banks.AddEntry(r.Context(), banks.UserActor(CurrentUser(r.Context())), id, in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !added {
		status = http.StatusOK // the bank held it already
	}
	writeJSON(w, status, e)
	return nil
}

func (s *Server) handleRemoveBankEntry(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "bankID")
	if err != nil {
		return err
	}
	entry, err := pathInt(r, "entryID")
	if err != nil {
		return err
	}
	if err := s.Banks.RemoveEntry(r.Context(), banks.UserActor(CurrentUser(r.Context())), id, entry, r.URL.Query().Get("reason")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxImportBody bounds a bank import sent through the API; larger lists go
// through 'parley banks import'.
const maxImportBody = 64 << 20

// handleImportBank imports a CSV body (?format=threatexchange|hma|pdq,
// &type= for hma, &source=): every line or none.
func (s *Server) handleImportBank(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "bankID")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	format, err := banks.ParseFormat(q.Get("format"))
	if err != nil {
		return err
	}
	opts := banks.ImportOptions{Format: format, Source: q.Get("source"), Name: "API upload"}
	if t := q.Get("type"); t != "" {
		if opts.Type, err = banks.ParseType(t); err != nil {
			return err
		}
	}
	body := http.MaxBytesReader(w, r.Body, maxImportBody)
	rep, err := s.Banks.Import(r.Context(), banks.UserActor(CurrentUser(r.Context())), id, body, opts)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return parley.Errorf(parley.ETooLarge, "an import through the API is at most %d MiB; use 'parley banks import' for larger lists", maxImportBody>>20)
	}
	if err != nil {
		if rep != nil && rep.BadLines > 0 {
			// The per-line report is the answer: nothing was imported.
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": ErrorDetail{Code: parley.EInvalid, Message: parley.ErrorMessage(err)}, "report": rep})
			return nil
		}
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) handleExportBank(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "bankID")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	format, err := banks.ParseFormat(q.Get("format"))
	if err != nil {
		return err
	}
	opts := banks.ExportOptions{Format: format}
	if t := q.Get("type"); t != "" {
		if opts.Type, err = banks.ParseType(t); err != nil {
			return err
		}
	}
	dw := &CSVDownload{W: w, Name: "bank.csv"}
	if _, err := s.Banks.Export(r.Context(), banks.UserActor(CurrentUser(r.Context())), id, dw, opts); err != nil {
		if !dw.Started() {
			return err
		}
		// Part of the file went out: break the response off, so that the
		// client sees a failed download rather than a short file.
		s.Log.Error("api: bank export failed after it started", "bank", id, "err", err)
		panic(http.ErrAbortHandler)
	}
	dw.Start()
	return nil
}

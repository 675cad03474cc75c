package web

import (
	"net/http"

	"parley"
	"parley/internal/api"
	"parley/internal/safety/banks"
)

// bankExport sends a bank's entries as a CSV file in the chosen format. It
// is a form post, not a link: an export is recorded in the audit log, and a
// post cannot be made from another site.
func (s *Server) bankExport(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadBankPage(r.Context(), r, u)
	if err != nil {
		return err
	}
	p.Export = formFrom(r, exportFields...)
	format, err := banks.ParseFormat(p.Export.Get("export_format"))
	if err != nil {
		return s.renderBankForm(w, r, u, p, p.Export, err, exportErrorFields)
	}
	typ := banks.EntryType(p.Export.Get("export_type"))
	name := p.Bank.Name + "-" + string(format)
	if typ != "" {
		name += "-" + string(typ)
	}
	dw := &api.CSVDownload{W: w, Name: name + ".csv"}
	if _, err := s.Banks.Export(r.Context(), banks.UserActor(u), p.Bank.ID, dw, banks.ExportOptions{Format: format, Type: typ}); err != nil {
		if !dw.Started() {
			return s.renderBankForm(w, r, u, p, p.Export, err, exportErrorFields)
		}
		// Part of the file went out: break the response off, so that the
		// browser reports a failed download rather than a short file.
		s.Log.Error("web: bank export failed after it started", "bank", p.Bank.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	dw.Start()
	return nil
}

package web

import (
	"net/http"

	"parley"
	"parley/internal/safety/banks"
)

// bankExport sends a bank's entries as a CSV file in the chosen format. It
// is a form post, not a link: an export is recorded in the audit log, and a
// post cannot be made from another site.
func (s *Server) bankExport(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadBankPage(r.Context(), r, u, 0)
	if err != nil {
		return err
	}
	p.Export = formFrom(r, exportFields...)
	format, err := banks.ParseFormat(p.Export.Get("export_format"))
	if err != nil {
		return s.renderBankForm(w, r, p, p.Export, err, exportErrorFields)
	}
	typ := banks.EntryType(p.Export.Get("export_type"))
	name := p.Bank.Name + "-" + string(format)
	if typ != "" {
		name += "-" + string(typ)
	}
	dw := &downloadWriter{w: w, name: name + ".csv"}
	if _, err := s.Banks.Export(r.Context(), banks.UserActor(u), p.Bank.ID, dw, banks.ExportOptions{Format: format, Type: typ}); err != nil {
		if !dw.started {
			return s.renderBankForm(w, r, p, p.Export, err, exportErrorFields)
		}
		// Part of the file went out: break the response off, so that the
		// browser reports a failed download rather than a short file.
		s.Log.Error("web: bank export failed after it started", "bank", p.Bank.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	dw.start() // an export with no entries is an empty file
	return nil
}

// downloadWriter sends a file download, setting its headers on the first
// write, so that an error found before anything is written can still be
// shown as a page.
type downloadWriter struct {
	w       http.ResponseWriter
	name    string // a bank name and a format: letters, digits, '.', '-' and '_'
	started bool
}

func (d *downloadWriter) start() {
	if d.started {
		return
	}
	d.started = true
	h := d.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+d.name+`"`)
	d.w.WriteHeader(http.StatusOK)
}

func (d *downloadWriter) Write(b []byte) (int, error) {
	d.start()
	return d.w.Write(b)
}

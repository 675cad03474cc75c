package web

import (
	"errors"
	"fmt"
	"net/http"
	"path"

	"parley"
	"parley/internal/safety/banks"
)

// maxImportBytes bounds a file imported through the web page. The service
// reads any size in bounded memory and writes it in small transactions
// that posts go on between, but the page's answer waits for the whole
// import, with no progress shown; millions of entries go through `parley
// banks import`, which shows its progress (docs/banks.md).
const maxImportBytes = 16 << 20

// bankImport imports a CSV file into a bank, all or nothing: when any line
// is bad, nothing is imported and the page lists the bad lines.
func (s *Server) bankImport(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxImportBytes+64<<10)
	parseErr := r.ParseMultipartForm(1 << 20)
	p, err := s.loadBankPage(r.Context(), r, u)
	if err != nil {
		return err
	}
	if parseErr != nil {
		var tooBig *http.MaxBytesError
		if errors.As(parseErr, &tooBig) {
			return s.renderBankForm(w, r, u, p, p.Import, &parley.Error{Code: parley.ETooLarge, Field: "file",
				Message: fmt.Sprintf("the file is larger than %d MB; import larger files with the command parley banks import", maxImportBytes>>20)}, nil)
		}
		return parley.Errorf(parley.EInvalid, "the form could not be read; please try again")
	}
	p.Import = formFrom(r, importFields...)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		return s.renderBankForm(w, r, u, p, p.Import, parley.FieldError("file", "choose the file to import"), nil)
	}
	defer file.Close()
	format, err := banks.ParseFormat(p.Import.Get("import_format"))
	if err != nil {
		return s.renderBankForm(w, r, u, p, p.Import, err, importErrorFields)
	}
	name := path.Base(hdr.Filename)
	rep, err := s.Banks.Import(r.Context(), banks.UserActor(u), p.Bank.ID, file, banks.ImportOptions{
		Format: format, Type: banks.EntryType(p.Import.Get("import_type")), Source: p.Import.Get("import_source"), Name: name})
	if err != nil {
		if rep != nil && rep.BadLines > 0 {
			// The report says it all, line by line.
			p.Report = rep
			return s.renderBank(w, r, u, http.StatusBadRequest, p)
		}
		return s.renderBankForm(w, r, u, p, p.Import, err, importErrorFields)
	}
	setFlash(w, fmt.Sprintf("Imported %s into %s: %s added, %d already in the bank.", excerpt(40, name), p.Bank.Name,
		plural(rep.Added, "entry", "entries"), rep.Duplicates))
	return seeOther(w, r, bankURL(p.Bank.ID))
}

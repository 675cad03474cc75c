package api

import "net/http"

// CSVDownload sends a CSV file download, setting its headers on the first
// write, so that an error found before anything is written can still be
// answered as an error (in JSON here, as a page in the web client) rather
// than as a file.
type CSVDownload struct {
	W    http.ResponseWriter
	Name string // the file's name: letters, digits, '.', '-' and '_'

	started bool
}

// Started reports whether anything of the file went out.
func (d *CSVDownload) Started() bool { return d.started }

// Start sends the headers, if they were not sent yet: an export with no
// entries is an empty file.
func (d *CSVDownload) Start() {
	if d.started {
		return
	}
	d.started = true
	h := d.W.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+d.Name+`"`)
	d.W.WriteHeader(http.StatusOK)
}

func (d *CSVDownload) Write(b []byte) (int, error) {
	d.Start()
	return d.W.Write(b)
}

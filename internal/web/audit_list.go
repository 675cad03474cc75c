package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"parley"
	"parley/internal/audit"
)

// auditPage is the data of the audit log page.
type auditPage struct {
	page
	Report  audit.Report
	Entries []auditRow
	// Older is the "before" of the next older page (0 when there is none).
	Older int64
	// Paged is set on any page but the newest.
	Paged bool
}

// auditRow is one entry of the audit log.
type auditRow struct {
	*parley.AuditEntry
	Actor string
	// Fields are the details as a list of fields, when they are a JSON
	// object (they always are, as Parley writes them); empty otherwise,
	// and the details are shown as they are.
	Fields []auditField
}

// auditField is one field of an entry's details: a nested object's fields
// are named by their path ("changed.description.to").
type auditField struct {
	Key, Value string
}

// auditList shows the audit log to admins, newest first, a page at a time
// (?before=ID), with the verification of its hash chain at the top. The
// verification is incremental (audit.Log.Verify): it starts at the newest
// checkpoint, so a page costs what was added since, not the whole log;
// 'parley audit verify' walks all of it. The API gives the log to admins
// only, and so does this page.
func (s *Server) auditList(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	before, err := queryID(r, "before")
	if err != nil {
		return err
	}
	report, err := s.Audit.Verify(r.Context())
	if err != nil {
		return err
	}
	last, err := s.Audit.Store.LastAuditEntryID(r.Context())
	if err != nil {
		return err
	}
	p := &auditPage{page: modPage("Audit log", "audit"), Report: report}
	if before == 0 || before > last+1 {
		before = last + 1
	}
	p.Paged = before <= last
	// Entry ids count from 1 without gaps (the chain checks it), so the
	// page before id B starts after B-1-modPageSize.
	after := max(0, before-1-modPageSize)
	entries, err := s.Auth.Store.ListAuditEntries(r.Context(), after, modPageSize)
	if err != nil {
		return err
	}
	n := s.names(r.Context())
	for _, e := range entries {
		if e.ID < before {
			p.Entries = append(p.Entries, auditRow{AuditEntry: e, Actor: n.username(e.ActorID, "system"), Fields: auditFields(e.Details)})
		}
	}
	slices.Reverse(p.Entries)
	if after > 0 {
		p.Older = after + 1
	}
	s.render(w, r, http.StatusOK, "audit", p)
	return nil
}

// maxAuditFields bounds the fields shown of one entry; the rest are left
// out, saying so.
const maxAuditFields = 40

// auditFields lists the fields of details that are a JSON object, in the
// order they were written; nested objects are flattened into paths, lists
// of plain values are joined with commas. Nil when details are not an
// object: the page shows them as they are.
func auditFields(details string) []auditField {
	d := json.NewDecoder(strings.NewReader(details))
	d.UseNumber()
	var out []auditField
	if !flattenObject(d, "", &out) || d.More() {
		return nil
	}
	if len(out) > maxAuditFields {
		n := len(out) - maxAuditFields
		out = append(out[:maxAuditFields], auditField{Key: "…", Value: plural(int64(n), "more field", "more fields") + " not shown"})
	}
	return out
}

// flattenObject reads one JSON object from d into fields named prefix+key,
// and reports whether it was one.
func flattenObject(d *json.Decoder, prefix string, out *[]auditField) bool {
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return false
		}
		name := prefix + key
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) > 0 && raw[0] == '{' && len(raw) > 2:
			if !flattenObject(json.NewDecoder(bytes.NewReader(raw)), name+".", out) {
				return false
			}
		default:
			*out = append(*out, auditField{Key: name, Value: plainJSON(raw)})
		}
	}
	_, err := d.Token() // the closing brace
	return err == nil
}

// plainJSON shows a JSON value as a person reads it: a string without
// quotes, a list of plain values joined with commas, anything else as
// compact JSON.
func plainJSON(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []any
	if json.Unmarshal(raw, &list) == nil {
		parts := make([]string, 0, len(list))
		for _, v := range list {
			switch v := v.(type) {
			case string:
				parts = append(parts, v)
			case float64, bool:
				b, _ := json.Marshal(v)
				parts = append(parts, string(b))
			default:
				return string(raw)
			}
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	}
	return string(raw)
}

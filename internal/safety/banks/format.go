package banks

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"parley"
)

// The import and export formats. Each follows a CSV that Meta's
// ThreatExchange tools read or write (the ThreatExchange repository on
// GitHub, which holds python-threatexchange and hasher-matcher-actioner);
// docs/banks.md shows examples and says what each column becomes.
//
// threatexchange: what `threatexchange dataset --print-signals --csv`
// (python-threatexchange's CLI) writes, a header and then one signal per
// line:
//
//	collab,signal_type,signal_str,category,tags
//	Sample Data,pdq,acecf335…,TRUE_POSITIVE,media_type_photo disputed
//
// signal_type and signal_str are required; collab (the collaboration, which
// becomes the entry's source), category and tags (separated by spaces) may
// be left out or empty, and the columns may come in any order. A column the
// format does not have is refused, so that a file of another kind is not
// half-understood. The category is the opinion on the signal: TRUE_POSITIVE
// (POSITIVE_CLASS in newer versions of the library) is accepted by block
// banks, FALSE_POSITIVE (NEGATIVE_CLASS) by allow banks, and
// WORTH_INVESTIGATING (INVESTIGATION_SEED) by none: a bank lists content
// that was confirmed, and an unconfirmed signal must not block uploads.
//
// hma: the headerless CSV of hasher-matcher-actioner's sample data and of
// HMA-lite, one signal type per file (named after it: pdq.csv,
// video_md5.csv, url.csv):
//
//	acecf335…,2880742865368386,2020-07-31T18:47:52+0000,media_priority_samples media_type_photo
//
// with the signal, then optionally the ThreatExchange descriptor id (kept as
// the entry's external id), the time the descriptor was added (checked, not
// kept: the entry's time is when it entered the bank) and the tags. The
// signal type and the source are given with the import.
//
// pdq: what Meta's pdq-photo-hasher and `parley hash` print, for curators
// who hash their own images:
//
//	acecf335…,100,photos/a.jpg
//
// the hash, its quality (hashes of quality below 50 are refused, as the PDQ
// reference recommends; an empty quality means not known) and the file,
// kept as the entry's note. The source is given with the import.

// Format is an import and export format.
type Format string

// The formats.
const (
	FormatThreatExchange Format = "threatexchange"
	FormatHMA            Format = "hma"
	FormatPDQ            Format = "pdq"
)

// Formats lists the formats.
var Formats = []Format{FormatThreatExchange, FormatHMA, FormatPDQ}

// ParseFormat parses a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", parley.FieldError("format", "format %q is unknown: use threatexchange, hma or pdq", clip(s))
}

// signalTypes maps the signal type names of python-threatexchange (and of
// HMA, which uses that library) to entry types. MD5 and SHA-256 are hashes
// of a file's bytes whatever the file, so the photo and video variants are
// the same entry type.
var signalTypes = map[string]EntryType{
	"pdq":          TypePDQ,
	"md5":          TypeMD5,
	"photo_md5":    TypeMD5,
	"video_md5":    TypeMD5,
	"sha256":       TypeSHA256,
	"photo_sha256": TypeSHA256,
	"video_sha256": TypeSHA256,
	"url":          TypeURL,
	"domain":       TypeDomain, // no such signal type in python-threatexchange; ThreatExchange's indicator type DOMAIN
}

// exportSignalType is the python-threatexchange name written for each entry
// type: the names its current version registers (it knows video_md5 and
// video_sha256, which hash file bytes as Parley's md5 and sha256 do), and
// Parley's own name for domains, which it has no type for.
var exportSignalType = map[EntryType]string{
	TypePDQ:    "pdq",
	TypeMD5:    "video_md5",
	TypeSHA256: "video_sha256",
	TypeURL:    "url",
	TypeDomain: "domain",
}

// ParseSignalType maps a signal type name as ThreatExchange and HMA write
// it (pdq, video_md5, photo_md5, video_sha256, url) or as Parley names it
// (md5, sha256, domain) to an entry type.
func ParseSignalType(s string) (EntryType, error) {
	if t, ok := signalTypes[s]; ok {
		return t, nil
	}
	return "", parley.FieldError("type", "signal type %q is not supported: banks hold pdq, md5 (video_md5, photo_md5), sha256 (video_sha256), url and domain", clip(s))
}

// The opinion categories of python-threatexchange (SignalOpinionCategory),
// under their older and newer names.
const (
	categoryPositive    = "TRUE_POSITIVE"
	categoryNegative    = "FALSE_POSITIVE"
	categoryInvestigate = "WORTH_INVESTIGATING"
)

var opinionCategories = map[string]string{
	"TRUE_POSITIVE":       categoryPositive,
	"POSITIVE_CLASS":      categoryPositive,
	"FALSE_POSITIVE":      categoryNegative,
	"NEGATIVE_CLASS":      categoryNegative,
	"WORTH_INVESTIGATING": categoryInvestigate,
	"INVESTIGATION_SEED":  categoryInvestigate,
}

// teColumns are the columns of the threatexchange format, in the order it
// writes them.
var teColumns = []string{"collab", "signal_type", "signal_str", "category", "tags"}

// hmaTimeLayouts are the time formats accepted in the hma format's third
// column: ThreatExchange's, and RFC 3339.
var hmaTimeLayouts = []string{"2006-01-02T15:04:05-0700", time.RFC3339}

// lineParser turns the fields of one line of a format into an entry.
type lineParser struct {
	format Format
	bank   *Bank
	typ    EntryType // hma: the type of every line
	source string    // the source when a line has none
	header map[string]int
}

// columnError is a bad field: its column (from 1), name and what is wrong.
type columnError struct {
	column int
	name   string
	msg    string
}

func colErr(column int, name, format string, args ...any) *columnError {
	return &columnError{column, name, fmt.Sprintf(format, args...)}
}

// parseHeader reads the header line of the threatexchange format.
func (p *lineParser) parseHeader(fields []string) *columnError {
	p.header = map[string]int{}
	for i, f := range fields {
		name := strings.TrimSpace(f)
		known := false
		for _, c := range teColumns {
			known = known || c == name
		}
		if !known {
			return colErr(i+1, name, "is not a column of the threatexchange format (%s)", strings.Join(teColumns, ","))
		}
		if _, dup := p.header[name]; dup {
			return colErr(i+1, name, "appears twice in the header")
		}
		p.header[name] = i
	}
	for _, need := range []string{"signal_type", "signal_str"} {
		if _, ok := p.header[need]; !ok {
			return colErr(1, need, "is missing from the header (%s)", strings.Join(teColumns, ","))
		}
	}
	return nil
}

// needsHeader reports whether the format's first line is a header.
func (p *lineParser) needsHeader() bool { return p.format == FormatThreatExchange }

// parse turns the fields of one line into e (which it resets).
func (p *lineParser) parse(fields []string, e *Entry) *columnError {
	*e = Entry{Source: p.source}
	for i := range fields {
		if p.format == FormatPDQ && i >= 2 {
			break // the file name is joined first, then trimmed
		}
		fields[i] = strings.TrimSpace(fields[i])
	}
	switch p.format {
	case FormatThreatExchange:
		return p.parseTE(fields, e)
	case FormatHMA:
		return p.parseHMA(fields, e)
	default:
		return p.parsePDQ(fields, e)
	}
}

func (p *lineParser) parseTE(fields []string, e *Entry) *columnError {
	if len(fields) != len(p.header) {
		return colErr(min(len(fields), len(p.header))+1, "", "the line has %d fields, the header %d", len(fields), len(p.header))
	}
	get := func(name string) (string, int) {
		if i, ok := p.header[name]; ok {
			return fields[i], i + 1
		}
		return "", 0
	}
	st, col := get("signal_type")
	t, err := ParseSignalType(st)
	if err != nil {
		return colErr(col, "signal_type", "%s", parley.ErrorMessage(err))
	}
	e.Type = t
	s, col := get("signal_str")
	if e.Value, err = ParseValue(t, s); err != nil {
		return colErr(col, "signal_str", "%s", parley.ErrorMessage(err))
	}
	if collab, col := get("collab"); collab != "" {
		if err := checkText("source", collab, MaxSourceBytes, true); err != nil {
			return colErr(col, "collab", "%s", parley.ErrorMessage(err))
		}
		e.Source = collab
	}
	if e.Source == "" {
		_, col := get("collab")
		return colErr(max(col, 1), "collab", "is empty and the import names no source: say where the signals come from")
	}
	if c, col := get("category"); c != "" {
		opinion, ok := opinionCategories[c]
		switch {
		case !ok:
			return colErr(col, "category", "%q is not an opinion category: use TRUE_POSITIVE or FALSE_POSITIVE", clip(c))
		case opinion == categoryInvestigate:
			return colErr(col, "category", "is %s: banks hold confirmed signals only (TRUE_POSITIVE in block banks, FALSE_POSITIVE in allow banks)", c)
		case opinion == categoryNegative && p.bank.Kind == KindBlock:
			return colErr(col, "category", "is %s: a known false positive belongs in an allow bank, not in block bank %s", c, p.bank.Name)
		case opinion == categoryPositive && p.bank.Kind == KindAllow:
			return colErr(col, "category", "is %s: allow bank %s holds known false positives only", c, p.bank.Name)
		}
	}
	if tags, col := get("tags"); tags != "" {
		if ce := parseTags(tags, col, e); ce != nil {
			return ce
		}
	}
	return nil
}

func (p *lineParser) parseHMA(fields []string, e *Entry) *columnError {
	if len(fields) > 4 {
		return colErr(5, "", "the line has %d fields; the hma format has at most 4 (signal, id, added_on, tags)", len(fields))
	}
	var err error
	e.Type = p.typ
	if e.Value, err = ParseValue(p.typ, fields[0]); err != nil {
		return colErr(1, "signal", "%s", parley.ErrorMessage(err))
	}
	if len(fields) > 1 {
		if err := checkToken("external_id", fields[1], MaxExternalIDBytes); err != nil {
			return colErr(2, "id", "%s", parley.ErrorMessage(err))
		}
		e.ExternalID = fields[1]
	}
	if len(fields) > 2 && fields[2] != "" {
		ok := false
		for _, layout := range hmaTimeLayouts {
			if _, err := time.Parse(layout, fields[2]); err == nil {
				ok = true
				break
			}
		}
		if !ok {
			return colErr(3, "added_on", "%q is not a time like 2020-07-31T18:47:52+0000", clip(fields[2]))
		}
	}
	if len(fields) > 3 && fields[3] != "" {
		return parseTags(fields[3], 4, e)
	}
	return nil
}

func (p *lineParser) parsePDQ(fields []string, e *Entry) *columnError {
	if len(fields) < 2 {
		return colErr(2, "quality", "is missing: the pdq format is hash,quality,file")
	}
	var err error
	e.Type = TypePDQ
	if e.Value, err = ParseValue(TypePDQ, fields[0]); err != nil {
		return colErr(1, "hash", "%s", parley.ErrorMessage(err))
	}
	if fields[1] != "" {
		q, err := strconv.Atoi(fields[1])
		switch {
		case err != nil || q < 0 || q > 100:
			return colErr(2, "quality", "%q is not a quality from 0 to 100", clip(fields[1]))
		case q < 50:
			return colErr(2, "quality", "%d is below 50: hashes of such images are too unreliable to match on (the PDQ reference discards them)", q)
		}
		e.Quality = q
	}
	if len(fields) > 2 {
		// pdq-photo-hasher writes the path last, unquoted, so a path with
		// a comma spans several fields.
		note := strings.TrimSpace(strings.Join(fields[2:], ","))
		if err := checkText("note", note, MaxNoteBytes, false); err != nil {
			return colErr(3, "file", "%s", parley.ErrorMessage(err))
		}
		e.Note = note
	}
	return nil
}

// parseTags splits a space-separated tag list into e.Tags, dropping
// repeats.
func parseTags(s string, col int, e *Entry) *columnError {
	for _, tag := range strings.Fields(s) {
		if err := checkToken("tags", tag, MaxTagBytes); err != nil {
			return colErr(col, "tags", "%s", parley.ErrorMessage(err))
		}
		dup := false
		for _, t := range e.Tags {
			dup = dup || t == tag
		}
		if !dup {
			e.Tags = append(e.Tags, tag)
		}
	}
	if len(e.Tags) > MaxTags {
		return colErr(col, "tags", "has %d tags, the limit is %d", len(e.Tags), MaxTags)
	}
	return nil
}

// entryWriter writes entries of one bank in a format.
type entryWriter struct {
	format Format
	bank   *Bank
	typ    EntryType // hma: the type written; others are skipped
	w      *csv.Writer
	row    []string
}

func newEntryWriter(w io.Writer, format Format, bank *Bank, typ EntryType) (*entryWriter, error) {
	ew := &entryWriter{format: format, bank: bank, typ: typ, w: csv.NewWriter(w)}
	switch format {
	case FormatThreatExchange:
		if err := ew.w.Write(teColumns); err != nil {
			return nil, err
		}
	case FormatHMA:
		if typ == "" {
			return nil, parley.FieldError("type", "the hma format holds one signal type per file: name the type to export")
		}
	case FormatPDQ:
		ew.typ = TypePDQ
	default:
		_, err := ParseFormat(string(format))
		return nil, err
	}
	return ew, nil
}

// write writes e and reports whether the format holds its type.
func (ew *entryWriter) write(e *Entry) (bool, error) {
	if ew.typ != "" && e.Type != ew.typ {
		return false, nil
	}
	switch ew.format {
	case FormatThreatExchange:
		category := categoryPositive
		if ew.bank.Kind == KindAllow {
			category = categoryNegative
		}
		ew.row = append(ew.row[:0], e.Source, exportSignalType[e.Type], e.Value, category, strings.Join(e.Tags, " "))
	case FormatHMA:
		ew.row = append(ew.row[:0], e.Value, e.ExternalID, e.AddedAt.UTC().Format(hmaTimeLayouts[0]), strings.Join(e.Tags, " "))
	case FormatPDQ:
		q := ""
		if e.Quality != 0 {
			q = strconv.Itoa(e.Quality)
		}
		ew.row = append(ew.row[:0], e.Value, q, e.Note)
	}
	return true, ew.w.Write(ew.row)
}

func (ew *entryWriter) flush() error {
	ew.w.Flush()
	return ew.w.Error()
}

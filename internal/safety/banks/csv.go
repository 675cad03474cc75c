package banks

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
)

// Imports read CSV line by line through a lineReader and split each line
// with splitCSV, rather than with encoding/csv, for two reasons: memory must
// stay bounded whatever the input (encoding/csv grows its buffer to hold a
// line of any length, and a quoted field may run on for ever), and a bad
// line must not stop the import, because every bad line is reported. A
// field may be quoted as RFC 4180 says ("a ""b"", c"), but may not span
// lines: none of the formats has a field that could hold a line break.

// lineReader reads lines of at most max bytes, counting lines and bytes.
type lineReader struct {
	r     *bufio.Reader
	max   int
	line  int64 // number of the last line returned, from 1
	bytes int64 // bytes read so far
	buf   []byte
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// errLineTooLong is returned by next for a line longer than max bytes; the
// line has been skipped and the next call reads the line after it.
var errLineTooLong = errors.New("line too long")

// next returns the next line without its line ending ("\n" or "\r\n"). The
// slice is valid until the next call. It returns io.EOF after the last line
// (a last line without a line ending is a line).
func (lr *lineReader) next() ([]byte, error) {
	lr.buf = lr.buf[:0]
	tooLong := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.bytes += int64(len(chunk))
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.max+2 { // +2 for the line ending
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			lr.line++
			if tooLong {
				return nil, errLineTooLong
			}
			return trimEOL(lr.buf), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(chunk) == 0 && len(lr.buf) == 0 && !tooLong {
				return nil, io.EOF
			}
			lr.line++
			if tooLong {
				return nil, errLineTooLong
			}
			return trimEOL(lr.buf), nil
		default:
			return nil, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// fieldError is a malformed field: its column (from 1) and what is wrong.
type fieldError struct {
	column int
	msg    string
}

// splitCSV splits one line into fields, appending them to fields[:0]. A
// field is either unquoted (no '"' in it) or wholly quoted, with '""' for a
// quote inside. Fields are returned as written, surrounding spaces included.
func splitCSV(line []byte, fields []string) ([]string, *fieldError) {
	fields = fields[:0]
	col := 1
	for {
		if len(line) > 0 && line[0] == '"' {
			// A quoted field: up to the quote not doubled.
			var b []byte
			i := 1
			for {
				j := bytes.IndexByte(line[i:], '"')
				if j < 0 {
					return fields, &fieldError{col, "a quoted field has no closing quote (fields may not span lines)"}
				}
				b = append(b, line[i:i+j]...)
				i += j + 1
				if i < len(line) && line[i] == '"' {
					b = append(b, '"')
					i++
					continue
				}
				break
			}
			fields = append(fields, string(b))
			line = line[i:]
			if len(line) == 0 {
				return fields, nil
			}
			if line[0] != ',' {
				return fields, &fieldError{col, "a quoted field is followed by " + strconv.QuoteRune(rune(line[0])) + " instead of a comma"}
			}
			line = line[1:]
			col++
			continue
		}
		end := bytes.IndexByte(line, ',')
		field := line
		if end >= 0 {
			field = line[:end]
		}
		if bytes.IndexByte(field, '"') >= 0 {
			return fields, &fieldError{col, `a quote appears inside an unquoted field (quote the whole field and double the quote: "a ""b""")`}
		}
		fields = append(fields, string(field))
		if end < 0 {
			return fields, nil
		}
		line = line[end+1:]
		col++
	}
}

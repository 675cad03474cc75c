package sor

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// How the Transparency Database answers POST /api/v1/statements, as its
// source code and API documentation show it:
//
//   - 201 Created, {"statements": [...]}: every statement of the call was
//     stored; each comes back with its "uuid" and the "puid" sent.
//   - 422 Unprocessable Content: nothing was stored. The body is
//     {"message": "...", "errors": {...}}, where errors holds either
//     "statement_N": {"field": ["message", ...]} for each invalid statement
//     at position N of the call, or, when every statement was valid but
//     some puids are already stored for the platform (or repeated in the
//     call), "puid": ["..."] and "existing_puids": ["puid", ...], or a
//     request-level problem such as "statements": ["..."] (not 1 to 100
//     statements). The single-statement endpoint names a duplicate in
//     "existing": {"puid": ...} instead; both are understood here.
//   - 401 Unauthorized: the token is missing, wrong or revoked.
//   - 403 Forbidden: the token's user may not create statements.
//   - 429 Too Many Requests, usually with Retry-After.
//   - 5xx: the database failed; its staff are notified.

// answerKind classifies one answer.
type answerKind int

const (
	answerCreated      answerKind = iota // 201: all stored
	answerRefused                        // 422: none stored
	answerUnauthorized                   // 401
	answerForbidden                      // 403
	answerRateLimited                    // 429: try again later
	answerUnavailable                    // 5xx, 408: try again later
	answerOther                          // anything else: do not retry
)

// answer is what one HTTP answer says about the statements sent.
type answer struct {
	kind    answerKind
	status  int
	message string // the database's "message", bounded and valid UTF-8

	receipts map[string]Receipt // 201: by puid, as far as the body says

	// 422: the puids already stored, the invalid statements by position in
	// the call, and problems that concern the call as a whole.
	existing []string
	invalid  map[int]map[string][]string
	general  map[string][]string

	retryAfter    time.Duration
	hasRetryAfter bool
}

// maxMessageLength bounds each message kept from an answer, in characters.
const maxMessageLength = 1000

// maxRetryAfterParsed caps a parsed Retry-After, so that absurd values stay
// representable; the client refuses to wait that long anyway.
const maxRetryAfterParsed = 24 * time.Hour

// parseAnswer reads an answer to a call that sent n statements. It never
// fails: a body it cannot read leaves the fields empty, and the status alone
// decides. Positions outside 0..n-1 are kept as general problems.
func parseAnswer(status int, header http.Header, body []byte, n int, now time.Time) answer {
	a := answer{status: status}
	switch {
	case status == http.StatusCreated:
		a.kind = answerCreated
	case status == http.StatusUnprocessableEntity:
		a.kind = answerRefused
	case status == http.StatusUnauthorized:
		a.kind = answerUnauthorized
	case status == http.StatusForbidden:
		a.kind = answerForbidden
	case status == http.StatusTooManyRequests:
		a.kind = answerRateLimited
	case status >= 500 && status <= 599, status == http.StatusRequestTimeout:
		a.kind = answerUnavailable
	default:
		a.kind = answerOther
	}
	if header != nil {
		a.retryAfter, a.hasRetryAfter = parseRetryAfter(header.Get("Retry-After"), now)
	}

	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return a
	}
	var msg string
	if json.Unmarshal(top["message"], &msg) == nil {
		a.message = boundText(msg)
	}
	switch a.kind {
	case answerCreated:
		a.receipts = parseReceipts(top)
	case answerRefused:
		a.parseErrors(top, n)
	}
	return a
}

// parseReceipts reads the stored statements of a 201 answer: a list under
// "statements" (the batch endpoint) or the statement itself (the single one).
func parseReceipts(top map[string]json.RawMessage) map[string]Receipt {
	type stored struct {
		PUID string          `json:"puid"`
		UUID string          `json:"uuid"`
		ID   json.RawMessage `json:"id"`
	}
	var list []json.RawMessage
	if raw, ok := top["statements"]; ok {
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
	} else if _, ok := top["puid"]; ok {
		whole, _ := json.Marshal(top)
		list = []json.RawMessage{whole}
	}
	receipts := make(map[string]Receipt, len(list))
	for _, raw := range list {
		var s stored
		if json.Unmarshal(raw, &s) != nil || s.PUID == "" {
			continue
		}
		r := Receipt{PUID: s.PUID, UUID: boundText(s.UUID)}
		var id json.Number
		if json.Unmarshal(s.ID, &id) == nil {
			r.ID = boundText(id.String())
		} else {
			var idText string
			if json.Unmarshal(s.ID, &idText) == nil {
				r.ID = boundText(idText)
			}
		}
		receipts[s.PUID] = r
	}
	return receipts
}

// parseErrors reads the "errors" (and "existing") of a 422 answer.
func (a *answer) parseErrors(top map[string]json.RawMessage, n int) {
	var existing struct {
		PUID string `json:"puid"`
	}
	if json.Unmarshal(top["existing"], &existing) == nil && existing.PUID != "" {
		a.existing = append(a.existing, existing.PUID)
	}
	var errs map[string]json.RawMessage
	if json.Unmarshal(top["errors"], &errs) != nil {
		return
	}
	for key, raw := range errs {
		switch {
		case key == "existing_puids":
			a.existing = append(a.existing, stringList(raw)...)
		case strings.HasPrefix(key, "statement_"):
			i, ok := position(strings.TrimPrefix(key, "statement_"), n)
			var fields map[string]json.RawMessage
			if !ok || json.Unmarshal(raw, &fields) != nil {
				a.addGeneral(key, stringList(raw))
				continue
			}
			for field, msgs := range fields {
				a.addInvalid(i, field, stringList(msgs))
			}
		case strings.HasPrefix(key, "statements."):
			// Laravel's own naming of a nested field: statements.N.field.
			idx, field, _ := strings.Cut(strings.TrimPrefix(key, "statements."), ".")
			if i, ok := position(idx, n); ok && field != "" {
				a.addInvalid(i, field, stringList(raw))
			} else {
				a.addGeneral(key, stringList(raw))
			}
		default:
			a.addGeneral(key, stringList(raw))
		}
	}
}

func (a *answer) addInvalid(i int, field string, msgs []string) {
	if a.invalid == nil {
		a.invalid = map[int]map[string][]string{}
	}
	if a.invalid[i] == nil {
		a.invalid[i] = map[string][]string{}
	}
	field = boundText(field)
	a.invalid[i][field] = append(a.invalid[i][field], msgs...)
}

func (a *answer) addGeneral(key string, msgs []string) {
	if a.general == nil {
		a.general = map[string][]string{}
	}
	key = boundText(key)
	a.general[key] = append(a.general[key], msgs...)
}

// position parses a statement's position in a call of n statements.
func position(s string, n int) (int, bool) {
	if s == "" || len(s) > 4 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= n {
		return 0, false
	}
	return i, true
}

// stringList reads a JSON list of strings, or one string, and keeps only the
// strings, each bounded.
func stringList(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{boundText(one)}
	}
	var list []any
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, boundText(s))
		}
	}
	return out
}

// boundText makes a text from the database safe to keep and to show: valid
// UTF-8, at most maxMessageLength characters.
func boundText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= maxMessageLength {
		return s
	}
	r := []rune(s)
	return string(r[:maxMessageLength]) + "…"
}

// parseRetryAfter reads a Retry-After header: a number of seconds or an HTTP
// date. A date in the past means now.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return maxRetryAfterParsed, true
			}
			return 0, false
		}
		if secs > uint64(maxRetryAfterParsed/time.Second) {
			return maxRetryAfterParsed, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		d = 0
	case d > maxRetryAfterParsed:
		d = maxRetryAfterParsed
	}
	return d, true
}

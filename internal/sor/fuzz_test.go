package sor

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"parley"
)

// jsonFields are the JSON names of Statement's fields: every problem must
// name one of them (before any ".index").
var jsonFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Statement]()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
}()

// FuzzValidateJSON decodes arbitrary bytes as a statement and checks it.
// Decoding either fails with an EInvalid error, or gives a statement whose
// Check never panics and reports only EInvalid problems naming real fields,
// a bounded number of them; and a statement that passes survives a JSON
// round trip unchanged and still passes.
func FuzzValidateJSON(f *testing.F) {
	good, _ := json.Marshal(goodStatement())
	illegal, _ := json.Marshal(illegalStatement())
	f.Add(good)
	f.Add(illegal)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"decision_visibility": ["DECISION_VISIBILITY_OTHER"], "territorial_scope": ["EL", "de", "GR", "GR"], "puid": "a.b"}`))
	f.Add([]byte(`{"content_date": "2024-02-30", "application_date": "2019-12-31", "end_date_account_restriction": "2040-01-01"}`))
	f.Add([]byte(`{"decision_facts": "mail bob@example.org or call +49 151 2345 6789, see t.me/bob", "puid": 5}`))
	f.Add([]byte(`[1, 2]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeStatement(data)
		if err != nil {
			var pe *parley.Error
			if !errors.As(err, &pe) || pe.Code != parley.EInvalid || pe.Message == "" {
				t.Fatalf("decoding error %#v is not an EInvalid *parley.Error", err)
			}
			return
		}
		err = s.Check()
		if err != nil {
			var problems Problems
			if !errors.As(err, &problems) || len(problems) == 0 || len(problems) > maxProblems+1 {
				t.Fatalf("Check returned %T with %d problems", err, len(problems))
			}
			for _, p := range problems {
				base, _, _ := strings.Cut(p.Field, ".")
				if p.Code != parley.EInvalid || !jsonFields[base] || p.Message == "" || !utf8.ValidString(p.Message) {
					t.Fatalf("problem %+v does not name a field of the statement", p)
				}
			}
			return
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("a valid statement does not encode: %v", err)
		}
		s2, err := DecodeStatement(again)
		if err != nil {
			t.Fatalf("a valid statement's JSON does not decode: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(normalized(s), normalized(s2)) {
			t.Fatalf("round trip changed the statement:\n%+v\n%+v", s, s2)
		}
		if err := s2.Check(); err != nil {
			t.Fatalf("a valid statement fails after a round trip: %v", err)
		}
		if len(s.PUID) > MaxPUIDLength || utf8.RuneCountInString(s.DecisionFacts) > MaxFactsLength {
			t.Fatalf("a statement past the limits passed")
		}
	})
}

// normalized treats an empty list as absent, as the JSON encoding does.
func normalized(s *Statement) Statement {
	c := *s
	if len(c.DecisionVisibility) == 0 {
		c.DecisionVisibility = nil
	}
	if len(c.CategoryAddition) == 0 {
		c.CategoryAddition = nil
	}
	if len(c.CategorySpecification) == 0 {
		c.CategorySpecification = nil
	}
	if len(c.TerritorialScope) == 0 {
		c.TerritorialScope = nil
	}
	return c
}

// FuzzParseAnswer parses arbitrary answers to a call of n statements and
// checks what the client would do with them: the classification follows the
// status, every kept text is valid UTF-8 and bounded, positions are inside
// the call, a Retry-After is between zero and a day, and settling a 422
// accounts for every statement exactly once and always makes progress, so
// the client's loop ends.
func FuzzParseAnswer(f *testing.F) {
	f.Add(201, "", []byte(`{"statements": [{"puid": "p0", "uuid": "u-1", "id": 12345678901234}, {"puid": "p1", "uuid": "u-2", "id": "7"}]}`), uint8(2))
	f.Add(422, "", []byte(`{"errors": {"statement_0": {"category": ["The selected category is invalid."]}, "statement_1": {"puid": "one string"}}}`), uint8(3))
	f.Add(422, "", []byte(`{"message": "not unique", "errors": {"puid": ["not unique"], "existing_puids": ["p1", "p7", 3]}}`), uint8(3))
	f.Add(422, "", []byte(`{"message": "not unique", "errors": {"puid": ["x"]}, "existing": {"puid": "p0", "uuid": "u"}}`), uint8(1))
	f.Add(422, "", []byte(`{"message": "The statements field is required.", "errors": {"statements": ["The statements field is required."]}}`), uint8(1))
	f.Add(422, "", []byte(`{"errors": {"statements.1.puid": ["bad"], "statement_09": {"x": ["y"]}, "statement_99": {"x": ["y"]}}}`), uint8(2))
	f.Add(429, "30", []byte(`{"message": "Too Many Attempts."}`), uint8(1))
	f.Add(503, "Wed, 21 Oct 2015 07:28:00 GMT", []byte(`<html>down</html>`), uint8(1))
	f.Add(401, "99999999999999999999999", []byte(`{"message": "Unauthenticated."}`), uint8(1))
	f.Add(302, "-1", []byte("\xff\xfe"), uint8(0))
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte, n uint8) {
		header := http.Header{}
		header.Set("Retry-After", retryAfter)
		now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		a := parseAnswer(status, header, body, int(n), now)

		wantKind := map[int]answerKind{201: answerCreated, 422: answerRefused, 401: answerUnauthorized, 403: answerForbidden, 429: answerRateLimited, 408: answerUnavailable}
		want, ok := wantKind[status]
		if !ok {
			want = answerOther
			if status >= 500 && status <= 599 {
				want = answerUnavailable
			}
		}
		if a.kind != want {
			t.Fatalf("status %d classified as %d, want %d", status, a.kind, want)
		}
		if a.hasRetryAfter && (a.retryAfter < 0 || a.retryAfter > maxRetryAfterParsed) {
			t.Fatalf("Retry-After %q parsed as %v", retryAfter, a.retryAfter)
		}
		texts := []string{a.message}
		for puid, r := range a.receipts {
			if puid == "" || puid != r.PUID {
				t.Fatalf("receipt %q: %+v", puid, r)
			}
			texts = append(texts, r.UUID, r.ID)
		}
		texts = append(texts, a.existing...)
		for i, fields := range a.invalid {
			if i < 0 || i >= int(n) {
				t.Fatalf("invalid position %d in a call of %d", i, n)
			}
			for field, msgs := range fields {
				texts = append(texts, field)
				texts = append(texts, msgs...)
			}
		}
		for key, msgs := range a.general {
			texts = append(texts, key)
			texts = append(texts, msgs...)
		}
		for _, s := range texts {
			if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxMessageLength+1 {
				t.Fatalf("kept text %q is not bounded valid UTF-8", s)
			}
		}

		if a.kind != answerRefused {
			return
		}
		pending := make([]Statement, n)
		for i := range pending {
			pending[i].PUID = fmt.Sprint("p", i)
		}
		var br BatchReport
		again := br.settleRefusal(a, pending)
		if n > 0 && len(again) >= int(n) {
			t.Fatalf("a refusal of %d statements leaves %d to send again: no progress", n, len(again))
		}
		seen := map[string]int{}
		for _, p := range br.Existing {
			seen[p]++
		}
		for _, r := range br.Rejected {
			seen[r.PUID]++
			if len(r.Problems) == 0 {
				t.Fatalf("rejection of %s without problems", r.PUID)
			}
		}
		for _, s := range again {
			seen[s.PUID]++
		}
		for _, s := range pending {
			if seen[s.PUID] != 1 {
				t.Fatalf("%s accounted for %d times", s.PUID, seen[s.PUID])
			}
		}
	})
}

// FuzzFindPersonalData checks the hand-written scanners behind
// CheckPersonalData: no panic on any text, findings inside the text, in
// order and never overlapping, and an e-mail address planted anywhere is
// always found.
func FuzzFindPersonalData(f *testing.F) {
	for _, s := range []string{"", "call +49 151 2345 6789", "see t.me/alice and www.x.example", "alice [at] example (dot) com",
		"from 10.1.2.3 or 2001:db8::1", "Article 5(4) of Directive 2011/93/EU", "@bob", "é\xff@x", "2025-03-01 (", "((((at))))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n := utf8.RuneCountInString(text)
		end := 0
		for _, fd := range FindPersonalData(text) {
			if fd.Start < end || fd.End <= fd.Start || fd.End > n {
				t.Fatalf("finding %+v out of order or outside a text of %d characters", fd, n)
			}
			end = fd.End
		}
		planted := text + " mail jane.doe@example.org now"
		if !slices.ContainsFunc(FindPersonalData(planted), func(fd Finding) bool { return fd.Kind == PersonalEmail }) {
			t.Fatalf("the planted address is not found in %q", planted)
		}
	})
}

// Package sortest is a local stand-in for the statement endpoints of the
// Commission's DSA Transparency Database API, for tests of the submission
// client and of whatever exports statements. It answers as the real API does
// (see internal/sor/response.go): a bearer token, the same validation
// (sor.Validate, after strict decoding), batches of 1 to 100 stored all or
// nothing, puids refused when repeated in a call or already stored, and the
// real shapes of 201, 401, 403 and 422 answers. It records every call, and
// can be told to fail the next calls (429, 5xx, an answer lost after the
// statements were stored) to exercise retries.
//
// It keeps everything in memory and is safe for concurrent use.
package sortest

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/internal/sor"
)

// MaxBodyBytes bounds a request body, as the real database's web server does.
const MaxBodyBytes = 16 << 20

// Server is the stand-in database. Its zero value is not usable; call New or
// Start.
type Server struct {
	// URL is the base URL to give sor.Client.Endpoint, set by Start.
	URL string

	token         string
	readOnlyToken string
	platformName  string
	mux           *http.ServeMux

	mu     sync.Mutex
	stored map[string]Stored // by puid
	order  []string          // puids in the order stored
	calls  []Call
	faults []Fault
	nextID int64

	// Reject, when set, is asked about each statement that passed
	// validation and may refuse it with messages by field, to stand for a
	// rule of the real database that sor.Validate does not know (yet).
	Reject func(index int, s *sor.Statement) map[string][]string
}

// Stored is a statement the server holds.
type Stored struct {
	Statement sor.Statement
	UUID      string
	ID        int64
	CreatedAt time.Time
}

// Call is one request the server answered.
type Call struct {
	Method string
	Path   string
	PUIDs  []string // the puids in the body, as far as it could be read
	Status int
}

// Fault replaces the server's answer to one POST request.
type Fault struct {
	Status     int    // the status to answer, such as 429 or 503
	RetryAfter string // the Retry-After header, if any
	// AfterStore handles the request normally (storing the statements if
	// they are good) and then answers Status instead: an answer lost after
	// the database committed, the case that makes retries need puids.
	AfterStore bool
}

// New returns a server that accepts token for every endpoint.
func New(token string) *Server {
	s := &Server{token: token, platformName: "Parley", stored: map[string]Stored{}, nextID: 1000}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /api/v1/statements", s.handleStore(s.storeMany))
	s.mux.HandleFunc("POST /api/v1/statement", s.handleStore(s.storeOne))
	s.mux.HandleFunc("GET /api/v1/statement/existing-puid/{puid}", s.handleExisting)
	s.mux.HandleFunc("GET /api/v1/ping", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"you_say": "ping", "i_say": "pong"})
	})
	return s
}

// Start starts a new server on a loopback port chosen by the system, sets
// its URL, and stops it when the test ends.
func Start(tb testing.TB, token string) *Server {
	tb.Helper()
	s := New(token)
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// SetReadOnlyToken makes token a valid token whose user may not create
// statements: POSTs with it are answered 403, as the real API answers a user
// without the "create statements" permission.
func (s *Server) SetReadOnlyToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readOnlyToken = token
}

// FailNext queues faults for the next POST requests, one fault each.
func (s *Server) FailNext(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// Preload stores statements as if an earlier submission had, without a call.
func (s *Server) Preload(statements ...sor.Statement) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range statements {
		s.storeLocked(st, time.Now())
	}
}

// Calls returns the calls answered so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Stored returns the statements held, in the order they were stored.
func (s *Server) Stored() []Stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stored, len(s.order))
	for i, puid := range s.order {
		out[i] = s.stored[puid]
	}
	return out
}

// Lookup returns the stored statement with puid.
func (s *Server) Lookup(puid string) (Stored, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stored[puid]
	return st, ok
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// reply is an answer before it is written, so that a fault can replace it.
type reply struct {
	status     int
	body       any
	puids      []string
	retryAfter string // the Retry-After header, if any
}

// authorize answers 401 for a missing or wrong token and 403 for a read-only
// one on a POST, with the real API's messages; it returns false when it did.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	token, readOnly := s.token, s.readOnlyToken
	s.mu.Unlock()
	switch {
	case ok && got != "" && got == token:
		return true
	case ok && got != "" && got == readOnly:
		if r.Method == http.MethodGet {
			return true
		}
		s.finish(w, r, reply{status: http.StatusForbidden, body: message("Unauthorized")})
	default:
		s.finish(w, r, reply{status: http.StatusUnauthorized, body: message("Unauthenticated.")})
	}
	return false
}

// handleStore answers a POST that stores statements with store (storeMany
// for POST /api/v1/statements, storeOne for POST /api/v1/statement), unless
// a queued fault replaces the answer.
func (s *Server) handleStore(store func(body []byte) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorize(w, r) {
			return
		}
		body, tooLarge := readBody(w, r)
		if tooLarge {
			s.finish(w, r, reply{status: http.StatusRequestEntityTooLarge, body: message("Request Entity Too Large")})
			return
		}
		fault, faulty := s.takeFault()
		if faulty && !fault.AfterStore {
			s.finish(w, r, faultReply(fault, puidsIn(body)))
			return
		}
		rep := store(body)
		if faulty {
			rep = faultReply(fault, rep.puids)
		}
		s.finish(w, r, rep)
	}
}

// storeMany validates and stores one batch, all or nothing.
func (s *Server) storeMany(body []byte) reply {
	var payload struct {
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal(body, &payload); err != nil || payload.Statements == nil {
		return reply{status: http.StatusUnprocessableEntity, body: fieldErrors("The statements field is required.", "statements")}
	}
	if n := len(payload.Statements); n < 1 || n > sor.MaxBatchSize {
		return reply{status: http.StatusUnprocessableEntity,
			body: fieldErrors(fmt.Sprintf("The statements field must have between 1 and %d items.", sor.MaxBatchSize), "statements")}
	}
	statements := make([]*sor.Statement, len(payload.Statements))
	puids := make([]string, len(payload.Statements))
	invalid := map[string]map[string][]string{}
	for i, raw := range payload.Statements {
		st, problems := s.check(i, raw)
		if st != nil {
			puids[i] = st.PUID
		}
		if len(problems) > 0 {
			invalid[fmt.Sprintf("statement_%d", i)] = problems
		}
		statements[i] = st
	}
	if len(invalid) > 0 {
		return reply{status: http.StatusUnprocessableEntity, body: map[string]any{"errors": invalid}, puids: puids}
	}

	// Every statement is valid: now the puids, first within the call, then
	// against what is stored, as the real API checks them.
	counts := map[string]int{}
	var repeated []string
	for _, p := range puids {
		if counts[p]++; counts[p] == 2 {
			repeated = append(repeated, p)
		}
	}
	const notUnique = "The platform identifier(s) are not all unique within this call."
	if len(repeated) > 0 {
		return reply{status: http.StatusUnprocessableEntity, body: puidErrors(notUnique, repeated), puids: puids}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var existing []string
	for _, p := range puids {
		if _, ok := s.stored[p]; ok {
			existing = append(existing, p)
		}
	}
	if len(existing) > 0 {
		return reply{status: http.StatusUnprocessableEntity, body: puidErrors(notUnique, existing), puids: puids}
	}
	now := time.Now()
	out := make([]map[string]any, len(statements))
	for i, st := range statements {
		out[i] = s.echo(s.storeLocked(*st, now))
	}
	return reply{status: http.StatusCreated, body: map[string]any{"statements": out}, puids: puids}
}

// storeOne validates and stores one statement.
func (s *Server) storeOne(body []byte) reply {
	st, problems := s.check(0, body)
	var puids []string
	if st != nil {
		puids = []string{st.PUID}
	}
	if len(problems) > 0 {
		first, n := "", 0
		for _, msgs := range problems {
			n += len(msgs)
			if first == "" && len(msgs) > 0 {
				first = msgs[0]
			}
		}
		if n > 1 {
			first = fmt.Sprintf("%s (and %d more errors)", first, n-1)
		}
		return reply{status: http.StatusUnprocessableEntity, body: map[string]any{"message": first, "errors": problems}, puids: puids}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.stored[st.PUID]; ok {
		const msg = "The identifier given is not unique within this platform."
		return reply{status: http.StatusUnprocessableEntity, puids: puids, body: map[string]any{
			"message": msg, "errors": map[string][]string{"puid": {msg}}, "existing": map[string]string{"puid": st.PUID}}}
	}
	return reply{status: http.StatusCreated, body: s.echo(s.storeLocked(*st, time.Now())), puids: puids}
}

// handleExisting is GET /api/v1/statement/existing-puid/{puid}.
func (s *Server) handleExisting(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	puid := r.PathValue("puid")
	if _, ok := s.Lookup(puid); ok {
		s.finish(w, r, reply{status: http.StatusFound, body: map[string]string{"message": "statement of reason found", "puid": puid}, puids: []string{puid}})
		return
	}
	s.finish(w, r, reply{status: http.StatusNotFound, body: map[string]string{"message": "statement of reason not found", "puid": puid}, puids: []string{puid}})
}

// check decodes and validates one statement; problems are by field, as the
// real API gives them.
func (s *Server) check(i int, raw []byte) (*sor.Statement, map[string][]string) {
	st, err := sor.DecodeStatement(raw)
	if err != nil {
		field := parley.ErrorField(err)
		if field == "" {
			field = "statement"
		}
		return nil, map[string][]string{field: {parley.ErrorMessage(err)}}
	}
	problems := map[string][]string{}
	var list sor.Problems
	if errors.As(st.Validate(), &list) {
		for _, p := range list {
			problems[p.Field] = append(problems[p.Field], p.Message)
		}
	}
	if len(problems) == 0 && s.Reject != nil {
		for field, msgs := range s.Reject(i, st) {
			problems[field] = append(problems[field], msgs...)
		}
	}
	return st, problems
}

// storeLocked stores one statement; s.mu is held.
func (s *Server) storeLocked(st sor.Statement, now time.Time) Stored {
	s.nextID++
	stored := Stored{Statement: st, UUID: newUUID(), ID: s.nextID, CreatedAt: now.UTC()}
	if _, ok := s.stored[st.PUID]; !ok {
		s.order = append(s.order, st.PUID)
	}
	s.stored[st.PUID] = stored
	return stored
}

// echo is a stored statement as the API returns it: the statement as sent,
// plus the database's identifiers and links.
func (s *Server) echo(st Stored) map[string]any {
	data, _ := json.Marshal(st.Statement)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	out["uuid"] = st.UUID
	out["id"] = st.ID
	out["created_at"] = st.CreatedAt.Format("2006-01-02 15:04:05")
	out["platform_name"] = s.platformName
	out["permalink"] = fmt.Sprintf("%s/statement/%d", s.URL, st.ID)
	out["self"] = fmt.Sprintf("%s/api/v1/statement/%d", s.URL, st.ID)
	return out
}

func (s *Server) takeFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f, true
}

// finish records the call and writes the reply.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, rep reply) {
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, PUIDs: rep.puids, Status: rep.status})
	s.mu.Unlock()
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	writeJSON(w, rep.status, rep.body)
}

func faultReply(f Fault, puids []string) reply {
	return reply{status: f.Status, body: message(http.StatusText(f.Status)), puids: puids, retryAfter: f.RetryAfter}
}

// readBody reads a request body up to MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	return body, errors.As(err, &tooBig)
}

// puidsIn reads the puids of a body for the record, ignoring what it cannot.
func puidsIn(body []byte) []string {
	var payload struct {
		Statements []struct {
			PUID string `json:"puid"`
		} `json:"statements"`
		PUID string `json:"puid"`
	}
	_ = json.Unmarshal(body, &payload)
	if payload.Statements == nil && payload.PUID != "" {
		return []string{payload.PUID}
	}
	puids := make([]string, len(payload.Statements))
	for i, st := range payload.Statements {
		puids[i] = st.PUID
	}
	return puids
}

func message(msg string) map[string]string { return map[string]string{"message": msg} }

func fieldErrors(msg, field string) map[string]any {
	return map[string]any{"message": msg, "errors": map[string][]string{field: {msg}}}
}

func puidErrors(msg string, puids []string) map[string]any {
	return map[string]any{"message": msg, "errors": map[string]any{"puid": []string{msg}, "existing_puids": puids}}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

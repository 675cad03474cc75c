package sortest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"parley/internal/sor"
)

const token = "t0k3n"

// good returns a valid statement with the given puid.
func good(puid string) sor.Statement {
	return sor.Statement{
		DecisionVisibility:             []sor.DecisionVisibility{sor.VisibilityContentRemoved},
		DecisionGround:                 sor.GroundIncompatibleContent,
		IncompatibleContentGround:      "Section 4.2 of the Parley Terms of Service",
		IncompatibleContentExplanation: "Scam.",
		ContentType:                    []sor.ContentType{sor.ContentText},
		Category:                       sor.CategoryScamsAndFraud,
		ContentDate:                    "2025-03-01",
		ApplicationDate:                "2025-03-01",
		DecisionFacts:                  "Matched a rule.",
		SourceType:                     sor.SourceVoluntary,
		AutomatedDetection:             sor.Yes,
		AutomatedDecision:              sor.AutomatedFully,
		PUID:                           puid,
	}
}

// call sends body to path with the token and returns the status and the
// decoded JSON answer.
func call(t *testing.T, srv *Server, method, path, tok string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %v", method, path, err)
	}
	return resp.StatusCode, out
}

func batch(statements ...sor.Statement) map[string]any {
	return map[string]any{"statements": statements}
}

func TestServerNeedsTheToken(t *testing.T) {
	srv := Start(t, token)
	for _, tok := range []string{"", "other"} {
		status, body := call(t, srv, "POST", "/api/v1/statements", tok, batch(good("a")))
		if status != 401 || body["message"] != "Unauthenticated." {
			t.Errorf("token %q: %d %v", tok, status, body)
		}
	}
	srv.SetReadOnlyToken("ro")
	if status, body := call(t, srv, "POST", "/api/v1/statements", "ro", batch(good("a"))); status != 403 || body["message"] != "Unauthorized" {
		t.Errorf("read-only token: %d %v", status, body)
	}
	if len(srv.Stored()) != 0 {
		t.Error("stored without a valid token")
	}
}

func TestServerStoresABatch(t *testing.T) {
	srv := Start(t, token)
	status, body := call(t, srv, "POST", "/api/v1/statements", token, batch(good("a"), good("b")))
	if status != 201 {
		t.Fatalf("%d %v", status, body)
	}
	list, _ := body["statements"].([]any)
	if len(list) != 2 {
		t.Fatalf("answer %v", body)
	}
	first, _ := list[0].(map[string]any)
	for _, key := range []string{"uuid", "id", "created_at", "platform_name", "permalink", "self"} {
		if first[key] == nil {
			t.Errorf("stored statement lacks %s: %v", key, first)
		}
	}
	if first["puid"] != "a" || first["decision_facts"] != "Matched a rule." {
		t.Errorf("stored statement %v", first)
	}
	if st, ok := srv.Lookup("b"); !ok || st.Statement.DecisionFacts != "Matched a rule." {
		t.Errorf("lookup b: %v %v", st, ok)
	}
}

// TestServerIsAllOrNothing: one invalid statement refuses the whole call,
// with errors indexed by position, as the real API does.
func TestServerIsAllOrNothing(t *testing.T) {
	srv := Start(t, token)
	bad := good("b")
	bad.Category = "SPAM"
	bad.TerritorialScope = []sor.Country{"EL"}
	status, body := call(t, srv, "POST", "/api/v1/statements", token, batch(good("a"), bad, good("c")))
	if status != 422 {
		t.Fatalf("%d %v", status, body)
	}
	errs, _ := body["errors"].(map[string]any)
	one, _ := errs["statement_1"].(map[string]any)
	if len(errs) != 1 || one["category"] == nil || one["territorial_scope.0"] == nil {
		t.Errorf("errors %v", errs)
	}
	if len(srv.Stored()) != 0 {
		t.Error("a refused call stored statements")
	}
}

func TestServerRefusesRepeatedPUIDs(t *testing.T) {
	srv := Start(t, token)
	status, body := call(t, srv, "POST", "/api/v1/statements", token, batch(good("a"), good("b"), good("a")))
	errs, _ := body["errors"].(map[string]any)
	if status != 422 || fmt.Sprint(errs["existing_puids"]) != "[a]" || errs["puid"] == nil {
		t.Errorf("repeated in the call: %d %v", status, body)
	}
	srv.Preload(good("b"))
	status, body = call(t, srv, "POST", "/api/v1/statements", token, batch(good("a"), good("b")))
	errs, _ = body["errors"].(map[string]any)
	if status != 422 || fmt.Sprint(errs["existing_puids"]) != "[b]" {
		t.Errorf("already stored: %d %v", status, body)
	}
	if got := len(srv.Stored()); got != 1 {
		t.Errorf("%d stored, want only the preloaded one", got)
	}
}

func TestServerBatchSize(t *testing.T) {
	srv := Start(t, token)
	many := make([]sor.Statement, 101)
	for i := range many {
		many[i] = good(fmt.Sprint("p", i))
	}
	for name, body := range map[string]any{
		"none":     batch(),
		"too many": batch(many...),
		"missing":  map[string]any{},
		"not JSON": "{",
	} {
		status, answer := call(t, srv, "POST", "/api/v1/statements", token, body)
		errs, _ := answer["errors"].(map[string]any)
		if status != 422 || errs["statements"] == nil {
			t.Errorf("%s: %d %v", name, status, answer)
		}
	}
	if status, _ := call(t, srv, "POST", "/api/v1/statements", token, batch(many[:100]...)); status != 201 {
		t.Errorf("100 statements: %d", status)
	}
}

func TestServerDecodesStrictly(t *testing.T) {
	srv := Start(t, token)
	status, body := call(t, srv, "POST", "/api/v1/statements", token,
		`{"statements": [{"puid": 42}, {"puid": "x", "url": "https://x.example/"}]}`)
	errs, _ := body["errors"].(map[string]any)
	s0, _ := errs["statement_0"].(map[string]any)
	s1, _ := errs["statement_1"].(map[string]any)
	if status != 422 || s0["puid"] == nil || s1["url"] == nil {
		t.Errorf("%d %v", status, body)
	}
}

func TestServerSingleEndpoint(t *testing.T) {
	srv := Start(t, token)
	if status, body := call(t, srv, "POST", "/api/v1/statement", token, good("one")); status != 201 || body["puid"] != "one" || body["uuid"] == nil {
		t.Fatalf("%d %v", status, body)
	}
	status, body := call(t, srv, "POST", "/api/v1/statement", token, good("one"))
	existing, _ := body["existing"].(map[string]any)
	if status != 422 || existing["puid"] != "one" {
		t.Errorf("duplicate: %d %v", status, body)
	}
	empty := sor.Statement{}
	status, body = call(t, srv, "POST", "/api/v1/statement", token, empty)
	msg, _ := body["message"].(string)
	if status != 422 || !strings.Contains(msg, "more errors)") {
		t.Errorf("empty: %d %v", status, body)
	}
}

func TestServerExistingPUID(t *testing.T) {
	srv := Start(t, token)
	srv.Preload(good("here"))
	if status, body := call(t, srv, "GET", "/api/v1/statement/existing-puid/here", token, nil); status != 302 || body["puid"] != "here" {
		t.Errorf("stored: %d %v", status, body)
	}
	if status, _ := call(t, srv, "GET", "/api/v1/statement/existing-puid/gone", token, nil); status != 404 {
		t.Errorf("unknown: %d", status)
	}
}

func TestServerFaults(t *testing.T) {
	srv := Start(t, token)
	srv.FailNext(Fault{Status: 503, RetryAfter: "7"}, Fault{Status: 500, AfterStore: true})
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/statements", strings.NewReader(`{"statements": []}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("first fault: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if status, _ := call(t, srv, "POST", "/api/v1/statements", token, batch(good("kept"))); status != 500 {
		t.Errorf("second fault: %d", status)
	}
	if _, ok := srv.Lookup("kept"); !ok {
		t.Error("a fault after storing did not store")
	}
	calls := srv.Calls()
	if len(calls) != 2 || calls[1].Status != 500 || !slices.Equal(calls[1].PUIDs, []string{"kept"}) {
		t.Errorf("calls %+v", calls)
	}
}

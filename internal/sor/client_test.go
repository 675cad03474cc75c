package sor_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley"
	"parley/internal/sor"
	"parley/internal/sor/sortest"
)

const token = "test-token-1"

// statements builds n statements of removals, with puids parleyeu-sor-1 to
// parleyeu-sor-n, through Build as the enforcement service will.
func statements(t testing.TB, n int) []sor.Statement {
	t.Helper()
	out := make([]sor.Statement, n)
	for i := range out {
		s, err := sor.Build(sor.Decision{
			Namespace:          "parleyeu",
			ActionID:           int64(i + 1),
			Visibility:         []sor.DecisionVisibility{sor.VisibilityContentRemoved},
			ContentPosted:      time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
			Applied:            time.Date(2025, 3, 1, 10, 0, 1, 0, time.UTC),
			Items:              []sor.ItemKind{sor.ItemText},
			Chat:               parley.ChatChannel,
			Ground:             sor.GroundIncompatibleContent,
			TermsGround:        "Section 4.2 (scams) of the Parley Terms of Service",
			Category:           sor.CategoryScamsAndFraud,
			Source:             sor.SourceVoluntary,
			Signal:             sor.Signal{Kind: sor.SignalTextRule, Name: "crypto-drainer", Version: 3},
			AutomatedDetection: true,
			Automation:         sor.AutomatedFully,
		})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = *s
	}
	return out
}

// setup starts a local database and returns it with a client for it whose
// retries are fast.
func setup(t *testing.T) (*sortest.Server, *sor.Client) {
	t.Helper()
	srv := sortest.Start(t, token)
	return srv, &sor.Client{Endpoint: srv.URL, Token: token, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

func puids(statements []sor.Statement) []string {
	out := make([]string, len(statements))
	for i, s := range statements {
		out[i] = s.PUID
	}
	return out
}

func receiptPUIDs(rs []sor.Receipt) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.PUID
	}
	return out
}

// checkAccounted checks the report's invariant: each puid of each batch is in
// exactly one of its outcomes.
func checkAccounted(t *testing.T, r *sor.Report) {
	t.Helper()
	for i, b := range r.Batches {
		var got []string
		got = append(got, receiptPUIDs(b.Accepted)...)
		got = append(got, b.Existing...)
		for _, rej := range b.Rejected {
			got = append(got, rej.PUID)
		}
		got = append(got, b.Unsent...)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(b.PUIDs))
		if !slices.Equal(got, want) {
			t.Errorf("batch %d: outcomes cover %v, want each of %v once", i, got, want)
		}
	}
}

func TestSubmitStoresEveryStatementInBatches(t *testing.T) {
	srv, c := setup(t)
	all := statements(t, 250)
	report, err := c.Submit(context.Background(), all)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, report)
	if len(report.Batches) != 3 || len(report.Batches[0].PUIDs) != 100 || len(report.Batches[2].PUIDs) != 50 {
		t.Fatalf("batches %v", report.Batches)
	}
	accepted := report.Accepted()
	if !slices.Equal(receiptPUIDs(accepted), puids(all)) {
		t.Errorf("accepted %d statements, want all 250 in order", len(accepted))
	}
	for _, r := range accepted {
		stored, ok := srv.Lookup(r.PUID)
		if !ok || r.UUID != stored.UUID || r.ID == "" {
			t.Fatalf("receipt %+v does not match the stored statement %+v", r, stored)
		}
	}
	calls := srv.Calls()
	if len(calls) != 3 || len(calls[0].PUIDs) != 100 || len(calls[1].PUIDs) != 100 || len(calls[2].PUIDs) != 50 {
		t.Errorf("calls %+v", calls)
	}
	if got := srv.Stored(); len(got) != 250 || got[0].Statement.DecisionFacts != all[0].DecisionFacts {
		t.Errorf("%d stored", len(got))
	}
}

func TestSubmitChecksEverythingBeforeSending(t *testing.T) {
	srv, c := setup(t)
	all := statements(t, 3)
	all[1].DecisionFacts += " Reported by jane@example.org."
	all[2].PUID = all[0].PUID
	report, err := c.Submit(context.Background(), all)
	var problems sor.Problems
	if report != nil || !errors.As(err, &problems) {
		t.Fatalf("report %v, err %v", report, err)
	}
	if !slices.Equal(problems.Fields(), []string{"statements.1.decision_facts", "statements.2.puid"}) {
		t.Errorf("fields %v", problems.Fields())
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d calls made for a submission that failed its checks", n)
	}
}

// TestSubmitReportsStoredPUIDsAndSendsTheRest: the database refuses a whole
// call when some puids are already stored; the client reports those as
// Existing and sends the others again, so none is lost or doubled.
func TestSubmitReportsStoredPUIDsAndSendsTheRest(t *testing.T) {
	srv, c := setup(t)
	all := statements(t, 10)
	srv.Preload(all[2], all[5], all[9])
	report, err := c.Submit(context.Background(), all)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, report)
	b := report.Batches[0]
	if !slices.Equal(b.Existing, []string{all[2].PUID, all[5].PUID, all[9].PUID}) || len(b.Accepted) != 7 || b.Attempts != 2 {
		t.Errorf("existing %v, %d accepted, %d attempts", b.Existing, len(b.Accepted), b.Attempts)
	}
	if calls := srv.Calls(); len(calls) != 2 || calls[0].Status != 422 || calls[1].Status != 201 || len(calls[1].PUIDs) != 7 {
		t.Errorf("calls %+v", calls)
	}
	if n := len(srv.Stored()); n != 10 {
		t.Errorf("%d stored, want 10", n)
	}
}

// TestSubmitAfterLostAnswerDoesNotFileTwice: the database stores a batch but
// its answer is lost (a 502 from a proxy). The retry is refused for every
// puid, and the client reports them all as Existing: stored once, no error.
func TestSubmitAfterLostAnswerDoesNotFileTwice(t *testing.T) {
	srv, c := setup(t)
	all := statements(t, 5)
	srv.FailNext(sortest.Fault{Status: http.StatusBadGateway, AfterStore: true})
	report, err := c.Submit(context.Background(), all)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, report)
	if got := report.Existing(); !slices.Equal(got, puids(all)) || len(report.Accepted()) != 0 {
		t.Errorf("existing %v accepted %v", got, report.Accepted())
	}
	if n := len(srv.Stored()); n != 5 {
		t.Errorf("%d stored, want 5", n)
	}
	if calls := srv.Calls(); len(calls) != 2 || calls[0].Status != 502 || calls[1].Status != 422 {
		t.Errorf("calls %+v", calls)
	}
}

func TestSubmitRetriesServerErrors(t *testing.T) {
	srv, c := setup(t)
	srv.FailNext(sortest.Fault{Status: 503}, sortest.Fault{Status: 500})
	report, err := c.Submit(context.Background(), statements(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	if b := report.Batches[0]; b.Attempts != 3 || len(b.Accepted) != 2 {
		t.Errorf("%d attempts, %d accepted", b.Attempts, len(b.Accepted))
	}
}

func TestSubmitHonoursRetryAfter(t *testing.T) {
	srv, c := setup(t)
	srv.FailNext(sortest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"})
	start := time.Now()
	report, err := c.Submit(context.Background(), statements(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("retried after %v, before the second the database asked for", elapsed)
	}
	if len(report.Accepted()) != 1 {
		t.Errorf("accepted %v", report.Accepted())
	}
}

// TestSubmitStopsWhenAskedToWaitTooLong: a Retry-After longer than the
// client's limit stops the submission at once, every statement Unsent.
func TestSubmitStopsWhenAskedToWaitTooLong(t *testing.T) {
	srv, c := setup(t)
	c.MaxRetryAfter = time.Minute
	srv.FailNext(sortest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "3600"})
	all := statements(t, 150)
	report, err := c.Submit(context.Background(), all)
	if parley.ErrorCode(err) != parley.ERateLimited || !strings.Contains(err.Error(), "1h0m0s") {
		t.Fatalf("err %v", err)
	}
	checkAccounted(t, report)
	if got := report.Unsent(); len(got) != 150 || len(srv.Calls()) != 1 {
		t.Errorf("%d unsent, %d calls", len(got), len(srv.Calls()))
	}
	if report.Batches[1].Err != err {
		t.Errorf("the batch never sent does not carry the error")
	}
}

func TestSubmitGivesUpAfterMaxAttempts(t *testing.T) {
	srv, c := setup(t)
	c.MaxAttempts = 3
	srv.FailNext(sortest.Fault{Status: 503}, sortest.Fault{Status: 503}, sortest.Fault{Status: 503}, sortest.Fault{Status: 503})
	report, err := c.Submit(context.Background(), statements(t, 4))
	if parley.ErrorCode(err) != parley.EUnavailable || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("err %v", err)
	}
	if len(srv.Calls()) != 3 || len(report.Unsent()) != 4 {
		t.Errorf("%d calls, %d unsent", len(srv.Calls()), len(report.Unsent()))
	}
}

func TestSubmitStopsOnARefusedToken(t *testing.T) {
	srv, c := setup(t)
	c.Token = "wrong"
	report, err := c.Submit(context.Background(), statements(t, 150))
	if parley.ErrorCode(err) != parley.EUnauthorized {
		t.Fatalf("err %v", err)
	}
	checkAccounted(t, report)
	if len(srv.Calls()) != 1 || len(report.Unsent()) != 150 || len(srv.Stored()) != 0 {
		t.Errorf("%d calls, %d unsent", len(srv.Calls()), len(report.Unsent()))
	}

	srv.SetReadOnlyToken("read-only")
	c.Token = "read-only"
	if _, err := c.Submit(context.Background(), statements(t, 1)); parley.ErrorCode(err) != parley.EForbidden {
		t.Errorf("read-only token: %v", err)
	}
}

// TestSubmitSendsAgainWithoutRejected: the database refuses a statement
// that passed the local checks (its rules moved on); that one is Rejected
// with the database's message and the rest of the batch is stored.
func TestSubmitSendsAgainWithoutRejected(t *testing.T) {
	srv, c := setup(t)
	all := statements(t, 4)
	srv.Reject = func(i int, s *sor.Statement) map[string][]string {
		if s.PUID == all[1].PUID {
			return map[string][]string{"territorial_scope": {"The territorial scope field is required."}}
		}
		return nil
	}
	report, err := c.Submit(context.Background(), all)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, report)
	rejected := report.Rejected()
	if len(rejected) != 1 || rejected[0].PUID != all[1].PUID ||
		!slices.Equal(rejected[0].Problems["territorial_scope"], []string{"The territorial scope field is required."}) {
		t.Errorf("rejected %+v", rejected)
	}
	if len(report.Accepted()) != 3 || len(srv.Stored()) != 3 {
		t.Errorf("%d accepted, %d stored", len(report.Accepted()), len(srv.Stored()))
	}
}

func TestSubmitStopsWhenCancelled(t *testing.T) {
	srv, c := setup(t)
	c.MinBackoff, c.MaxBackoff = time.Minute, time.Minute
	srv.FailNext(sortest.Fault{Status: 503})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	report, err := c.Submit(ctx, statements(t, 120))
	if !errors.Is(err, context.Canceled) || time.Since(start) > 10*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	checkAccounted(t, report)
	if len(report.Unsent()) != 120 {
		t.Errorf("%d unsent", len(report.Unsent()))
	}
}

func TestSubmitSpacesRequests(t *testing.T) {
	_, c := setup(t)
	c.MinInterval = 60 * time.Millisecond
	start := time.Now()
	if _, err := c.Submit(context.Background(), statements(t, 250)); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 120*time.Millisecond {
		t.Errorf("3 requests in %v, want at least 120ms with 60ms between starts", elapsed)
	}
}

// TestSubmitBoundsAnswers: a 201 too large to read still means stored; the
// client reads at most MaxResponseBytes of it.
func TestSubmitBoundsAnswers(t *testing.T) {
	var sent atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		chunk := []byte(`{"statements": [` + strings.Repeat(" ", 64<<10))
		for i := 0; i < 400; i++ { // 25 MiB
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
			chunk = []byte(strings.Repeat(" ", 64<<10))
		}
	}))
	defer ts.Close()
	c := &sor.Client{Endpoint: ts.URL, Token: token}
	report, err := c.Submit(context.Background(), statements(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	if got := report.Accepted(); len(got) != 2 || got[0].UUID != "" {
		t.Errorf("accepted %+v", got)
	}
}

// TestSubmitDoesNotFollowRedirects: a redirect is an answer, and the token
// is never sent to where it points.
func TestSubmitDoesNotFollowRedirects(t *testing.T) {
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
	}))
	defer elsewhere.Close()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/api/v1/statements", http.StatusTemporaryRedirect)
	}))
	defer ts.Close()
	c := &sor.Client{Endpoint: ts.URL, Token: token}
	_, err := c.Submit(context.Background(), statements(t, 1))
	if parley.ErrorCode(err) != parley.EInternal || !strings.Contains(err.Error(), "answered 307") || leaked.Load() {
		t.Errorf("err %v, token leaked %v", err, leaked.Load())
	}
}

func TestSubmitRetriesWhenUnreachable(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close() // nothing listens there any more
	c := &sor.Client{Endpoint: url, Token: token, MaxAttempts: 2, MinBackoff: time.Millisecond}
	report, err := c.Submit(context.Background(), statements(t, 1))
	if parley.ErrorCode(err) != parley.EUnavailable || report.Batches[0].Attempts != 2 {
		t.Errorf("err %v", err)
	}
}

func TestClientSettings(t *testing.T) {
	for _, tt := range []struct {
		endpoint, token, field string
	}{
		{"http://transparency.example", token, "endpoint"}, // the token would cross the network in the clear
		{"https://transparency.example/api/v1", token, "endpoint"},
		{"transparency.example", token, "endpoint"},
		{"https://transparency.example?x=1", token, "endpoint"},
		{"https://transparency.example", "", "token"},
		{"https://transparency.example", "two words", "token"},
	} {
		c := &sor.Client{Endpoint: tt.endpoint, Token: tt.token}
		if _, err := c.Submit(context.Background(), nil); parley.ErrorField(err) != tt.field {
			t.Errorf("%q %q: %v, want a problem with %s", tt.endpoint, tt.token, err, tt.field)
		}
	}
}

func TestExists(t *testing.T) {
	srv, c := setup(t)
	all := statements(t, 2)
	srv.Preload(all[0])
	if ok, err := c.Exists(context.Background(), all[0].PUID); !ok || err != nil {
		t.Errorf("stored puid: %v, %v", ok, err)
	}
	if ok, err := c.Exists(context.Background(), all[1].PUID); ok || err != nil {
		t.Errorf("unknown puid: %v, %v", ok, err)
	}
	if _, err := c.Exists(context.Background(), "not a puid"); parley.ErrorField(err) != "puid" {
		t.Errorf("bad puid: %v", err)
	}
	c.Token = "wrong"
	if _, err := c.Exists(context.Background(), all[0].PUID); parley.ErrorCode(err) != parley.EUnauthorized {
		t.Errorf("wrong token: %v", err)
	}
}

var sorCheck = sor.CheckSubmission

// TestSubmitConcurrently: one Client shared by several exporters spaces all
// their requests and loses nothing.
func TestSubmitConcurrently(t *testing.T) {
	srv, c := setup(t)
	c.MinInterval = 10 * time.Millisecond
	all := statements(t, 40)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func(part []sor.Statement) {
			_, err := c.Submit(context.Background(), part)
			errs <- err
		}(all[i*10 : (i+1)*10])
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(srv.Stored()); n != 40 {
		t.Errorf("%d stored, want 40", n)
	}
}

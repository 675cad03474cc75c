package sor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"parley"
)

// The Transparency Database's hosts. Production takes the platform's real
// statements; the sandbox is for testing a submission before onboarding.
const (
	ProductionEndpoint = "https://transparency.dsa.ec.europa.eu"
	SandboxEndpoint    = "https://sandbox.sor.dsa.ec.europa.eu"
)

// MaxResponseBytes bounds how much of an answer the client reads. The largest
// legitimate answer echoes 100 statements of at most about 40 KB each.
const MaxResponseBytes = 8 << 20

// Defaults of the Client's retry settings.
const (
	DefaultMaxAttempts   = 5
	DefaultMinBackoff    = time.Second
	DefaultMaxBackoff    = time.Minute
	DefaultMaxRetryAfter = 5 * time.Minute
)

// defaultHTTPClient bounds each request in time when the caller gives no
// client: a hung connection must not hold up the export forever.
var defaultHTTPClient = &http.Client{Timeout: 2 * time.Minute}

// Client submits statements to the Transparency Database's API. The zero
// retry settings mean the defaults. A Client is safe for concurrent use; its
// MinInterval then spaces the requests of all its callers.
//
// What it does with each answer (see response.go for the answers):
//
//   - 201: the batch is stored. It is never sent again.
//   - 422 naming puids the database already holds: those statements are
//     reported as Existing (stored by an earlier call, typically one whose
//     answer was lost) and the rest of the batch is sent again without them,
//     since the database stored none of the call.
//   - 422 naming invalid statements: they are reported as Rejected with the
//     database's messages and the rest is sent again. Statements are checked
//     locally first, so this means the database's rules have moved on.
//   - 422 about the call as a whole: the remaining statements are Rejected.
//   - 401, 403: nothing more is sent; the token must be fixed.
//   - 429 and 5xx (and network errors): sent again after a backoff that
//     doubles from MinBackoff to MaxBackoff with jitter, or after the
//     Retry-After the database asks for, whichever is longer, up to
//     MaxAttempts times. A Retry-After longer than MaxRetryAfter stops the
//     submission rather than hammering a database that asked for a pause.
//     Sending again after an answer that was lost is safe: the database
//     refuses puids it already holds, and those come back as Existing.
//   - any other status: nothing more is sent.
type Client struct {
	// Endpoint is the base URL of the database, such as ProductionEndpoint,
	// without /api/v1. It must be https, except on a loopback address.
	Endpoint string
	// Token is the API token of the platform's account.
	Token string
	// HTTPClient sends the requests; nil means a client with a two-minute
	// timeout. Redirects are never followed, so the token never goes to
	// another address.
	HTTPClient *http.Client

	MaxAttempts   int           // requests per batch that may fail before giving up
	MinBackoff    time.Duration // first wait after a failure
	MaxBackoff    time.Duration // longest wait between attempts
	MaxRetryAfter time.Duration // longest Retry-After honoured
	// MinInterval, when positive, is the least time between the starts of
	// two requests, to stay under the database's rate limit.
	MinInterval time.Duration

	mu       sync.Mutex
	nextSend time.Time // when the next request may start (MinInterval)
}

// Receipt is a statement the database stored in this submission. UUID and ID
// are the database's identifiers of it, empty if the answer did not give
// them (a 201 is what counts).
type Receipt struct {
	PUID string `json:"puid"`
	UUID string `json:"uuid,omitempty"`
	ID   string `json:"id,omitempty"`
}

// Rejection is a statement the database refused, with its messages by field
// (the database's own field names, "statements" or "puid" for a problem of
// the whole call).
type Rejection struct {
	PUID     string              `json:"puid"`
	Problems map[string][]string `json:"problems"`
}

// BatchReport says what became of one batch. Each puid of the batch is in
// exactly one of Accepted, Existing, Rejected and Unsent.
type BatchReport struct {
	PUIDs    []string    `json:"puids"`              // the batch, in order
	Accepted []Receipt   `json:"accepted,omitempty"` // stored now
	Existing []string    `json:"existing,omitempty"` // stored before, not created again
	Rejected []Rejection `json:"rejected,omitempty"` // refused; fix and submit again
	Unsent   []string    `json:"unsent,omitempty"`   // not stored as far as we know; submit again later
	Attempts int         `json:"attempts"`           // HTTP requests made for the batch
	Err      error       `json:"-"`                  // why some are Unsent
}

// Report is the outcome of one Submit, batch by batch.
type Report struct {
	Batches []BatchReport `json:"batches"`
}

// Accepted returns the receipts of every statement stored by this submission.
func (r *Report) Accepted() []Receipt {
	var out []Receipt
	for _, b := range r.Batches {
		out = append(out, b.Accepted...)
	}
	return out
}

// Existing returns the puids the database already held.
func (r *Report) Existing() []string {
	var out []string
	for _, b := range r.Batches {
		out = append(out, b.Existing...)
	}
	return out
}

// Rejected returns the statements the database refused.
func (r *Report) Rejected() []Rejection {
	var out []Rejection
	for _, b := range r.Batches {
		out = append(out, b.Rejected...)
	}
	return out
}

// Unsent returns the puids to submit again later.
func (r *Report) Unsent() []string {
	var out []string
	for _, b := range r.Batches {
		out = append(out, b.Unsent...)
	}
	return out
}

// Submit checks every statement (CheckSubmission: the database's rules, no
// personal data, no puid twice) and, only if all pass, sends them in batches
// of at most MaxBatchSize, one batch at a time, in order. A check failure
// returns Problems and sends nothing.
//
// Otherwise the Report says what became of each statement, and the error is
// nil unless the submission stopped early: the context ended (ctx.Err()), the
// token was refused (EUnauthorized or EForbidden), the database stayed
// unavailable or rate-limited past the retries (EUnavailable, ERateLimited),
// or answered in a way that makes sending more pointless (EInternal). The
// batches after the one that stopped are reported as Unsent with the same
// error. Rejected statements do not stop the submission.
func (c *Client) Submit(ctx context.Context, statements []Statement) (*Report, error) {
	base, err := c.baseURL()
	if err != nil {
		return nil, err
	}
	if err := CheckSubmission(statements); err != nil {
		return nil, err
	}
	report := &Report{}
	batches := Batches(statements)
	for i, batch := range batches {
		br, stop := c.submitBatch(ctx, base, batch)
		report.Batches = append(report.Batches, br)
		if stop != nil {
			for _, rest := range batches[i+1:] {
				puids := puidsOf(rest)
				report.Batches = append(report.Batches, BatchReport{PUIDs: puids, Unsent: slices.Clone(puids), Err: stop})
			}
			return report, stop
		}
	}
	return report, nil
}

// submitBatch sends one batch until every statement of it is accounted for,
// or returns the error that stops the submission.
func (c *Client) submitBatch(ctx context.Context, base string, batch []Statement) (BatchReport, error) {
	br := BatchReport{PUIDs: puidsOf(batch)}
	pending := batch
	failures := 0
	var lastErr error
	giveUp := func(err error) (BatchReport, error) {
		br.Unsent = append(br.Unsent, puidsOf(pending)...)
		br.Err = err
		return br, err
	}
	for len(pending) > 0 {
		if failures >= c.maxAttempts() {
			return giveUp(lastErr)
		}
		if err := c.waitTurn(ctx); err != nil {
			return giveUp(err)
		}
		br.Attempts++
		a, err := c.post(ctx, base+"/api/v1/statements", pending)
		if err != nil {
			if ctx.Err() != nil {
				return giveUp(ctx.Err())
			}
			failures++
			lastErr = parley.Errorf(parley.EUnavailable, "the Transparency Database could not be reached after %d attempts: %v", failures, err)
			if failures < c.maxAttempts() {
				if err := sleep(ctx, c.backoff(failures)); err != nil {
					return giveUp(err)
				}
			}
			continue
		}
		switch a.kind {
		case answerCreated:
			for _, s := range pending {
				r, ok := a.receipts[s.PUID]
				if !ok {
					r = Receipt{PUID: s.PUID}
				}
				br.Accepted = append(br.Accepted, r)
			}
			pending = nil

		case answerRefused:
			pending = br.settleRefusal(a, pending)

		case answerUnauthorized:
			return giveUp(parley.Errorf(parley.EUnauthorized, "the Transparency Database refused the API token (401): check it, or generate a new one"))
		case answerForbidden:
			return giveUp(parley.Errorf(parley.EForbidden, "the Transparency Database does not let this token create statements (403)%s", quoted(a.message)))

		case answerRateLimited, answerUnavailable:
			failures++
			code, what := parley.EUnavailable, fmt.Sprintf("unavailable (%d)", a.status)
			if a.kind == answerRateLimited {
				code, what = parley.ERateLimited, "rate-limiting the platform (429)"
			}
			lastErr = parley.Errorf(code, "the Transparency Database kept %s after %d attempts%s", what, failures, quoted(a.message))
			wait := c.backoff(failures)
			if a.hasRetryAfter {
				if a.retryAfter > c.maxRetryAfter() {
					return giveUp(parley.Errorf(code, "the Transparency Database is %s and asks to wait %s, longer than the %s this client waits; submit again later",
						what, a.retryAfter, c.maxRetryAfter()))
				}
				wait = max(wait, a.retryAfter)
			}
			if failures < c.maxAttempts() {
				if err := sleep(ctx, wait); err != nil {
					return giveUp(err)
				}
			}

		default:
			return giveUp(parley.Errorf(parley.EInternal, "the Transparency Database answered %d, which this client does not retry%s", a.status, quoted(a.message)))
		}
	}
	return br, nil
}

// settleRefusal records what a 422 says about the pending statements and
// returns those to send again: the ones neither already stored nor invalid.
// When the answer names none of them, it concerns the call as a whole and
// every pending statement is rejected with it, so the loop always ends.
func (br *BatchReport) settleRefusal(a answer, pending []Statement) []Statement {
	existing := setOf(a.existing...)
	var again []Statement
	named := false
	for i, s := range pending {
		switch {
		case existing[s.PUID]:
			br.Existing = append(br.Existing, s.PUID)
			named = true
		case a.invalid[i] != nil:
			br.Rejected = append(br.Rejected, Rejection{PUID: s.PUID, Problems: a.invalid[i]})
			named = true
		default:
			again = append(again, s)
		}
	}
	if named {
		return again
	}
	problems := a.general
	if len(problems) == 0 {
		msg := a.message
		if msg == "" {
			msg = "the Transparency Database refused the call (422) without saying why"
		}
		problems = map[string][]string{"statements": {msg}}
	}
	for _, s := range again {
		br.Rejected = append(br.Rejected, Rejection{PUID: s.PUID, Problems: problems})
	}
	return nil
}

// post sends statements to u and reads the answer, bounded.
func (c *Client) post(ctx context.Context, u string, statements []Statement) (answer, error) {
	body, err := json.Marshal(struct {
		Statements []Statement `json:"statements"`
	}{statements})
	if err != nil {
		return answer{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	c.setHeaders(req)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.noRedirects().Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil && resp.StatusCode != http.StatusCreated {
		return answer{}, err // a cut-off error answer is retried like a lost one
	}
	if len(data) > MaxResponseBytes {
		data = nil // too large to trust; the status alone decides
	}
	return parseAnswer(resp.StatusCode, resp.Header, data, len(statements), time.Now()), nil
}

// Exists asks the database whether it holds a statement with puid for the
// platform (GET /api/v1/statement/existing-puid/{puid}: 302 yes, 404 no). The
// database documents that a statement may take up to a day to show there;
// Submit does not rely on it, since a POST refuses a stored puid at once.
func (c *Client) Exists(ctx context.Context, puid string) (bool, error) {
	base, err := c.baseURL()
	if err != nil {
		return false, err
	}
	var check checker
	checkPUID(&check, "puid", puid)
	if err := check.result().err(); err != nil {
		return false, err
	}
	if err := c.waitTurn(ctx); err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/statement/existing-puid/"+puid, nil)
	if err != nil {
		return false, err
	}
	c.setHeaders(req)
	resp, err := c.noRedirects().Do(req)
	if err != nil {
		return false, parley.Errorf(parley.EUnavailable, "the Transparency Database could not be reached: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch resp.StatusCode {
	case http.StatusFound, http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	case http.StatusUnauthorized:
		return false, parley.Errorf(parley.EUnauthorized, "the Transparency Database refused the API token (401)")
	case http.StatusForbidden:
		return false, parley.Errorf(parley.EForbidden, "the Transparency Database does not let this token read statements (403)")
	case http.StatusTooManyRequests:
		return false, parley.Errorf(parley.ERateLimited, "the Transparency Database is rate-limiting the platform (429)")
	}
	return false, parley.Errorf(parley.EUnavailable, "the Transparency Database answered %d", resp.StatusCode)
}

func (c *Client) setHeaders(req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "parley-sor/1")
}

// baseURL checks the Client's settings and returns the endpoint without a
// trailing slash. The token goes in a header of every request, so plain http
// is refused except to this machine.
func (c *Client) baseURL() (string, error) {
	if c.Token == "" || strings.ContainsAny(c.Token, "\r\n \t") {
		return "", parley.FieldError("token", "the API token is missing or has spaces or line breaks")
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", parley.FieldError("endpoint", "the endpoint must be a URL such as %s", ProductionEndpoint)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", parley.FieldError("endpoint", "the endpoint must use https: the API token must not cross the network in the clear")
		}
	default:
		return "", parley.FieldError("endpoint", "the endpoint must be an https URL such as %s", ProductionEndpoint)
	}
	if strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/api/v1") {
		return "", parley.FieldError("endpoint", "the endpoint is the database's base URL, without /api/v1")
	}
	return strings.TrimRight(c.Endpoint, "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// noRedirects returns the HTTP client to use, with redirects turned off: a
// redirect is answered as what it is, never followed with the token.
func (c *Client) noRedirects() *http.Client {
	hc := defaultHTTPClient
	if c.HTTPClient != nil {
		hc = c.HTTPClient
	}
	copied := *hc
	copied.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &copied
}

// waitTurn waits until MinInterval has passed since the previous request's
// start, reserving the next slot first so that concurrent callers queue.
func (c *Client) waitTurn(ctx context.Context) error {
	if c.MinInterval <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	now := time.Now()
	at := c.nextSend
	if at.Before(now) {
		at = now
	}
	c.nextSend = at.Add(c.MinInterval)
	c.mu.Unlock()
	return sleep(ctx, at.Sub(now))
}

// backoff is the wait after the n-th failure: MinBackoff doubled n-1 times,
// at most MaxBackoff, with its upper half random so that many clients do not
// come back at the same instant.
func (c *Client) backoff(n int) time.Duration {
	lo, hi := c.MinBackoff, c.MaxBackoff
	if lo <= 0 {
		lo = DefaultMinBackoff
	}
	if hi <= 0 {
		hi = DefaultMaxBackoff
	}
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	half := d / 2
	return half + rand.N(half+1)
}

func (c *Client) maxAttempts() int {
	if c.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return c.MaxAttempts
}

func (c *Client) maxRetryAfter() time.Duration {
	if c.MaxRetryAfter <= 0 {
		return DefaultMaxRetryAfter
	}
	return c.MaxRetryAfter
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func puidsOf(statements []Statement) []string {
	puids := make([]string, len(statements))
	for i := range statements {
		puids[i] = statements[i].PUID
	}
	return puids
}

// quoted adds the database's message to an error, when it gave one.
func quoted(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + fmt.Sprintf("%q", msg)
}

package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"parley"
)

// Client calls Parley's JSON API over a keep-alive HTTP client.
type Client struct {
	Base string
	HTTP *http.Client
}

// NewClient returns a client for the server at base whose transport keeps
// up to conns idle connections, so that conns concurrent callers each keep
// their own connection instead of opening a new one per request.
func NewClient(base string, conns int) *Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Client{Base: strings.TrimSuffix(base, "/"), HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// APIError is an answer other than the one expected.
type APIError struct {
	Status int
	Body   string
}

func (e *APIError) Error() string { return fmt.Sprintf("status %d: %s", e.Status, e.Body) }

// Do sends a request with an optional bearer token and JSON body, and decodes
// a 2xx JSON answer into out (when not nil). It returns the status; a
// non-2xx status is returned with an *APIError holding the body. A transport
// error (the server is gone) has status 0.
func (c *Client) Do(ctx context.Context, method, path, token string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		// The answer was cut off: the caller has not been told the outcome.
		return 0, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, &APIError{Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// Upload sends body (of size bytes) to path with POST, as text/csv, with
// no time limit but ctx's: a bank import of a million lines takes minutes.
func (c *Client) Upload(ctx context.Context, path, token string, body io.Reader, size int64) error {
	req, err := http.NewRequestWithContext(ctx, "POST", c.Base+path, body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Transport: c.HTTP.Transport}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("POST %s: reading the answer: %w", path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &APIError{Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	return nil
}

// Session is a signed-up account and its bearer token.
type Session struct {
	User  parley.User `json:"user"`
	Token string      `json:"token"`
}

// SignUp creates an account through the API.
func (c *Client) SignUp(ctx context.Context, username, password string) (*Session, error) {
	var s Session
	in := map[string]string{"username": username, "password": password}
	if _, err := c.Do(ctx, "POST", "/api/v1/auth/signup", "", in, &s); err != nil {
		return nil, fmt.Errorf("sign up %s: %w", username, err)
	}
	return &s, nil
}

// CreateChat creates a chat owned by the token's account. in is the body of
// POST /api/v1/chats, e.g. {"kind": "group", "title": "..."}.
func (c *Client) CreateChat(ctx context.Context, token string, in map[string]any) (*parley.Chat, error) {
	var chat parley.Chat
	if _, err := c.Do(ctx, "POST", "/api/v1/chats", token, in, &chat); err != nil {
		return nil, fmt.Errorf("create chat: %w", err)
	}
	return &chat, nil
}

// JoinGroup makes an invite link to a group with the owner's token and uses
// it with each of the member tokens.
func (c *Client) JoinGroup(ctx context.Context, ownerToken string, chatID int64, memberTokens ...string) error {
	var inv parley.Invite
	if _, err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/chats/%d/invites", chatID), ownerToken,
		map[string]int{"expires_in_seconds": 0}, &inv); err != nil {
		return fmt.Errorf("create invite: %w", err)
	}
	for _, tok := range memberTokens {
		if _, err := c.Do(ctx, "POST", "/api/v1/invites/"+inv.Token+"/join", tok, nil, nil); err != nil {
			return fmt.Errorf("join by invite: %w", err)
		}
	}
	return nil
}

// Post posts a text message and returns the message as acknowledged (201).
func (c *Client) Post(ctx context.Context, token string, chatID int64, text string) (*parley.Message, error) {
	var m parley.Message
	status, err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", chatID), token, map[string]string{"text": text}, &m)
	if err != nil {
		return nil, err
	}
	if status != http.StatusCreated {
		return nil, &APIError{Status: status, Body: "expected 201 Created"}
	}
	return &m, nil
}

// Updates returns every update of a chat after afterPts, paging through
// GET /api/v1/chats/{id}/updates.
func (c *Client) Updates(ctx context.Context, token string, chatID, afterPts int64) ([]*parley.Update, error) {
	var all []*parley.Update
	for {
		var page struct {
			Updates []*parley.Update `json:"updates"`
		}
		path := fmt.Sprintf("/api/v1/chats/%d/updates?after_pts=%d&limit=%d", chatID, afterPts, parley.MaxPageSize)
		if _, err := c.Do(ctx, "GET", path, token, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Updates...)
		if len(page.Updates) < parley.MaxPageSize {
			return all, nil
		}
		afterPts = page.Updates[len(page.Updates)-1].Pts
	}
}

// History returns every message of a chat, newest first, paging through
// GET /api/v1/chats/{id}/messages.
func (c *Client) History(ctx context.Context, token string, chatID int64) ([]*parley.Message, error) {
	var all []*parley.Message
	before := int64(0)
	for {
		var page struct {
			Messages []*parley.Message `json:"messages"`
		}
		path := fmt.Sprintf("/api/v1/chats/%d/messages?before=%d&limit=%d", chatID, before, parley.MaxPageSize)
		if _, err := c.Do(ctx, "GET", path, token, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Messages...)
		if len(page.Messages) < parley.MaxPageSize {
			return all, nil
		}
		before = page.Messages[len(page.Messages)-1].Seq
		if before <= 1 {
			return all, nil
		}
	}
}

// Metric returns the value of an unlabelled metric from GET /metrics.
func (c *Client) Metric(ctx context.Context, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.Base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(rest), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("metric %s not found", name)
}

// WaitMetric polls GET /metrics until the metric has value want or ctx
// ends, and returns the last value read.
func (c *Client) WaitMetric(ctx context.Context, name string, want float64) (float64, error) {
	for {
		v, err := c.Metric(ctx, name)
		if err == nil && v == want {
			return v, nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return v, fmt.Errorf("%s: %w (last error: %v)", name, ctx.Err(), err)
			}
			return v, fmt.Errorf("%s is %v, not %v: %w", name, v, want, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

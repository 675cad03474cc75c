package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// Poster posts messages over one keep-alive HTTP/1.1 connection with as
// little client work as it can: the request is written by hand into a
// reused buffer and only the status line, Content-Length and body of the
// answer are read. The load generator runs on the same two cores as the
// server, so every microsecond net/http's client spends per request (about
// 85 µs here, with its two goroutines per connection) is taken from the
// server being measured; this client spends a fraction of that. It is not
// safe for concurrent use: give each worker its own.
type Poster struct {
	host string // host:port, dialled and sent as Host
	conn net.Conn
	br   *bufio.Reader
	req  bytes.Buffer
	body []byte
}

// NewPoster returns a Poster for the server at base (http://host:port); it
// connects on first use.
func NewPoster(base string) (*Poster, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("poster: %s: only http is supported", base)
	}
	return &Poster{host: u.Host}, nil
}

// Close closes the connection.
func (p *Poster) Close() error {
	if p.conn == nil {
		return nil
	}
	err := p.conn.Close()
	p.conn = nil
	return err
}

// Post sends POST /api/v1/chats/{chatID}/messages with the text and waits
// for the answer. Any status but 201 is an *APIError; a broken connection,
// or one the server said it closes, is closed and redialled on the next call.
func (p *Poster) Post(ctx context.Context, token string, chatID int64, text string) error {
	if p.conn == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", p.host)
		if err != nil {
			return err
		}
		p.conn, p.br = c, bufio.NewReaderSize(c, 4096)
	}
	if dl, ok := ctx.Deadline(); ok {
		p.conn.SetDeadline(dl)
	} else {
		p.conn.SetDeadline(time.Now().Add(30 * time.Second))
	}
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return err
	}
	b := &p.req
	b.Reset()
	b.WriteString("POST /api/v1/chats/")
	b.WriteString(strconv.FormatInt(chatID, 10))
	b.WriteString("/messages HTTP/1.1\r\nHost: ")
	b.WriteString(p.host)
	b.WriteString("\r\nAuthorization: Bearer ")
	b.WriteString(token)
	b.WriteString("\r\nContent-Type: application/json\r\nContent-Length: ")
	b.WriteString(strconv.Itoa(len(body)))
	b.WriteString("\r\n\r\n")
	b.Write(body)
	if _, err := p.conn.Write(b.Bytes()); err != nil {
		p.Close()
		return err
	}
	status, closing, err := p.readResponse()
	if err != nil {
		p.Close()
		return fmt.Errorf("poster: reading the answer: %w", err)
	}
	if closing {
		p.Close()
	}
	if status != 201 {
		return &APIError{Status: status, Body: string(bytes.TrimSpace(p.body))}
	}
	return nil
}

// readResponse reads one HTTP/1.1 response with a Content-Length and
// returns its status and whether the server closes the connection after
// it (Connection: close); the body is left in p.body.
func (p *Poster) readResponse() (status int, closing bool, err error) {
	line, err := p.br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 201 Created\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	length := -1
	for {
		line, err := p.br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("malformed header %q", line)
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil || length < 0 {
				return 0, false, fmt.Errorf("malformed Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(bytes.TrimSpace(value), []byte("close"))
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, errors.New("chunked answers are not supported")
		}
	}
	if length < 0 {
		return 0, false, errors.New("answer without Content-Length")
	}
	if cap(p.body) < length {
		p.body = make([]byte, length)
	}
	p.body = p.body[:length]
	if _, err := io.ReadFull(p.br, p.body); err != nil {
		return 0, false, err
	}
	return status, closing, nil
}

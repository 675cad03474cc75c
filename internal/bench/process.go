// Package bench holds Parley's benchmarks (ingest, live fan-out, resume
// storm) and the helpers they share with the end-to-end crash test of
// cmd/parley: building the real binary, running it as a child process on a
// free loopback port, and talking to its JSON API.
//
// The benchmarks are tests that skip unless PARLEY_BENCH is set, so that a
// plain `go test ./...` stays fast; docs/benchmarks.md gives the commands and
// the numbers they produced.
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BuildParley compiles cmd/parley into a temporary directory of t and
// returns the binary's path. The go command's build cache makes this a few
// seconds once the packages have been compiled for the test itself.
func BuildParley(t testing.TB) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "parley")
	cmd := exec.Command(goCmd, "build", "-o", bin, "parley/cmd/parley")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build parley/cmd/parley: %v\n%s", err, out)
	}
	return bin
}

// Process is a `parley serve` running as a child process.
type Process struct {
	// URL is the base URL the server said it listens on.
	URL string

	cmd  *exec.Cmd
	logs *tail
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // the exit status; read after done
}

// StartParley runs `bin serve -addr 127.0.0.1:0 -log-format json args...`
// and returns once the server has logged the address it listens on. The
// child gets this process's environment without any PARLEY_* variable, so
// that a developer's settings cannot point it elsewhere; pass settings as
// flags. The process is killed when t ends, if it still runs.
func StartParley(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	p, err := startParley(bin, args)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	return p
}

func startParley(bin string, args []string) (*Process, error) {
	full := append([]string{"serve", "-addr", "127.0.0.1:0", "-log-format", "json"}, args...)
	cmd := exec.Command(bin, full...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &Process{cmd: cmd, logs: &tail{max: 400}, done: make(chan struct{})}
	urls := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		// The log must be read to the end, or the child blocks writing it
		// once the pipe's buffer is full.
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.logs.add(line)
			var rec struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "parley listening" && rec.URL != "" {
				select {
				case urls <- rec.URL:
				default:
				}
			}
		}
	}()
	go func() {
		<-scanned // Wait closes the pipe: read everything first
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.URL = <-urls:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("parley exited before listening (%v); its log:\n%s", p.err, p.logs)
	case <-time.After(30 * time.Second):
		p.Kill()
		return nil, fmt.Errorf("parley did not listen within 30s; its log:\n%s", p.logs)
	}
}

// PID returns the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Kill sends SIGKILL and waits for the process to be gone. It is a no-op on
// a process that has exited.
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop asks the server to shut down gracefully (SIGTERM) and waits up to
// timeout; after that it kills it. It returns the exit error, nil for a
// clean exit.
func (p *Process) Stop(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("parley did not stop within %s after SIGTERM; killed", timeout)
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Logs returns the last lines the server wrote to stderr.
func (p *Process) Logs() string { return p.logs.String() }

// RSS returns the resident set size of the process in bytes, from VmRSS in
// /proc/PID/status (Linux only).
func (p *Process) RSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// WaitReady polls GET /readyz until it answers 200 or ctx ends.
func WaitReady(ctx context.Context, c *Client) error {
	for {
		status, err := c.Do(ctx, "GET", "/readyz", "", nil, nil)
		if err == nil && status == 200 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server not ready: status %d, %v: %w", status, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tail keeps the last max lines written to it.
type tail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == t.max {
		t.lines = append(t.lines[:0], t.lines[1:]...)
	}
	t.lines = append(t.lines, line)
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

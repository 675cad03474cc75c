package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// EnableEnv must be set (to anything but "" or "0") for the benchmarks to
// run. They take minutes and open thousands of sockets, so a plain
// `go test ./...` skips them.
const EnableEnv = "PARLEY_BENCH"

// DurationEnv sets how long each ingest measurement runs (a Go duration,
// default 10s).
const DurationEnv = "PARLEY_BENCH_DURATION"

// Require skips t unless EnableEnv is set.
func Require(t testing.TB) {
	t.Helper()
	if v := os.Getenv(EnableEnv); v == "" || v == "0" {
		t.Skipf("benchmark: set %s=1 to run it (see docs/benchmarks.md)", EnableEnv)
	}
}

// EnvDuration returns the duration in the environment variable env, or def.
func EnvDuration(t testing.TB, env string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 10s", env, v)
	}
	return d
}

// EnvInt returns the whole number in the environment variable env, or def.
func EnvInt(t testing.TB, env string, def int) int {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive whole number", env, v)
	}
	return n
}

// Run is the outcome of running an operation from many goroutines for a
// fixed time.
type Run struct {
	Workers  int
	Elapsed  time.Duration
	Ops      int64
	Errors   int64
	FirstErr error
	// Latencies of the successful operations, sorted.
	Latencies []time.Duration
	// CPU is the CPU time (user + system) this process used during the run.
	CPU time.Duration
	// ServerCPU is the CPU time of RunOptions.ServerPID during the run.
	ServerCPU time.Duration
	// MachineCPU is the CPU time used by every process of the machine
	// during the run; what is neither CPU nor ServerCPU was taken by others.
	MachineCPU time.Duration
}

// Rate is successful operations per second.
func (r Run) Rate() float64 { return float64(r.Ops) / r.Elapsed.Seconds() }

// Percentile returns the p-th percentile (0 < p ≤ 100) of latencies, which
// must be sorted.
func Percentile(latencies []time.Duration, p float64) time.Duration {
	if len(latencies) == 0 {
		return 0
	}
	i := int(float64(len(latencies))*p/100+0.5) - 1
	i = max(0, min(i, len(latencies)-1))
	return latencies[i]
}

// P returns the p-th percentile latency of the run.
func (r Run) P(p float64) time.Duration { return Percentile(r.Latencies, p) }

// RunOptions shape a RunFor.
type RunOptions struct {
	Workers  int
	Warmup   time.Duration // run, but not counted
	Duration time.Duration // measured
	// ServerPID, when set, is a process whose CPU time during the measured
	// window is reported as Run.ServerCPU.
	ServerPID int
}

// RunFor calls op from o.Workers goroutines, each in a loop, first for
// o.Warmup and then for o.Duration, and reports what happened in the second
// part. op gets the worker's number and its iteration; an error counts
// against the run but the worker goes on. Every call made is bounded by ctx.
func RunFor(ctx context.Context, o RunOptions, op func(ctx context.Context, worker, i int) error) Run {
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		ops, errs atomic.Int64
		firstErr  error
		errOnce   sync.Once
		wg        sync.WaitGroup
	)
	lat := make([][]time.Duration, o.Workers)
	for w := range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load() && ctx.Err() == nil; i++ {
				start := time.Now()
				err := op(ctx, w, i)
				took := time.Since(start)
				if !measuring.Load() {
					continue
				}
				if err != nil {
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				ops.Add(1)
				lat[w] = append(lat[w], took)
			}
		}()
	}
	time.Sleep(o.Warmup)
	cpu0, srv0, all0 := processCPU(), serverCPU(o.ServerPID), MachineBusy()
	start := time.Now()
	measuring.Store(true)
	time.Sleep(o.Duration)
	measuring.Store(false)
	elapsed := time.Since(start)
	cpu, srv, busy := processCPU()-cpu0, serverCPU(o.ServerPID)-srv0, MachineBusy()-all0
	stop.Store(true)
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	return Run{Workers: o.Workers, Elapsed: elapsed, Ops: ops.Load(), Errors: errs.Load(), FirstErr: firstErr,
		Latencies: all, CPU: cpu, ServerCPU: srv, MachineCPU: busy}
}

func serverCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	d, _ := CPUTime(pid)
	return d
}

// OthersLoad is how many CPUs, on average, processes other than this one
// and the server kept busy during the run: the disturbance from whatever
// else ran on the machine.
func (r Run) OthersLoad() float64 {
	return max(0, (r.MachineCPU-r.CPU-r.ServerCPU).Seconds()/r.Elapsed.Seconds())
}

// MachineBusy returns the CPU time the machine's processes have used since
// boot: user, nice and system time from /proc/stat, less the time of kernel
// threads. Kernel threads are left out because they mostly do our own I/O
// (the ext4 journal and block completions of our fsyncs), and so are
// interrupts (mostly our own loopback traffic); what remains, less this
// process and the server, is other people's work.
func MachineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var ticks int64
	for _, f := range fields[1:4] {
		n, _ := strconv.ParseInt(f, 10, 64)
		ticks += n
	}
	return time.Duration(ticks)*10*time.Millisecond - kernelThreadsCPU()
}

// kernelThreadsCPU sums the CPU time of every kernel thread.
func kernelThreadsCPU() time.Duration {
	const pfKthread = 0x00200000
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var ticks int64
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		flags, _ := strconv.ParseUint(f[6], 10, 64)
		if flags&pfKthread == 0 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += ut + st
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// processCPU is the CPU time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CPUTime returns the CPU time (user + system) process pid has used, from
// /proc/PID/stat (Linux only).
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields we need follow its ')'.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc stat: %q", s)
	}
	// utime and stime are fields 14 and 15 of the line, counted in clock
	// ticks of 1/100 s (USER_HZ on Linux).
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc stat: %q", s)
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// Machine describes the machine a benchmark ran on, for the report.
func Machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
			}
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%d CPUs (%s)%s%s, %s", runtime.NumCPU(), cpu, mem, kernel, runtime.Version())
}

// Ms formats d in milliseconds with one decimal.
func Ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// Window measures the CPU used during a stretch of wall time: by this
// process, by a server process and by everything else on the machine.
type Window struct {
	pid                  int
	start                time.Time
	self, server, others time.Duration
}

// StartWindow starts measuring; serverPID may be 0.
func StartWindow(serverPID int) *Window {
	w := &Window{pid: serverPID, start: time.Now()}
	w.self, w.server, w.others = processCPU(), serverCPU(serverPID), MachineBusy()
	return w
}

// Stop returns the wall time, this process's CPU time, the server's CPU
// time, and how many CPUs other processes kept busy on average.
func (w *Window) Stop() (wall, self, server time.Duration, othersLoad float64) {
	wall = time.Since(w.start)
	self = processCPU() - w.self
	server = serverCPU(w.pid) - w.server
	others := MachineBusy() - w.others - self - server
	return wall, self, server, max(0, others.Seconds()/wall.Seconds())
}

// FsyncLatency writes and fsyncs 4 KiB in a file of dir n times and returns
// the median and 99th percentile of the fsync. The disk of this machine is
// shared, and its fsync time moves every durable write's rate, so each
// report says what it was.
func FsyncLatency(dir string, n int) (p50, p99 time.Duration, err error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	ds := make([]time.Duration, 0, n)
	for i := range n {
		if _, err := f.WriteAt(buf, int64(i%64)*4096); err != nil {
			return 0, 0, err
		}
		start := time.Now()
		if err := f.Sync(); err != nil {
			return 0, 0, err
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return Percentile(ds, 50), Percentile(ds, 99), nil
}

// Errors counts errors from many goroutines and keeps the first.
type Errors struct {
	mu    sync.Mutex
	n     int64
	first error
}

// Add records err.
func (e *Errors) Add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.first == nil {
		e.first = err
	}
	e.n++
}

// Count returns how many errors were recorded.
func (e *Errors) Count() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// Result returns the count and the first error.
func (e *Errors) Result() (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n, e.first
}

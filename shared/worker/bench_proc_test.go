package worker

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchProc is one child process of a benchmark scenario (a worker or the
// reference loop) and the address of its /metrics.
type benchProc struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// startBenchProc starts the test binary in child mode (see TestMain) with
// args and -http on a free port. Its stderr goes to a file whose tail is
// logged if the benchmark fails. With TRIBUTARY_BENCH_PROFILE_DIR set, the
// child writes its CPU profile there as <name>.pprof.
func startBenchProc(b *testing.B, mode, name string, args ...string) *benchProc {
	b.Helper()
	p := &benchProc{addr: fmt.Sprintf("127.0.0.1:%d", freePort(b)), done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], append(args, "-http", p.addr)...)
	p.cmd.Env = append(childEnv(), "TRIBUTARY_TEST_CHILD="+mode, "TRIBUTARY_TEST_FAST=1", "TRIBUTARY_LOG_FORMAT=text")
	if dir := os.Getenv("TRIBUTARY_BENCH_PROFILE_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		p.cmd.Env = append(p.cmd.Env, "TRIBUTARY_TEST_CPUPROFILE="+filepath.Join(dir, name+".pprof"))
	}
	logPath := filepath.Join(b.TempDir(), name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	p.cmd.Stderr = log
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	b.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		log.Close()
		if b.Failed() {
			raw, _ := os.ReadFile(logPath)
			b.Logf("%s's stderr ends with:\n%s", name, raw[max(0, len(raw)-2000):])
		}
	})
	return p
}

// cpuSeconds is the process's user plus system CPU time so far.
func (p *benchProc) cpuSeconds(b *testing.B) float64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name may hold spaces: fields count from after its ')'.
	// utime and stime are fields 14 and 15, in clock ticks of USER_HZ, which
	// is 100 on every Linux this runs on.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}

// peakRSS is a process's peak resident set (VmHWM) in MB.
func peakRSS(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return -1
}

// benchProcs are the processes of one scenario, read together.
type benchProcs []*benchProc

// sum adds a counter over the processes; -1 while any cannot be read yet.
func (ps benchProcs) sum(name string) float64 {
	total := 0.0
	for _, p := range ps {
		v := metric(p.addr, name)
		if v < 0 {
			return -1
		}
		total += v
	}
	return total
}

// maxGauge is the largest value of a gauge over the processes, for gauges that
// every instance reports for the whole worker (pending aggregates).
func (ps benchProcs) maxGauge(name string) float64 {
	m := -1.0
	for _, p := range ps {
		m = max(m, metric(p.addr, name))
	}
	return m
}

func (ps benchProcs) cpuSeconds(b *testing.B) float64 {
	total := 0.0
	for _, p := range ps {
		total += p.cpuSeconds(b)
	}
	return total
}

func (ps benchProcs) peakRSS(b *testing.B) float64 {
	m := 0.0
	for _, p := range ps {
		m = max(m, peakRSS(b, p.cmd.Process.Pid))
	}
	return m
}

// stop sends every process SIGTERM, as Nomad does, then waits for each to
// exit cleanly: a child flushes its profile on the way out. They are
// signalled together so that their shutdowns overlap.
func (ps benchProcs) stop(b *testing.B) {
	b.Helper()
	for _, p := range ps {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			b.Fatal(err)
		}
	}
	for _, p := range ps {
		select {
		case <-p.done:
			if p.err != nil {
				b.Fatalf("child %d did not stop cleanly on SIGTERM: %v", p.cmd.Process.Pid, p.err)
			}
		case <-time.After(time.Minute): // a hung shutdown, well past the worker's own bound
			b.Fatalf("child %d still running a minute after SIGTERM", p.cmd.Process.Pid)
		}
	}
}

// alive fails the benchmark if a process has exited before being stopped.
func (ps benchProcs) alive(b *testing.B) {
	b.Helper()
	for _, p := range ps {
		select {
		case <-p.done:
			b.Fatalf("child %d exited during the run: %v", p.cmd.Process.Pid, p.err)
		default:
		}
	}
}

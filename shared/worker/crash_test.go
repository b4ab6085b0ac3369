package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// The test binary doubles as a child process, chosen by
// TRIBUTARY_TEST_CHILD: "1" runs Main with the identity function, so tests
// can SIGKILL a real worker process; "reference" runs BenchmarkRuntime's
// reference loop. Either writes a CPU profile when asked (profiled).
func TestMain(m *testing.M) {
	switch os.Getenv("TRIBUTARY_TEST_CHILD") {
	case "1":
		// A few milliseconds per call keep the worker busy mid-batch most of
		// the time, so that kills land while work is in flight.
		f := single(func(_ context.Context, msg json.RawMessage) (json.RawMessage, error) {
			time.Sleep(5 * time.Millisecond)
			return msg, nil
		})
		if os.Getenv("TRIBUTARY_TEST_FAST") == "1" {
			f = passthrough
		}
		os.Exit(profiled(func() int { return Main("passthrough", f, os.Args[1:], os.Stderr) }))
	case "reference":
		os.Exit(profiled(func() int { return referenceMain(os.Args[1:], os.Stderr) }))
	}
	os.Exit(m.Run())
}

// profiled runs a child's main and returns its exit code. With
// TRIBUTARY_TEST_CPUPROFILE set it writes a CPU profile to that file, stopped
// only after main returns: SIGTERM makes Main return, so a child stopped by
// SIGTERM leaves a complete profile (a SIGKILLed one leaves none).
func profiled(main func() int) int {
	path := os.Getenv("TRIBUTARY_TEST_CPUPROFILE")
	if path == "" {
		return main()
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
		return 1
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
		return 1
	}
	code := main()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
		return 1
	}
	return code
}

// child starts a worker process with the given flags.
func child(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(childEnv(), "TRIBUTARY_TEST_CHILD=1", "TRIBUTARY_LOG_FORMAT=text")
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

// A worker process killed with SIGKILL at random moments and restarted,
// again and again, while input flows: every id is still emitted at least
// once. The duplicates this costs are reported.
func TestSIGKILLLosesNoJoinedOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a worker for about a minute")
	}
	e := newEnv(t)
	in1, in2, out := e.topic("k1"), e.topic("k2"), e.topic("out")
	e.createTopics(6, in1, in2, out)
	group := e.name + "-crash"
	args := []string{"-worker", group, "-topics-input", in1 + "," + in2, "-topics-output", out,
		"-brokers", strings.Join(e.brokers, ","), "-redis", e.rdb.Options().Addr,
		"-claim-timeout", "3s", "-session-timeout", "6s", "-sweep-interval", "250ms", "-batch-size", "200"}

	const n, kills, batches = 6000, 5, 40
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // input keeps flowing for the whole test: n ids over ~40s
		defer wg.Done()
		for batch := 0; batch < batches; batch++ {
			var msgs []kafka.Message
			for i := batch * n / batches; i < (batch+1)*n/batches; i++ {
				msgs = append(msgs,
					kafka.Message{Topic: in1, Value: []byte(fmt.Sprintf(`{"id":%d,"left":true}`, i))},
					kafka.Message{Topic: in2, Value: []byte(fmt.Sprintf(`{"id":%d,"right":true}`, i))})
			}
			rand.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
			e.produce(msgs, false)
			time.Sleep(time.Second) // pacing of the input, not a wait for a condition
		}
	}()

	for k := 0; k < kills; k++ {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		cmd := child(t, append(args, "-http", addr)...)
		// Kill it only once it is consuming, at a random moment after that.
		waitFor(t, time.Minute, "the worker consuming", func() bool { return metric(addr, "tributary_consumed_total") > 0 })
		time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond) // the random moment
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
	}
	wg.Wait()
	final := child(t, args...)
	t.Logf("input done; %d kills while consuming", kills)

	got := e.consume(out, n, 3*time.Minute, 5*time.Second)
	counts := map[string]int{}
	for _, m := range got {
		counts[string(m.Key)]++
	}
	missing, dups := 0, 0
	for i := 0; i < n; i++ {
		c := counts[fmt.Sprint(i)]
		if c == 0 {
			missing++
		}
		if c > 1 {
			dups += c - 1
		}
	}
	t.Logf("%d ids, %d kills: %d outputs, %d ids missing, %d duplicate outputs (%.2f%%)",
		n, kills, len(got), missing, dups, 100*float64(dups)/float64(n))
	if missing > 0 {
		t.Fatalf("%d of %d ids never emitted after %d SIGKILLs", missing, n, kills)
	}
	if err := final.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := final.Wait(); err != nil {
		t.Fatalf("worker did not stop cleanly on SIGTERM: %v", err)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// metric reads one unlabelled series (summed over its labels) from a
// worker's /metrics; -1 when it cannot be read.
func metric(addr, name string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1
	}
	total, found := 0.0, false
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			total += v
			found = true
		}
	}
	if !found {
		return -1
	}
	return total
}

// childEnv is the environment without the stack's TRIBUTARY_* and OTEL_*
// variables (make test exports them), so a child is configured by its flags
// alone.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TRIBUTARY_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return env
}

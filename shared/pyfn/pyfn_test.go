package pyfn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// needPython skips without python3, except under CI=true, where it fails.
func needPython(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(DefaultPython); err != nil {
		stacktest.Unavailable(t, DefaultPython, err)
	}
}

// syncBuffer is a log sink the forwarding goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newRunner(t testing.TB, module string, o Options) (*Runner, *syncBuffer) {
	t.Helper()
	needPython(t)
	logs := &syncBuffer{}
	o.Module = filepath.Join("testdata", module)
	o.Log = slog.New(slog.NewJSONHandler(logs, nil)).With("worker", "test")
	if o.ConsumerName == "" {
		o.ConsumerName = "test-worker"
	}
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r, logs
}

func msg(id, do string, extra ...string) message {
	v := fmt.Sprintf(`{"id":%q,"do":%q%s}`, id, do, strings.Join(extra, ""))
	return message{Value: json.RawMessage(v), JoinID: id, Topics: []string{"in"}}
}

func classOf(err error) string {
	var ce *callError
	if errors.As(err, &ce) {
		return ce.class
	}
	return ""
}

func TestFanOutReadsAndSetsKeysAndHeaders(t *testing.T) {
	r, _ := newRunner(t, "behave.py", Options{Metadata: json.RawMessage(`{"lang":"en"}`)})
	in := msg("7", "fanout")
	in.Key, in.Headers, in.Topics = []byte("in-key"), []header{{Key: "src", Value: []byte("x")}}, []string{"left", "right"}
	out := r.call(context.Background(), []message{in})
	if out[0].err != nil {
		t.Fatal(out[0].err)
	}
	recs := out[0].recs
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3: %+v", len(recs), recs)
	}
	if got := fmt.Sprintf("%v %s %s %s", recs[0].Topics, recs[0].Key, recs[0].Headers[0].Key, recs[0].Headers[0].Value); got != "[a] k-7 h v" {
		t.Errorf("record 0 is addressed %s, want [a] k-7 h v", got)
	}
	if fmt.Sprint(recs[1].Topics) != "[b]" || recs[1].Key != nil || recs[2].Topics != nil {
		t.Errorf("records 1 and 2: topics %v key %q, topics %v", recs[1].Topics, recs[1].Key, recs[2].Topics)
	}
	var third map[string]any
	if err := json.Unmarshal(recs[2].Value, &third); err != nil {
		t.Fatal(err)
	}
	want := `map[consumer:test-worker id:7 in_headers:map[src:x] in_key:in-key join_id:7 meta:map[lang:en] part:3 topics:[left right]]`
	if got := fmt.Sprint(third); got != want {
		t.Errorf("record 2 = %s\nwant       %s", got, want)
	}
}

func TestFailuresStayWithTheirMessage(t *testing.T) {
	r, _ := newRunner(t, "behave.py", Options{})
	pid := r.PID()
	out := r.call(context.Background(), []message{
		msg("1", "raise"), msg("2", "exit"), msg("3", "bad"), msg("4", "nan"), msg("5", "fd1"), msg("6", "filter"), msg("7", "echo"),
	})
	for i, want := range []struct{ class, text string }{
		{"process_error", "ValueError: cannot process 1"},
		{"process_error", "sys.exit(3)"},
		{"bad_output", "process returned str"},
		{"bad_output", "not JSON"},
	} {
		if classOf(out[i].err) != want.class || !strings.Contains(fmt.Sprint(out[i].err), want.text) {
			t.Errorf("message %d: err %v (class %q), want class %s containing %q", i+1, out[i].err, classOf(out[i].err), want.class, want.text)
		}
	}
	if !strings.Contains(out[0].err.Error(), `behave.py", line`) || strings.Contains(out[0].err.Error(), "__main__.py") {
		t.Errorf("the traceback should show the function's frames and not the runner's:\n%v", out[0].err)
	}
	if out[4].err != nil || len(out[4].recs) != 1 {
		t.Errorf("a write to fd 1 must not reach the protocol: %+v", out[4])
	}
	if out[5].err != nil || len(out[5].recs) != 0 {
		t.Errorf("None must filter: %+v", out[5])
	}
	if out[6].err != nil || len(out[6].recs) != 1 || !strings.Contains(string(out[6].recs[0].Value), `"id":"7"`) {
		t.Errorf("the message after the failures: %+v", out[6])
	}
	if r.PID() != pid {
		t.Errorf("the interpreter was restarted (pid %d -> %d); an exception or sys.exit must not", pid, r.PID())
	}
}

func TestTimeoutKillsAndRestartsTheInterpreter(t *testing.T) {
	r, logs := newRunner(t, "behave.py", Options{Timeout: 500 * time.Millisecond})
	pid := r.PID()
	out := r.call(context.Background(), []message{msg("1", "echo"), msg("2", "loop"), msg("3", "echo"), msg("4", "echo")})
	if out[0].err != nil || out[2].err != nil || out[3].err != nil {
		t.Fatalf("the messages around the loop failed: %v, %v, %v", out[0].err, out[2].err, out[3].err)
	}
	if classOf(out[1].err) != ClassTimeout {
		t.Fatalf("the loop: %v (class %q), want class %s", out[1].err, classOf(out[1].err), ClassTimeout)
	}
	if r.PID() == pid || r.PID() == 0 {
		t.Errorf("pid %d -> %d: the looping interpreter should have been replaced", pid, r.PID())
	}
	if !strings.Contains(logs.String(), `"join_id":"2"`) {
		t.Errorf("the timeout is not logged with its join id:\n%s", logs)
	}
}

func TestPrintStormGoesToTheLogRateLimited(t *testing.T) {
	r, logs := newRunner(t, "behave.py", Options{LogLines: 50})
	out := r.call(context.Background(), []message{msg("1", "print", `,"lines":100000`), msg("2", "echo")})
	if out[0].err != nil || out[1].err != nil {
		t.Fatalf("a print storm failed its message: %v, %v", out[0].err, out[1].err)
	}
	r.Close() // the forwarder ends with the interpreter and logs what it dropped
	text := logs.String()
	lines := strings.Count(text, `"msg":"storm line`)
	if lines < 10 || lines > 1000 {
		t.Errorf("%d storm lines logged at 50 a second, want some and far fewer than 100000", lines)
	}
	if !strings.Contains(text, `"dropped_lines"`) || !strings.Contains(text, `"stream":"stderr"`) || !strings.Contains(text, `"worker":"test"`) {
		t.Errorf("the log does not count dropped lines with the worker's keys:\n%.2000s", text)
	}
}

func TestKill9MidBatchLosesNothing(t *testing.T) {
	r, logs := newRunner(t, "behave.py", Options{})
	pid := r.PID()
	var msgs []message
	for i := range 20 {
		msgs = append(msgs, msg(fmt.Sprint(i), "sleep", `,"seconds":0.02`))
	}
	go func() {
		time.Sleep(100 * time.Millisecond) // mid-batch: 20 × 20 ms of work
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}()
	out := r.call(context.Background(), msgs)
	for i, o := range out {
		if o.err != nil || len(o.recs) != 1 || !strings.Contains(string(o.recs[0].Value), fmt.Sprintf(`"id":"%d"`, i)) {
			t.Errorf("message %d: %+v", i, o)
		}
	}
	if r.PID() == pid {
		t.Error("the killed interpreter is still the one in use")
	}
	if !strings.Contains(logs.String(), "python interpreter died") {
		t.Errorf("the crash is not logged:\n%s", logs)
	}
}

func TestCrashLoopDeadLettersTheMessage(t *testing.T) {
	r, _ := newRunner(t, "behave.py", Options{Crashes: 2})
	marker := filepath.Join(t.TempDir(), "crashed-once")
	start := time.Now()
	out := r.call(context.Background(), []message{
		msg("1", "crash"), // always crashes
		msg("2", "crash", fmt.Sprintf(`,"marker":%q`, marker)), // crashes once
		msg("3", "echo"),
	})
	if classOf(out[0].err) != ClassCrash {
		t.Errorf("message 1: %v, want class %s", out[0].err, ClassCrash)
	}
	if out[1].err != nil || out[2].err != nil {
		t.Errorf("messages 2 and 3 should survive a restart: %v, %v", out[1].err, out[2].err)
	}
	// Three crashes in a row: 100 ms, 200 ms and 400 ms of backoff.
	if d := time.Since(start); d < 700*time.Millisecond {
		t.Errorf("three crashes took %s: the restarts did not back off", d)
	}
}

func TestStartFailuresAreFatal(t *testing.T) {
	needPython(t)
	for _, tc := range []struct {
		name, module, meta, want string
	}{
		{"no process", "noprocess.py", "", "defines no process"},
		{"init raises", "behave.py", `{"fail_init":true}`, "ValueError: bad metadata: fail_init is set"},
		{"missing module", "absent.py", "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(Options{Module: filepath.Join("testdata", tc.module), Metadata: json.RawMessage(tc.meta)})
			if err == nil {
				defer r.Close()
				err = r.Start(context.Background())
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestEachResultSaysHowLongItsCallTook: Python times each process call, so
// the worker's span and histogram of a message show its own time.
func TestEachResultSaysHowLongItsCallTook(t *testing.T) {
	r, _ := newRunner(t, "behave.py", Options{})
	res := r.Function().ProcessBatch(context.Background(), []worker.Input{
		{Value: json.RawMessage(`{"id":"1","do":"sleep","seconds":0.05}`), JoinID: "1"},
		{Value: json.RawMessage(`{"id":"2","do":"echo"}`), JoinID: "2"},
		{Value: json.RawMessage(`{"id":"3","do":"raise"}`), JoinID: "3"},
	})
	if res[0].Took < 50*time.Millisecond || res[0].Took > 5*time.Second {
		t.Errorf("a 50 ms sleep took %v", res[0].Took)
	}
	if res[1].Took <= 0 || res[1].Took >= res[0].Took {
		t.Errorf("an echo took %v, the sleep %v", res[1].Took, res[0].Took)
	}
	if res[2].Err == nil || res[2].Took <= 0 {
		t.Errorf("a failed call: %v after %v; want an error and its time", res[2].Err, res[2].Took)
	}
}

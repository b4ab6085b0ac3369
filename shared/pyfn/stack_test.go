package pyfn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/shared/pyfn"
	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// stackWorker runs the Python module testdata/stack.py as a worker over the
// stack's broker and Redis until the test ends, and returns its runner.
func stackWorker(t *testing.T, cfg worker.Config, o pyfn.Options) *pyfn.Runner {
	t.Helper()
	if _, err := exec.LookPath(pyfn.DefaultPython); err != nil {
		stacktest.Unavailable(t, pyfn.DefaultPython, err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	o.Module, o.ConsumerName, o.Log = "testdata/stack.py", cfg.ConsumerName, log.With("worker", cfg.ConsumerName)
	r, err := pyfn.New(o)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr})
	w, err := worker.New(cfg, r.Function(), rdb, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
		r.Close()
		rdb.Close()
	})
	return r
}

// stackConfig is a worker config with topics and a group private to t.
func stackConfig(t testing.TB, in, out []string) (worker.Config, func(string) string) {
	brokers := stacktest.Kafka(t)
	rdb, prefix := stacktest.Redis(t)
	name := "e2e-" + strings.ReplaceAll(prefix, "_", "-")
	topic := func(s string) string { return name + "." + s }
	for i := range in {
		in[i] = topic(in[i])
	}
	for i := range out {
		out[i] = topic(out[i])
	}
	cfg := worker.Config{ConsumerName: name, TopicsInput: in, TopicsOutput: out, Brokers: brokers,
		RedisAddr: rdb.Options().Addr, Instance: "py", SessionTimeout: 6 * time.Second, HeartbeatPeriod: time.Second,
		DeadLetter: topic("dlq"), ProcessRetries: 1, RetryBackoff: 10 * time.Millisecond}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = stacktest.DeleteKeys(ctx, rdb, "trib:{"+name+"*")
		c := &kafka.Client{Addr: kafka.TCP(brokers...)}
		_, _ = c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: append(append([]string{cfg.DeadLetter}, in...), out...)})
	})
	create(t, brokers, append(append([]string{cfg.DeadLetter}, in...), out...))
	return cfg, topic
}

func create(t testing.TB, brokers, topics []string) {
	req := &kafka.CreateTopicsRequest{}
	for _, tp := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: tp, NumPartitions: 2, ReplicationFactor: 1})
	}
	if _, err := (&kafka.Client{Addr: kafka.TCP(brokers...)}).CreateTopics(context.Background(), req); err != nil {
		t.Fatal(err)
	}
}

func produce(t *testing.T, brokers []string, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

// consume is stacktest.Consume without the extra wait.
func consume(t *testing.T, brokers []string, topic string, n int, timeout time.Duration) []kafka.Message {
	t.Helper()
	return stacktest.Consume(t, brokers, topic, n, timeout, 0)
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func TestPythonJoinFansOut(t *testing.T) {
	cfg, topic := stackConfig(t, []string{"left", "right"}, []string{"a", "b"})
	cfg.Metadata = json.RawMessage(fmt.Sprintf(`{"fanout":%q}`, topic("a")))
	stackWorker(t, cfg, pyfn.Options{})
	const n = 50
	var msgs []kafka.Message
	for i := range n {
		msgs = append(msgs,
			kafka.Message{Topic: cfg.TopicsInput[0], Value: fmt.Appendf(nil, `{"id":"j%d","content":{"left":%d}}`, i, i)},
			kafka.Message{Topic: cfg.TopicsInput[1], Value: fmt.Appendf(nil, `{"id":"j%d","content":{"right":%d}}`, i, i)})
	}
	produce(t, cfg.Brokers, msgs...)

	a := consume(t, cfg.Brokers, topic("a"), 2*n, 60*time.Second) // the copy and the joined message
	b := consume(t, cfg.Brokers, topic("b"), n, 30*time.Second)   // the joined message only
	copies, joined := map[string]bool{}, map[string]bool{}
	for _, m := range a {
		v := string(m.Value)
		switch {
		case strings.HasPrefix(string(m.Key), "a-"):
			if header(m, "x-from") != cfg.TopicsInput[0]+","+cfg.TopicsInput[1] || !strings.Contains(v, `"copy":"a"`) {
				t.Errorf("copy %s: value %s, x-from %q", m.Key, v, header(m, "x-from"))
			}
			copies[string(m.Key)] = true
		default:
			joined[string(m.Key)] = true
		}
	}
	for _, m := range b {
		var v struct {
			ID      string         `json:"id"`
			Content map[string]int `json:"content"`
		}
		if err := json.Unmarshal(m.Value, &v); err != nil || string(m.Key) != v.ID || len(v.Content) != 2 {
			t.Errorf("joined record on b: key %s value %s", m.Key, m.Value)
		}
	}
	if len(copies) != n || len(joined) != n {
		t.Errorf("topic a has %d distinct copies and %d joined records, want %d of each", len(copies), len(joined), n)
	}
}

func TestPythonFailuresAreDeadLetteredAndTheWorkerGoesOn(t *testing.T) {
	cfg, topic := stackConfig(t, []string{"in"}, []string{"out"})
	stackWorker(t, cfg, pyfn.Options{Timeout: time.Second, LogLines: 50})
	in := func(id, do string) kafka.Message {
		return kafka.Message{Topic: cfg.TopicsInput[0], Value: fmt.Appendf(nil, `{"id":%q,"do":%q}`, id, do)}
	}
	msgs := []kafka.Message{in("raise", "raise"), in("exit", "exit"), in("loop", "loop"), in("print", "print")}
	for i := range 20 {
		msgs = append(msgs, in(fmt.Sprint("ok-", i), ""))
	}
	produce(t, cfg.Brokers, msgs...)

	out := consume(t, cfg.Brokers, topic("out"), 21, 60*time.Second) // the print storm survives, and the 20 after it
	got := map[string]bool{}
	for _, m := range out {
		got[string(m.Key)] = true
	}
	if !got["print"] || len(got) != 21 {
		t.Errorf("output ids %v: want print and ok-0 … ok-19", got)
	}
	want := map[string]struct{ class, text string }{
		"raise": {worker.ClassProcess, "RuntimeError: no luck for raise"},
		"exit":  {worker.ClassProcess, "sys.exit(1)"},
		"loop":  {pyfn.ClassTimeout, "did not return"},
	}
	for _, m := range consume(t, cfg.Brokers, cfg.DeadLetter, 3, 30*time.Second) {
		id := header(m, worker.HeaderJoinID)
		w, ok := want[id]
		class, reason := header(m, worker.HeaderErrorClass), header(m, worker.HeaderErrorMessage)
		if !ok || class != w.class || !strings.Contains(reason, w.text) {
			t.Errorf("dead letter %s: class %q reason %q, want class %q with %q", id, class, reason, w.class, w.text)
		}
		delete(want, id)
	}
	if len(want) > 0 {
		t.Errorf("no dead letter for %v", want)
	}
}

func TestPythonKill9MidBatchLosesNothing(t *testing.T) {
	cfg, topic := stackConfig(t, []string{"in"}, []string{"out"})
	// Outputs appear a batch at a time: with the default 500 one batch
	// could hold every id, and the run end before the second kill (seen
	// under CI load). 20 a batch keeps the ids coming out in small steps.
	cfg.BatchSize = 20
	r := stackWorker(t, cfg, pyfn.Options{})
	ids := stacktest.IDs(400)
	var msgs []kafka.Message
	for _, id := range ids {
		msgs = append(msgs, kafka.Message{Topic: cfg.TopicsInput[0], Value: fmt.Appendf(nil, `{"id":%q,"do":"sleep"}`, id)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	check := stacktest.CheckIDs(ctx, cfg.Brokers, topic("out"), false)
	produce(t, cfg.Brokers, msgs...)

	// 20 ms a message, 8 s in all: kill the interpreter twice while it
	// works, and see a new one take over each time (a restart happens only
	// for a batch in flight).
	var killed []int
	var mu sync.Mutex
	for _, after := range []int{50, 200} {
		deadline := time.Now().Add(30 * time.Second)
		for check.Distinct() < after && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // poll, bounded by the deadline
		}
		pid := r.PID()
		if pid == 0 || check.Distinct() >= len(ids) {
			t.Fatalf("no interpreter to kill mid-stream (pid %d, %d ids out)", pid, check.Distinct())
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		killed = append(killed, pid)
		mu.Unlock()
		for (r.PID() == pid || r.PID() == 0) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // poll, bounded by the deadline
		}
		if r.PID() == pid || r.PID() == 0 {
			t.Fatalf("interpreter %d killed with %d ids out: no new one took over its batch", pid, check.Distinct())
		}
	}
	stacktest.WaitFor(t, 60*time.Second, ids, check)
	lost, dups := check.Tally(ids)
	t.Logf("killed interpreters %v: %d ids, %d lost, %d duplicates", killed, len(ids), lost, dups)
	if lost != 0 {
		t.Errorf("%d of %d ids lost after kill -9 of the interpreter", lost, len(ids))
	}
}

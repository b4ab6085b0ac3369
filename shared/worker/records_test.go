package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// headerOf is the value of m's last header named key, and whether it has one.
func headerOf(m kafka.Message, key string) (string, bool) {
	for i := len(m.Headers) - 1; i >= 0; i-- {
		if m.Headers[i].Key == key {
			return string(m.Headers[i].Value), true
		}
	}
	return "", false
}

// TestFanOut: through a real broker and Redis, a 2-topic join whose
// function sees the completing message's key, its headers (without the
// trace context), the contributing topics in config order and the join id,
// and fans out to chosen outputs: one record to "words" per word keyed by
// the word with a header of its own, and one summary to every output keyed
// by the join id. The trace context of each output continues the input's
// trace. A record naming a topic that is not an output dead-letters the
// input as bad_output, and none of its records is emitted.
func TestFanOut(t *testing.T) {
	e := newEnv(t)
	left, right, words, stats := e.topic("left"), e.topic("right"), e.topic("words"), e.topic("stats")
	dlq := e.topic("dlq")
	e.createTopics(1, left, right, words, stats, dlq)
	const n = 20
	var (
		mu   sync.Mutex
		seen = map[string]Input{}
	)
	f := Function{Process: func(_ context.Context, in Input) ([]Record, error) {
		mu.Lock()
		seen[in.JoinID] = in
		mu.Unlock()
		var v struct{ Text string }
		if err := json.Unmarshal(in.Value, &v); err != nil {
			return nil, &Rejected{err}
		}
		var recs []Record
		for _, w := range strings.Fields(v.Text) {
			recs = append(recs, Record{Value: json.RawMessage(fmt.Sprintf(`{"word":%q}`, w)), Topics: []string{words},
				Key: []byte(w), Headers: []Header{{Key: "join", Value: []byte(in.JoinID)}}})
		}
		if in.JoinID == "bad" {
			recs = append(recs, Record{Value: in.Value, Topics: []string{"not-an-output"}})
		}
		return append(recs, Record{Value: json.RawMessage(fmt.Sprintf(`{"id":%q,"words":%d}`, in.JoinID, len(recs)))}), nil
	}}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer tp.Shutdown(context.Background())
	cfg := e.config("fanout", []string{left, right}, []string{words, stats})
	cfg.DeadLetter = dlq
	w, _ := e.start(cfg, f, tp)

	const producerTrace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	var msgs []kafka.Message
	for i := range n {
		id := fmt.Sprint(i)
		msgs = append(msgs, kafka.Message{Topic: right, Key: []byte("r" + id), Value: []byte(`{"id":"` + id + `","lang":"en"}`)})
	}
	msgs = append(msgs, kafka.Message{Topic: right, Value: []byte(`{"id":"bad"}`)})
	e.produce(msgs, false)
	waitFor(t, time.Minute, "the right fragments to be pending", func() bool {
		p, err := w.store.Pending(context.Background())
		return err == nil && p == n+1
	})
	msgs = msgs[:0]
	for i := range n { // the left fragments complete the joins, with their key and headers
		id := fmt.Sprint(i)
		msgs = append(msgs, kafka.Message{Topic: left, Key: []byte("l" + id), Value: []byte(`{"id":"` + id + `","text":"a b"}`),
			Headers: []kafka.Header{{Key: "traceparent", Value: []byte(producerTrace)}, {Key: "origin", Value: []byte("test")},
				{Key: HeaderWorker, Value: []byte("upstream")}}})
	}
	msgs = append(msgs, kafka.Message{Topic: left, Value: []byte(`{"id":"bad","text":"x"}`)})
	e.produce(msgs, false)

	// words has 2 words per join and, as every output, the summaries.
	all := e.consume(words, 3*n, time.Minute, time.Second)
	if len(all) != 3*n {
		t.Fatalf("%s: %d records, want %d (2 words and a summary × %d joins, none of the bad one's)", words, len(all), 3*n, n)
	}
	if sums := e.consume(stats, n, time.Minute, time.Second); len(sums) != n {
		t.Fatalf("%s: %d records, want only the %d summaries", stats, len(sums), n)
	}
	nWords := 0
	for _, m := range all {
		v := decodeObject(t, m.Value)
		tp, _ := headerOf(m, "traceparent")
		if !strings.HasPrefix(tp, "00-0af7651916cd43dd8448eb211c80319c-") {
			t.Fatalf("record %s: traceparent %q does not continue the input's trace", m.Value, tp)
		}
		switch {
		case v["word"] != nil:
			nWords++
			join, _ := headerOf(m, "join")
			if string(m.Key) != v["word"] || join == "" {
				t.Fatalf("word record %s: key %q, join header %q; want the word and the join id", m.Value, m.Key, join)
			}
		case v["id"] != nil:
			if string(m.Key) != v["id"] || v["words"] != 2.0 {
				t.Fatalf("summary %s: key %q; want the join id and 2 words", m.Value, m.Key)
			}
		default:
			t.Fatalf("unexpected record %s", m.Value)
		}
	}
	if nWords != 2*n {
		t.Fatalf("%d word records, want %d", nWords, 2*n)
	}
	dl := e.consume(dlq, 1, time.Minute, time.Second)
	if class, _ := headerOf(dl[0], HeaderErrorClass); len(dl) != 1 || class != ClassBadOutput {
		t.Fatalf("dead letters %d, class %q; want 1 bad_output", len(dl), class)
	}
	if msg, _ := headerOf(dl[0], HeaderErrorMessage); !strings.Contains(msg, `"not-an-output"`) {
		t.Fatalf("dead letter reason %q does not name the topic", msg)
	}

	mu.Lock()
	defer mu.Unlock()
	in := seen["3"]
	if string(in.Key) != "l3" || !slices.Equal(in.Topics, []string{left, right}) ||
		len(in.Headers) != 1 || in.Headers[0].Key != "origin" || string(in.Headers[0].Value) != "test" {
		t.Fatalf("input = key %q topics %v headers %v; want the completing message's key, both topics, only its own header",
			in.Key, in.Topics, in.Headers)
	}
}

// TestProcessBatch: a ProcessBatch function gets whole batches; an item
// that fails is retried alone and emitted, a rejected one is dead-lettered
// without a retry, and a panic of a batch call retries each item alone.
func TestProcessBatch(t *testing.T) {
	e := newEnv(t)
	in, out, dlq := e.topic("in"), e.topic("out"), e.topic("dlq")
	e.createTopics(1, in, out, dlq)
	const n = 300
	var (
		biggest, calls atomic.Int64
		failedOnce     sync.Map
		panicked       atomic.Bool
	)
	f := Function{ProcessBatch: func(_ context.Context, ins []Input) []Result {
		calls.Add(1)
		if int64(len(ins)) > biggest.Load() {
			biggest.Store(int64(len(ins)))
		}
		if len(ins) > 1 && slices.ContainsFunc(ins, func(x Input) bool { return x.JoinID == "panic" }) {
			panicked.Store(true)
			panic("a batch with the id panic")
		}
		res := make([]Result, len(ins))
		for i, x := range ins {
			switch {
			case x.JoinID == "reject":
				res[i].Err = &Rejected{errors.New("never")}
			case strings.HasSuffix(x.JoinID, "7"):
				if _, again := failedOnce.LoadOrStore(x.JoinID, true); !again {
					res[i].Err = errors.New("transient")
					continue
				}
				fallthrough
			default:
				res[i].Records = []Record{{Value: x.Value}}
			}
		}
		return res
	}}
	cfg := e.config("batch", []string{in}, []string{out})
	cfg.DeadLetter = dlq
	cfg.RetryBackoff = time.Millisecond
	round := func(from, to int, extra string) {
		var msgs []kafka.Message
		for i := from; i < to; i++ {
			msgs = append(msgs, kafka.Message{Topic: in, Value: []byte(fmt.Sprintf(`{"id":"%d"}`, i))})
		}
		msgs = append(msgs, kafka.Message{Topic: in, Value: []byte(`{"id":"` + extra + `"}`)})
		e.produce(msgs, false)
	}
	round(0, n/2, "reject") // before the worker starts, so that its batches are large
	e.start(cfg, f, nil)
	e.consume(out, n/2, time.Minute, 0)
	round(n/2, n, "panic")

	got := e.consume(out, n+1, time.Minute, time.Second)
	ids := map[string]bool{}
	for _, m := range got {
		ids[string(m.Key)] = true
	}
	if len(got) != n+1 || len(ids) != n+1 || !ids["panic"] {
		t.Fatalf("%d outputs of %d ids, want %d each, the panic one's too", len(got), len(ids), n+1)
	}
	dl := e.consume(dlq, 1, time.Minute, time.Second)
	if class, _ := headerOf(dl[0], HeaderErrorClass); len(dl) != 1 || class != ClassRejected {
		t.Fatalf("%d dead letters, class %q; want one rejected", len(dl), class)
	}
	if !panicked.Load() {
		t.Fatal("no batch had the id panic: the panic path was not run")
	}
	if biggest.Load() < 10 || calls.Load() >= n {
		t.Fatalf("%d calls, the largest of %d inputs: the function was not given batches", calls.Load(), biggest.Load())
	}
}

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"
)

// tributary_latency_seconds observes every acknowledged output record once,
// and nothing else: not filtered aggregates, not dead letters (bad input or
// a rejecting function). Each observation is a time inside the test, so the
// mean is below the test's wall time and no observation lies beyond the
// first bucket that bounds it.
func TestLatencyHistogram(t *testing.T) {
	const ids = 200 // of which every 10th filtered and every 25th rejected
	cases := []struct {
		name    string
		inputs  int
		outputs int
	}{
		{"single input, two outputs", 1, 2},
		{"join of two inputs", 2, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var in, out []string
			for i := range tc.inputs {
				in = append(in, e.topic(fmt.Sprintf("in%d", i)))
			}
			for i := range tc.outputs {
				out = append(out, e.topic(fmt.Sprintf("out%d", i)))
			}
			dlq := e.topic("dlq")
			e.createTopics(3, append(append([]string{dlq}, in...), out...)...)
			cfg := e.config("latency", in, out)
			cfg.DeadLetter = dlq
			cfg.FetchWait = 100 * time.Millisecond

			var msgs []kafka.Message
			filtered, rejected := 0, 0
			for i := range ids {
				switch {
				case i%10 == 0:
					filtered++
				case i%25 == 0:
					rejected++
				}
				for _, topic := range in {
					msgs = append(msgs, kafka.Message{Topic: topic, Value: fmt.Appendf(nil, `{"id":"id-%d","from":%q}`, i, topic)})
				}
			}
			const notJSON = 7
			for range notJSON {
				msgs = append(msgs, kafka.Message{Topic: in[0], Value: []byte("not json")})
			}
			want := (ids - filtered - rejected) * len(out)

			start := time.Now()
			w, _ := e.start(cfg, single(func(_ context.Context, msg json.RawMessage) (json.RawMessage, error) {
				var v struct{ ID string }
				_ = json.Unmarshal(msg, &v)
				var n int
				fmt.Sscanf(strings.TrimPrefix(v.ID, "id-"), "%d", &n)
				switch {
				case n%10 == 0:
					return nil, nil
				case n%25 == 0:
					return nil, &Rejected{errors.New("no")}
				}
				return msg, nil
			}), nil)
			e.produce(msgs, false)
			for _, topic := range out {
				if got := e.consume(topic, want/len(out), time.Minute, 0); len(got) != want/len(out) {
					t.Fatalf("%s: %d outputs, want %d", topic, len(got), want/len(out))
				}
			}
			// The writer's callback runs after the broker has the records, so
			// a reader can see them first: wait for the acknowledgements.
			waitFor(t, 30*time.Second, fmt.Sprintf("%d emitted records acknowledged", want), func() bool {
				return counterValue(w.m.emitted) == float64(want)
			})
			waitFor(t, 30*time.Second, "every dead letter acknowledged", func() bool {
				return counterValue(w.m.deadLetteredBy(ClassNotJSON)) == notJSON &&
					counterValue(w.m.deadLetteredBy(ClassRejected)) == float64(rejected)
			})
			wall := time.Since(start).Seconds()
			if got := counterValue(w.m.filtered); got != float64(filtered) {
				t.Fatalf("filtered = %v, want %d", got, filtered)
			}

			var m dto.Metric
			if err := w.m.latency.Write(&m); err != nil {
				t.Fatal(err)
			}
			h := m.GetHistogram()
			if h.GetSampleCount() != uint64(want) {
				t.Fatalf("latency count = %d, want %d: one per emitted record, none for %d filtered, %d rejected, %d not JSON",
					h.GetSampleCount(), want, filtered, rejected, notJSON)
			}
			if sum := h.GetSampleSum(); sum <= 0 || sum/float64(want) >= wall {
				t.Fatalf("latency sum = %vs over %d records, wall time %.3fs: the mean must be positive and below it", sum, want, wall)
			}
			for _, b := range h.GetBucket() {
				if b.GetUpperBound() >= wall {
					if b.GetCumulativeCount() != uint64(want) {
						t.Fatalf("%d of %d observations at most %vs, but the test took %.3fs", b.GetCumulativeCount(), want, b.GetUpperBound(), wall)
					}
					break
				}
			}
			t.Logf("%d records, mean latency %.1f ms, wall %.2fs", want, 1000*h.GetSampleSum()/float64(want), wall)
		})
	}
}

// The writer's callback observes the latency without allocating: the
// per-record bookkeeping was allocated once for the batch, and the
// histogram is bound once.
func TestWrittenAllocatesNothingPerRecord(t *testing.T) {
	w, err := New(Config{ConsumerName: "allocs", TopicsInput: []string{"in"}, TopicsOutput: []string{"out"},
		Brokers: []string{"127.0.0.1:1"}}, passthrough, nil, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	b := &batch{out: make([]kafka.Message, n), sent: make([]sent, n)}
	born := time.Now().Add(-time.Second).UnixNano()
	for i := range b.out {
		b.sent[i] = sent{b: b, born: born}
		b.out[i].WriterData = &b.sent[i]
	}
	b.unacked.Store(1 << 40) // never finished: finish's own work is per batch
	if allocs := testing.AllocsPerRun(10, func() { w.written(b.out, nil) }); allocs != 0 {
		t.Fatalf("written allocates %v times for %d records", allocs, n)
	}
	var m dto.Metric
	if err := w.m.latency.Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetHistogram().GetSampleCount(); got != 11*n { // AllocsPerRun runs once more to warm up
		t.Fatalf("latency count = %d, want %d", got, 11*n)
	}
}

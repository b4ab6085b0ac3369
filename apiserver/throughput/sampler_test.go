package throughput

import (
	"context"
	"io"
	"log/slog"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

var quiet = slog.New(slog.NewJSONHandler(io.Discard, nil))

// cluster is a private kfake cluster with a worker's topics created and
// an admin to write and commit on them.
func cluster(t *testing.T, topics ...string) (Target, *kafkaadmin.Admin) {
	t.Helper()
	brokers := stacktest.Kfake(t, 2)
	a, err := kafkaadmin.Dial(brokers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	for _, topic := range topics {
		if err := a.CreateTopic(t.Context(), topic, 2, 1); err != nil {
			t.Fatal(err)
		}
	}
	return Target{Worker: stacktest.Name(t, "w"), Brokers: brokers, Inputs: topics[:2], Outputs: topics[2:]}, a
}

func produce(t *testing.T, a *kafkaadmin.Admin, topic string, partition int32, n int) {
	t.Helper()
	recs := make([]kafkaadmin.Record, n)
	for i := range recs {
		recs[i] = kafkaadmin.Record{Topic: topic, Partition: partition, Value: []byte(`{"id":"x"}`)}
	}
	if _, err := a.Produce(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
}

func commit(t *testing.T, a *kafkaadmin.Admin, group string, offs ...kafkaadmin.Offset) {
	t.Helper()
	if err := a.Commit(t.Context(), group, offs); err != nil {
		t.Fatal(err)
	}
}

// until polls s's answer about tg every 10 ms until ok accepts it or 10 s
// pass, and returns it.
func until(t *testing.T, s *Sampler, tg Target, what string, ok func(Throughput) bool) Throughput {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tp, err := s.Throughput(t.Context(), tg)
		if err != nil {
			t.Fatal(err)
		}
		if ok(tp) {
			return tp
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last answer %+v", what, tp)
		}
		time.Sleep(10 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

func TestSamplerRatesOverItsWindow(t *testing.T) {
	tg, a := cluster(t, "in.a", "in.b", "out")
	produce(t, a, "in.a", 0, 20)
	produce(t, a, "in.b", 1, 20)
	commit(t, a, tg.Worker, kafkaadmin.Offset{Topic: "in.a", Partition: 0, Offset: 2})
	s := NewSampler(SamplerOptions{Every: 50 * time.Millisecond, Window: 3 * time.Second, Log: quiet})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go s.Run(ctx)

	first, _ := s.Throughput(t.Context(), tg)
	if first.WindowSeconds != 0 || first.InPerSec != 0 || first.Source != SourceSampler || first.InPerSecByTopic == nil {
		t.Fatalf("first answer %+v, want zeros without a window", first)
	}
	until(t, s, tg, "a window", func(tp Throughput) bool { return tp.WindowSeconds > 0 })

	// The group moves 6 on in.a and makes its first commit on in.b, at 4:
	// it read those from the start. 5 records reach the output.
	commit(t, a, tg.Worker, kafkaadmin.Offset{Topic: "in.a", Partition: 0, Offset: 8},
		kafkaadmin.Offset{Topic: "in.b", Partition: 1, Offset: 4})
	produce(t, a, "out", 0, 3)
	produce(t, a, "out", 1, 2)
	tp := until(t, s, tg, "the progress", func(tp Throughput) bool {
		return near(tp.InPerSec*tp.WindowSeconds, 10) && near(tp.OutPerSec*tp.WindowSeconds, 5)
	})
	if !near(tp.InPerSecByTopic["in.a"]*tp.WindowSeconds, 6) || !near(tp.InPerSecByTopic["in.b"]*tp.WindowSeconds, 4) || len(tp.InPerSecByTopic) != 2 {
		t.Errorf("by topic %+v over %.3fs", tp.InPerSecByTopic, tp.WindowSeconds)
	}
	if tp.WindowSeconds > 3.5 {
		t.Errorf("window %.3fs, want about 3s at most", tp.WindowSeconds)
	}
	// A counter that goes down (an offset reset) is no progress, and does
	// not cancel another partition's.
	commit(t, a, tg.Worker, kafkaadmin.Offset{Topic: "in.a", Partition: 0, Offset: 0},
		kafkaadmin.Offset{Topic: "in.b", Partition: 1, Offset: 7})
	until(t, s, tg, "the reset", func(tp Throughput) bool { return near(tp.InPerSec*tp.WindowSeconds, 13) })
	// Once the window has slid past the progress, the rate is 0 again.
	until(t, s, tg, "the window to slide past", func(tp Throughput) bool {
		return tp.InPerSec == 0 && tp.OutPerSec == 0 && tp.WindowSeconds >= 2.9
	})
}

// TestAskingDoesNotSample: requests read the samples; only the sampler's
// clock takes them, so any number of clients see the same answer.
func TestAskingDoesNotSample(t *testing.T) {
	tg, _ := cluster(t, "in.a", "in.b", "out")
	s := NewSampler(SamplerOptions{Every: time.Hour, Idle: time.Minute, Log: quiet})
	var skew atomic.Int64 // the test's clock runs ahead of the real one by this much
	s.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	s.Throughput(t.Context(), tg) // wakes the sampler: one sample, then the hour's tick
	samples := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		if tr := s.tracked[tg.key()]; tr != nil {
			return len(tr.samples)
		}
		return -1
	}
	deadline := time.Now().Add(10 * time.Second)
	for samples() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d samples, want the first one", samples())
		}
		time.Sleep(10 * time.Millisecond) // poll interval, bounded by the deadline
	}
	for range 50 {
		if tp, _ := s.Throughput(t.Context(), tg); tp.WindowSeconds != 0 {
			t.Fatalf("answer %+v: a request took a sample", tp)
		}
	}
	if n := samples(); n != 1 {
		t.Fatalf("%d samples after 50 requests, want 1", n)
	}

	// Nobody asks for longer than Idle: the next pass forgets the worker.
	// Another worker's first request wakes that pass.
	skew.Store(int64(2 * time.Minute))
	other := tg
	other.Worker += "-other"
	s.Throughput(t.Context(), other)
	for samples() != -1 {
		if time.Now().After(deadline) {
			t.Fatal("an idle worker is still sampled")
		}
		time.Sleep(10 * time.Millisecond) // poll interval, bounded by the deadline
	}
	cancel()
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tracked) != 0 {
		t.Errorf("after Run: %d workers tracked", len(s.tracked))
	}
}

func TestSamplerReportsAFailedReading(t *testing.T) {
	tg := Target{Worker: "w", Brokers: []string{"127.0.0.1:1"}, Inputs: []string{"in"}, Outputs: []string{"out"}} // nothing listens on port 1
	s := NewSampler(SamplerOptions{Every: 50 * time.Millisecond, Timeout: 300 * time.Millisecond, Log: quiet})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go s.Run(ctx)
	tp := until(t, s, tg, "a warning", func(tp Throughput) bool { return len(tp.Warnings) > 0 })
	if tp.WindowSeconds != 0 || tp.Source != SourceSampler {
		t.Errorf("answer %+v", tp)
	}
}

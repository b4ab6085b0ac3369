package pyfn_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/shared/pyfn"
	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// BenchmarkPythonVsGo runs the same trivial function (the message, as it
// is) in Go and in Python through the whole worker, against the stack's
// broker, in the same run: the rate at which each drains a backlog (from
// its first output to its last), how long each took from its start to its
// first output (the interpreter's start is in Python's), and the latency of
// each record at a steady rate below both ceilings. It prints a table with
// Python's ratio to Go.
//
//	go test -run '^$' -bench PythonVsGo -benchtime 1x ./shared/pyfn
func BenchmarkPythonVsGo(b *testing.B) {
	if _, err := exec.LookPath(pyfn.DefaultPython); err != nil {
		stacktest.Unavailable(b, pyfn.DefaultPython, err)
	}
	const backlog, steady, rate = 100000, 6000, 2000 // messages, messages, messages a second
	goFn := worker.Function{Process: func(_ context.Context, in worker.Input) ([]worker.Record, error) {
		return []worker.Record{{Value: in.Value}}, nil
	}}
	type row struct {
		name      string
		perSecond float64
		first     time.Duration
		p50, p99  time.Duration
	}
	var rows []row
	for range b.N {
		rows = rows[:0]
		for _, lang := range []string{"go", "python"} {
			f := goFn
			if lang == "python" {
				r, err := pyfn.New(pyfn.Options{Module: "testdata/trivial.py", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				f = r.Function()
			}
			drain := benchRun(b, f, backlog, 0)
			lat := benchRun(b, f, steady, rate).latency
			slices.Sort(lat)
			rows = append(rows, row{lang, float64(backlog-1) / drain.last.Sub(drain.first).Seconds(), drain.first.Sub(drain.start),
				lat[len(lat)/2], lat[len(lat)*99/100]})
		}
	}
	fmt.Fprintf(os.Stdout, "\n%-8s %14s %14s %10s %10s   (backlog %d; latency at %d msg/s)\n",
		"function", "drain msg/s", "first output", "p50", "p99", backlog, rate)
	for _, r := range rows {
		fmt.Fprintf(os.Stdout, "%-8s %14.0f %14s %10s %10s\n", r.name, r.perSecond, r.first.Round(time.Millisecond),
			r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond))
	}
	fmt.Fprintf(os.Stdout, "%-8s %13.2fx %13.2fx %9.2fx %9.2fx   (python / go)\n", "ratio", rows[1].perSecond/rows[0].perSecond,
		float64(rows[1].first)/float64(rows[0].first), float64(rows[1].p50)/float64(rows[0].p50), float64(rows[1].p99)/float64(rows[0].p99))
}

// run is what benchRun saw: when the worker started, the timestamps of its
// first and last outputs (set by the worker's writer, so the reader's pace
// does not count; Kafka keeps them to the millisecond), and each record's
// latency, from its input's timestamp to its output's.
type run struct {
	start, first, last time.Time
	latency            []time.Duration
}

// benchRun feeds n messages to a fresh single-input worker running f, all
// before it starts (rate 0) or at rate a second, and waits for every
// output.
func benchRun(b *testing.B, f worker.Function, n, rate int) run {
	cfg, _ := stackConfig(b, []string{"in"}, []string{"out"})
	topic := cfg.TopicsOutput[0]
	var mu sync.Mutex
	sentAt := map[string]time.Time{}
	var msgs []kafka.Message
	for i := range n {
		msgs = append(msgs, kafka.Message{Topic: cfg.TopicsInput[0], Key: fmt.Appendf(nil, "m%d", i),
			Value: fmt.Appendf(nil, `{"id":"m%d","content":{"text":"a short document of a few words"}}`, i)})
	}
	w := &kafka.Writer{Addr: kafka.TCP(cfg.Brokers...), RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 1000}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	send := func(ms []kafka.Message) error {
		mu.Lock()
		now := time.Now()
		for i := range ms {
			ms[i].Time = now
			sentAt[string(ms[i].Key)] = now
		}
		mu.Unlock()
		return w.WriteMessages(ctx, ms...)
	}
	if rate == 0 {
		if err := send(msgs); err != nil {
			b.Fatal(err)
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr})
	defer rdb.Close()
	wk, err := worker.New(cfg, f, rdb, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- wk.Run(ctx) }()
	if rate > 0 {
		go func() {
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			per := rate / 100
			for i := 0; i < n && ctx.Err() == nil; i += per {
				<-tick.C
				_ = send(msgs[i:min(i+per, n)])
			}
		}()
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Brokers, GroupID: topic + "-bench", GroupTopics: []string{topic},
		StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond, SessionTimeout: 6 * time.Second})
	defer r.Close()
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer rcancel()
	out := run{start: start}
	for range n {
		m, err := r.FetchMessage(rctx)
		if err != nil {
			b.Fatalf("read output: %d of %d: %v", len(out.latency), n, err)
		}
		if out.first.IsZero() || m.Time.Before(out.first) {
			out.first = m.Time
		}
		if m.Time.After(out.last) {
			out.last = m.Time
		}
		mu.Lock()
		out.latency = append(out.latency, m.Time.Sub(sentAt[string(m.Key)]))
		mu.Unlock()
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return out
}

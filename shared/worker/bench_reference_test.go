package worker

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

// referenceMain is BenchmarkRuntime's reference loop, run as its own process
// (TRIBUTARY_TEST_CHILD=reference): the least any worker built on kafka-go
// and Redis must do per message, so its rate is the ceiling of the worker's.
// Per batch it writes every message to the output topic through an async
// RequireAll writer and, meanwhile, SETs it in Redis (one pipeline, with a
// TTL, as every join key has); it commits once the writes are acknowledged
// and the pipeline is done. No JSON, no join, no retries: any error ends the
// process with exit code 1. It serves the worker's consumed and emitted
// counters on -http so the benchmark reads both kinds of process alike, and
// stops on SIGTERM after the batch in hand.
func referenceMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("reference", flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := fs.String("brokers", "", "comma-separated Kafka bootstrap servers")
	redisAddr := fs.String("redis", "", "Redis host:port")
	group := fs.String("group", "", "consumer group")
	in := fs.String("topic-input", "", "input topic")
	out := fs.String("topic-output", "", "output topic")
	keyPrefix := fs.String("key-prefix", "", "prefix of the Redis keys written")
	httpAddr := fs.String("http", "127.0.0.1:0", "address of /metrics")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(what string, err error) int {
		fmt.Fprintf(stderr, "reference: %s: %v\n", what, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var consumed, emitted atomic.Int64
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fail("listen", err)
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(rw, "tributary_consumed_total %d\ntributary_emitted_total %d\n", consumed.Load(), emitted.Load())
		}))
	}()

	rdb := redis.NewClient(&redis.Options{Addr: *redisAddr})
	defer rdb.Close()
	// The worker's reader settings, so that the two fetch alike.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: strings.Split(*brokers, ","), GroupID: *group,
		GroupTopics: []string{*in}, StartOffset: kafka.FirstOffset, MinBytes: 1, MaxBytes: 16 << 20,
		MaxWait: 250 * time.Millisecond, SessionTimeout: 6 * time.Second, CommitInterval: 0,
		ErrorLogger: kafka.LoggerFunc(func(f string, a ...any) { fmt.Fprintf(stderr, "reference: kafka reader: "+f+"\n", a...) })})
	defer r.Close()
	var acks sync.WaitGroup // messages of the batch in hand not yet acknowledged
	var writeErr atomic.Pointer[error]
	w := &kafka.Writer{Addr: kafka.TCP(strings.Split(*brokers, ",")...), Topic: *out, RequiredAcks: kafka.RequireAll,
		Async: true, Balancer: &kafka.Hash{}, BatchSize: 1000, BatchBytes: 16 << 20, BatchTimeout: time.Millisecond,
		Completion: func(msgs []kafka.Message, err error) {
			if err != nil {
				writeErr.CompareAndSwap(nil, &err)
			} else {
				emitted.Add(int64(len(msgs)))
			}
			acks.Add(-len(msgs))
		}}
	defer w.Close()

	// The batch in hand is finished on its own context after SIGTERM.
	bg := context.Background()
	for {
		batch, err := referenceFetch(ctx, r)
		if ctx.Err() != nil && len(batch) == 0 {
			return 0
		}
		if err != nil {
			return fail("fetch", err)
		}
		outs := make([]kafka.Message, len(batch))
		pipe := rdb.Pipeline()
		for i, m := range batch {
			outs[i] = kafka.Message{Key: m.Key, Value: m.Value}
			pipe.Set(bg, *keyPrefix+string(m.Key), m.Value, time.Minute)
		}
		acks.Add(len(outs))
		if err := w.WriteMessages(bg, outs...); err != nil {
			return fail("write", err)
		}
		if _, err := pipe.Exec(bg); err != nil {
			return fail("redis", err)
		}
		acks.Wait()
		if err := writeErr.Load(); err != nil {
			return fail("write", *err)
		}
		if err := r.CommitMessages(bg, batch...); err != nil {
			return fail("commit", err)
		}
		consumed.Add(int64(len(batch)))
	}
}

// referenceBatch is the reference loop's batch size: the worker's default
// when the benchmark was written, and fixed here so that the yardstick stays
// the same when the worker's defaults change.
const referenceBatch = 500

// referenceFetch waits for a first message until ctx ends, then takes what
// the reader has buffered, up to referenceBatch, waiting at most a
// millisecond more: a loaded loop gets full batches, a light one answers at
// once.
func referenceFetch(ctx context.Context, r *kafka.Reader) ([]kafka.Message, error) {
	m, err := r.FetchMessage(ctx)
	if err != nil {
		return nil, err
	}
	batch := []kafka.Message{m}
	linger, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	for len(batch) < referenceBatch {
		m, err := r.FetchMessage(linger)
		if err != nil {
			break // linger over, or SIGTERM: handle what we have
		}
		batch = append(batch, m)
	}
	return batch, nil
}

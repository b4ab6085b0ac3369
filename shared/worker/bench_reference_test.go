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
// RequireAll writer and SETs it in Redis (one pipeline, with a TTL, as every
// join key has); it commits the batch once the writes are acknowledged and
// the pipeline is done, batches in order. Up to referenceInFlight batches
// overlap, as in a pipelined worker, so that a worker that overlaps its
// batches cannot pass the ceiling by that alone. No JSON, no join, no
// retries: any error stops the process with exit code 1. It serves the
// worker's consumed and emitted counters on -http so the benchmark reads
// both kinds of process alike, and stops on SIGTERM after the batches in
// hand.
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var firstErr atomic.Pointer[error]
	fail := func(what string, err error) {
		err = fmt.Errorf("reference: %s: %w", what, err)
		if firstErr.CompareAndSwap(nil, &err) {
			stop() // fetch no more
		}
	}

	var consumed, emitted atomic.Int64
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		fmt.Fprintf(stderr, "reference: listen: %v\n", err)
		return 1
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
	w := &kafka.Writer{Addr: kafka.TCP(strings.Split(*brokers, ",")...), Topic: *out, RequiredAcks: kafka.RequireAll,
		Async: true, Balancer: &kafka.Hash{}, BatchSize: 1000, BatchBytes: 16 << 20, BatchTimeout: time.Millisecond,
		Completion: func(msgs []kafka.Message, err error) {
			if err != nil {
				fail("write", err)
			} else {
				emitted.Add(int64(len(msgs)))
			}
			for _, m := range msgs {
				m.WriterData.(*referenceBatch).finish()
			}
		}}

	// Batches in hand are finished after SIGTERM, on their own context.
	bg := context.Background()
	// Batches are committed in the order they were fetched, each once it is
	// done; after an error nothing more is committed. One is at the
	// committer and one may wait to be queued: see referenceInFlight.
	inFlight := make(chan *referenceBatch, referenceInFlight-2)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		for b := range inFlight {
			<-b.done
			if firstErr.Load() != nil {
				continue
			}
			if err := r.CommitMessages(bg, b.msgs...); err != nil {
				fail("commit", err)
				continue
			}
			consumed.Add(int64(len(b.msgs)))
		}
	}()

	for {
		msgs, err := referenceFetch(ctx, r)
		if err != nil {
			if ctx.Err() == nil {
				fail("fetch", err)
			}
			break
		}
		b := &referenceBatch{msgs: msgs, done: make(chan struct{})}
		b.pending.Store(int64(len(msgs)) + 1) // every acknowledgement and the pipeline
		outs := make([]kafka.Message, len(msgs))
		pipe := rdb.Pipeline()
		for i, m := range msgs {
			outs[i] = kafka.Message{Key: m.Key, Value: m.Value, WriterData: b}
			pipe.Set(bg, *keyPrefix+string(m.Key), m.Value, time.Minute)
		}
		if err := w.WriteMessages(bg, outs...); err != nil { // async: only a closed writer or a bad message
			fail("write", err)
			break
		}
		go func() {
			if _, err := pipe.Exec(bg); err != nil {
				fail("redis", err)
			}
			b.finish()
		}()
		inFlight <- b // waits while referenceInFlight batches are not committed
	}
	close(inFlight)
	<-committed
	if err := w.Close(); err != nil {
		fail("close writer", err)
	}
	if err := firstErr.Load(); err != nil {
		fmt.Fprintln(stderr, *err)
		return 1
	}
	return 0
}

// referenceBatch is one batch of the reference loop, done once every output
// is acknowledged and its Redis pipeline has returned.
type referenceBatch struct {
	msgs    []kafka.Message
	pending atomic.Int64  // acknowledgements and pipeline still awaited
	done    chan struct{} // closed when pending reaches 0
}

func (b *referenceBatch) finish() {
	if b.pending.Add(-1) == 0 {
		close(b.done)
	}
}

// referenceInFlight bounds the batches the reference loop has started and
// not yet committed: one being committed, the others queued behind it, and
// one waiting to be queued. A few are enough to keep Redis and the broker
// busy while one waits for its commit.
const referenceInFlight = 4

// referenceBatchSize is the reference loop's batch size: the worker's
// default when the benchmark was written, and fixed here so that the
// yardstick stays the same when the worker's defaults change.
const referenceBatchSize = 500

// referenceFetch waits for a first message until ctx ends, then takes what
// the reader has buffered, up to referenceBatchSize, waiting at most a
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
	for len(batch) < referenceBatchSize {
		m, err := r.FetchMessage(linger)
		if err != nil {
			break // linger over, or SIGTERM: handle what we have
		}
		batch = append(batch, m)
	}
	return batch, nil
}

package worker

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tributary-etl/tributary/shared/join"
	"github.com/tributary-etl/tributary/shared/kafkax"
)

// Worker runs one worker instance. Create it with New, start it with Run.
type Worker struct {
	cfg    Config
	fn     Function
	log    *slog.Logger
	tracer trace.Tracer
	rdb    redis.UniversalClient // nil for a single-input worker without heartbeats
	store  *join.Store           // nil for a single-input worker
	reader *kafka.Reader
	writer *kafka.Writer
	m      *metrics

	spanNames map[string]string // input topic -> "consume <topic>", built once
	nonce     string            // random, per process: with a batch's seq, its join token

	// The pipeline's shared state (see pipeline.go).
	inflight chan struct{} // one token per batch not yet acknowledged
	commits  *tracker
	confirms confirmQueue
	writeCtx context.Context // ends at the shutdown deadline: writes stop retrying

	lastLoop  atomic.Int64 // unix nanos of the last loop turn, for /healthz
	lastError atomic.Pointer[string]
}

// New validates cfg and prepares a worker; it connects to nothing yet.
// tp may be nil (no tracing). rdb may be nil only for a single-input worker.
func New(cfg Config, fn Function, rdb redis.UniversalClient, tp trace.TracerProvider, log *slog.Logger) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if fn.Process == nil && fn.ProcessBatch == nil {
		return nil, errors.New("the function has neither Process nor ProcessBatch")
	}
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	w := &Worker{cfg: cfg, fn: fn, rdb: rdb, tracer: tp.Tracer("github.com/tributary-etl/tributary/shared/worker"),
		log: log.With("worker", cfg.ConsumerName)}
	w.m = newMetrics(w)
	w.nonce = rand.Text()
	w.spanNames = map[string]string{}
	for _, t := range cfg.TopicsInput {
		w.spanNames[t] = "consume " + t
	}
	if len(cfg.TopicsInput) > 1 {
		if rdb == nil {
			return nil, &FieldError{"redis", "a worker with several input topics needs Redis for its join state"}
		}
		store, err := join.New(rdb, join.Options{Worker: cfg.ConsumerName, Topics: cfg.TopicsInput,
			Timeout: cfg.Timeout, TombstoneTTL: cfg.TombstoneTTL, ClaimTimeout: cfg.ClaimTimeout})
		if err != nil {
			return nil, err
		}
		w.store = store
	}
	return w, nil
}

// Run runs the function's Init (an error there is an *InitError, and
// nothing is consumed), then consumes until ctx is cancelled, then stops fetching, finishes the
// batches in hand, waits for their outputs to be acknowledged, commits, and
// closes its connections, all within cfg.ShutdownTimeout. It returns nil
// after a clean stop.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.init(ctx); err != nil {
		return err
	}
	w.reader = kafka.NewReader(kafka.ReaderConfig{
		Brokers:        w.cfg.Brokers,
		GroupID:        w.cfg.ConsumerName,
		GroupTopics:    w.cfg.TopicsInput,
		StartOffset:    kafka.FirstOffset,
		MinBytes:       1,
		MaxBytes:       16 << 20,
		MaxWait:        w.cfg.FetchWait,
		QueueCapacity:  w.cfg.BatchSize,
		SessionTimeout: w.cfg.SessionTimeout,
		// Offsets are committed explicitly, after processing (commit.go).
		CommitInterval:        0,
		WatchPartitionChanges: true,
		ErrorLogger:           kafka.LoggerFunc(func(f string, a ...any) { w.log.Warn("kafka reader: " + fmt.Sprintf(f, a...)) }),
	})
	w.writer = kafkax.NewWriter(w.cfg.Brokers, w.cfg.ProduceLinger)
	w.writer.Async = true
	w.writer.Completion = w.written
	w.inflight = make(chan struct{}, w.cfg.MaxInFlight)
	w.commits = newTracker()
	w.confirms.wake = make(chan struct{}, 1)
	w.lastLoop.Store(time.Now().UnixNano())

	// Everything after ctx ends is bounded by the shutdown timeout.
	hctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(w.cfg.ShutdownTimeout, cancel)
		context.AfterFunc(hctx, func() { t.Stop() })
	})
	defer stop()
	w.writeCtx = hctx

	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	if w.rdb != nil {
		go w.heartbeats(bg)
	}
	go w.watchLag(bg)
	var committer sync.WaitGroup
	committer.Go(func() { w.commitLoop(hctx) })

	w.log.Info("worker started", "topics_input", w.cfg.TopicsInput, "topics_output", w.cfg.TopicsOutput,
		"join", w.store != nil, "instance", w.cfg.Instance, "batch_size", w.cfg.BatchSize,
		"max_in_flight", w.cfg.MaxInFlight)
	err := w.pipeline(ctx, hctx)

	// Shut down: wait for the batches in flight, commit, confirm, close.
	var errs []error
	if werr := w.drain(hctx); werr != nil && err == nil {
		err = werr
	}
	w.commits.close()
	committer.Wait()
	if w.store != nil {
		if cerr := w.flushConfirms(hctx); cerr != nil {
			w.fail("confirm", cerr) // unconfirmed claims are emitted again: duplicates, not losses
		}
	}
	if cerr := w.reader.Close(); cerr != nil {
		errs = append(errs, fmt.Errorf("close reader: %w", cerr))
	}
	if cerr := w.writer.Close(); cerr != nil {
		errs = append(errs, fmt.Errorf("close writer: %w", cerr))
	}
	stopBG()
	if w.rdb != nil {
		w.removeHeartbeat(hctx)
	}
	if err != nil {
		return err
	}
	w.log.Info("worker stopped")
	return errors.Join(errs...)
}

// drain waits until every batch in flight is acknowledged, or ctx ends.
func (w *Worker) drain(ctx context.Context) error {
	for i := 0; i < cap(w.inflight); i++ {
		select {
		case w.inflight <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("%d batches not acknowledged within the shutdown timeout; they will be redelivered", cap(w.inflight)-i)
		}
	}
	return nil
}

// fail records an error for the heartbeat and logs it.
func (w *Worker) fail(what string, err error) {
	s := what + ": " + err.Error()
	w.lastError.Store(&s)
	w.log.Error(what+" failed", "err", err)
}

// metadata is the worker's metadata, "null" when it has none.
func (w *Worker) metadata() json.RawMessage {
	if len(w.cfg.Metadata) == 0 {
		return json.RawMessage("null")
	}
	return w.cfg.Metadata
}

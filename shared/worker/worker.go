package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
	fn     Func
	log    *slog.Logger
	tracer trace.Tracer
	rdb    redis.UniversalClient // nil for a single-input worker without heartbeats
	store  *join.Store           // nil for a single-input worker
	reader *kafka.Reader
	writer *kafka.Writer
	m      *metrics

	lastLoop  atomic.Int64 // unix nanos of the last loop turn, for /healthz
	lastError atomic.Pointer[string]
}

// New validates cfg and prepares a worker; it connects to nothing yet.
// tp may be nil (no tracing). rdb may be nil only for a single-input worker.
func New(cfg Config, fn Func, rdb redis.UniversalClient, tp trace.TracerProvider, log *slog.Logger) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	w := &Worker{cfg: cfg, fn: fn, rdb: rdb, tracer: tp.Tracer("github.com/tributary-etl/tributary/shared/worker"),
		log: log.With("worker", cfg.ConsumerName)}
	w.m = newMetrics(w)
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

// Run consumes until ctx is cancelled, then stops fetching, finishes and
// commits the batch in hand, and closes its connections within
// cfg.ShutdownTimeout. It returns nil after a clean stop.
func (w *Worker) Run(ctx context.Context) error {
	w.reader = kafka.NewReader(kafka.ReaderConfig{
		Brokers:        w.cfg.Brokers,
		GroupID:        w.cfg.ConsumerName,
		GroupTopics:    w.cfg.TopicsInput,
		StartOffset:    kafka.FirstOffset,
		MinBytes:       1,
		MaxBytes:       16 << 20,
		MaxWait:        250 * time.Millisecond,
		SessionTimeout: w.cfg.SessionTimeout,
		// Offsets are committed explicitly, after processing.
		CommitInterval:        0,
		WatchPartitionChanges: true,
		ErrorLogger:           kafka.LoggerFunc(func(f string, a ...any) { w.log.Warn("kafka reader: " + fmt.Sprintf(f, a...)) }),
	})
	w.writer = kafkax.NewWriter(w.cfg.Brokers, 2*time.Millisecond)
	w.lastLoop.Store(time.Now().UnixNano())

	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	if w.rdb != nil {
		go w.heartbeats(bg)
	}
	go w.watchLag(bg)

	w.log.Info("worker started", "topics_input", w.cfg.TopicsInput, "topics_output", w.cfg.TopicsOutput,
		"join", w.store != nil, "instance", w.cfg.Instance)
	err := w.loop(ctx)

	// Shut down: everything below runs on a fresh, bounded context.
	sctx, cancel := context.WithTimeout(context.Background(), w.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := w.reader.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close reader: %w", err))
	}
	if err := w.writer.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close writer: %w", err))
	}
	stopBG()
	if w.rdb != nil {
		w.removeHeartbeat(sctx)
	}
	if err != nil {
		return err
	}
	w.log.Info("worker stopped")
	return errors.Join(errs...)
}

// loop fetches and handles batches until ctx ends. A batch that fails (Redis
// or Kafka unreachable) is retried with backoff, never skipped: its offsets
// are not committed until it succeeds.
func (w *Worker) loop(ctx context.Context) error {
	nextSweep := time.Now()
	for {
		w.lastLoop.Store(time.Now().UnixNano())
		if w.store != nil && !time.Now().Before(nextSweep) {
			// Sweeps run between batches; their failures are retried next time.
			hctx, cancel := context.WithTimeout(context.Background(), w.cfg.ShutdownTimeout)
			w.sweep(hctx)
			cancel()
			nextSweep = time.Now().Add(w.cfg.SweepInterval)
		}
		msgs, err := w.fetch(ctx)
		if ctx.Err() != nil && len(msgs) == 0 {
			return nil
		}
		if err != nil {
			w.fail("fetch", err)
			select { // do not spin on a broker that keeps failing
			case <-time.After(500 * time.Millisecond):
			case <-ctx.Done():
			}
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		// The batch in hand is finished even when ctx is cancelled meanwhile:
		// handling runs on its own context, bounded by the shutdown timeout
		// once ctx ends.
		if err := w.handleUntilDone(ctx, msgs); err != nil {
			return err
		}
	}
}

// handleUntilDone handles one batch, retrying it with backoff on failure.
func (w *Worker) handleUntilDone(ctx context.Context, msgs []kafka.Message) error {
	hctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(w.cfg.ShutdownTimeout, cancel)
		context.AfterFunc(hctx, func() { t.Stop() })
	})
	defer stop()

	backoff := 100 * time.Millisecond
	for {
		err := w.handleBatch(hctx, msgs)
		if err == nil {
			return nil
		}
		if hctx.Err() != nil {
			return fmt.Errorf("batch of %d messages not finished within the shutdown timeout; it will be redelivered: %w", len(msgs), err)
		}
		w.fail("batch", err)
		select {
		case <-time.After(backoff):
		case <-hctx.Done():
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// fetch returns up to BatchSize messages: it waits up to SweepInterval for
// the first, then up to BatchLinger for the rest.
func (w *Worker) fetch(ctx context.Context) ([]kafka.Message, error) {
	first, cancel := context.WithTimeout(ctx, w.cfg.SweepInterval)
	m, err := w.reader.FetchMessage(first)
	cancel()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, nil
		}
		return nil, err
	}
	msgs := []kafka.Message{m}
	linger, cancel := context.WithTimeout(ctx, w.cfg.BatchLinger)
	defer cancel()
	for len(msgs) < w.cfg.BatchSize {
		m, err := w.reader.FetchMessage(linger)
		if err != nil {
			break // linger over, or ctx cancelled: handle what we have
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
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

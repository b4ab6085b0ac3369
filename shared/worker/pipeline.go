package worker

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/shared/join"
)

// The consume loop is a pipeline of three goroutines, so that fetching,
// Redis, the function and Kafka's acknowledgements of successive batches
// overlap:
//
//	fetch ──msgs──▶ join ──batches──▶ emit ──async writes──▶ Kafka
//	                 ▲                                        │ acks
//	                 └── confirms ◀── finish ◀────────────────┘
//	                                    └──▶ tracker ──▶ coalesced commits
//
//   - fetch moves messages from the reader into a buffered channel;
//   - join takes whatever is buffered (up to BatchSize), decodes the join
//     ids, and decides the batch in one Redis pipeline, confirmations of
//     earlier batches riding along; it also runs the sweeps;
//   - emit runs the function on each completed join, in order, and hands
//     the records to the asynchronous writer; join waits for emit to take
//     each batch, so it is at most one batch ahead of the function;
//   - each acknowledged output record is observed by the end-to-end
//     latency histogram (written); when the last record of a batch is
//     acknowledged, finish queues its confirmations and marks it done; the
//     tracker commits, per partition, the highest offset below which every
//     batch is done.
//
// At most MaxInFlight batches are between join and their last ack.

// batch is one unit of work through the pipeline: consumed messages, or the
// claims of a sweep, and what they produced.
type batch struct {
	seq     uint64
	msgs    []kafka.Message // consumed; nil for a sweep
	comps   []completion    // joins ready for the function
	out     []kafka.Message // records to write: dead letters, outputs, expiry records
	sent    []sent          // one per record of out, built by emitBatch
	confirm []string        // completed ids to confirm once out is acknowledged
	expired []join.Expired  // expiry claims to confirm once out is acknowledged
	emitted int             // records of out bound for output topics
	unacked atomic.Int64
}

// sent is what the writer's completion callback needs of one record: its
// batch and, for an output record, the Kafka timestamp (unix nanoseconds)
// of the input record that completed its aggregate. born is 0 for the
// records tributary_latency_seconds leaves out: dead letters, expiry
// records, and outputs of reclaimed joins, whose completing record is not
// at hand. A batch's records share one slice of these, so the callback's
// bookkeeping allocates nothing per record.
type sent struct {
	b    *batch
	born int64
}

// pipeline runs until ctx ends and the batches fetched by then have been
// handed to the writer. Handling runs on hctx, which outlives ctx by the
// shutdown timeout.
func (w *Worker) pipeline(ctx, hctx context.Context) error {
	msgs := make(chan kafka.Message, w.cfg.BatchSize)
	// Join runs at most one batch ahead of the function: a completion is
	// claimed in Redis when joined, and a claim must be confirmed within
	// ClaimTimeout, so claims must not queue up behind a slow function.
	// Acknowledgements of up to MaxInFlight batches still overlap.
	batches := make(chan *batch)
	var wg sync.WaitGroup
	wg.Go(func() { w.fetchLoop(ctx, msgs) })
	wg.Go(func() {
		for b := range batches {
			w.emitBatch(hctx, b)
			w.send(hctx, b)
		}
	})
	err := w.joinLoop(ctx, hctx, msgs, batches)
	close(batches)
	wg.Wait()
	return err
}

// fetchLoop moves messages from the reader to msgs until ctx ends. A broker
// that keeps failing is retried every half second.
func (w *Worker) fetchLoop(ctx context.Context, msgs chan<- kafka.Message) {
	defer close(msgs)
	for {
		m, err := w.reader.FetchMessage(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.fail("fetch", err)
			select {
			case <-time.After(500 * time.Millisecond):
			case <-ctx.Done():
				return
			}
			continue
		}
		msgs <- m
	}
}

// joinLoop turns fetched messages into batches, runs the sweeps, and flushes
// confirmations when no batch comes to carry them. It returns once msgs is
// closed and drained, or with an error when a batch could not be finished
// before the shutdown deadline.
func (w *Worker) joinLoop(ctx, hctx context.Context, msgs <-chan kafka.Message, out chan<- *batch) error {
	sweep := time.NewTicker(w.cfg.SweepInterval)
	defer sweep.Stop()
	var seq uint64
	for {
		w.lastLoop.Store(time.Now().UnixNano())
		var b *batch
		select {
		case m, ok := <-msgs:
			if !ok {
				return nil
			}
			b = &batch{msgs: w.collect(m, msgs)}
		case <-sweep.C:
			if w.store == nil || ctx.Err() != nil {
				continue
			}
			b = w.sweep(hctx)
			if b == nil {
				continue
			}
		case <-w.confirms.wake:
			if err := w.flushConfirms(hctx); err != nil {
				w.fail("confirm", err) // kept queued; retried with the next call
			}
			continue
		}
		select { // a slot in flight: back-pressure from the writer
		case w.inflight <- struct{}{}:
		case <-hctx.Done():
			return fmt.Errorf("no batch acknowledged within the shutdown timeout: %w", hctx.Err())
		}
		seq++
		b.seq = seq
		w.commits.add(b)
		if b.msgs != nil {
			if err := w.joinUntilDone(hctx, b); err != nil {
				return err
			}
		}
		out <- b
	}
}

// collect returns first and whatever else is already buffered, up to
// BatchSize; with a BatchLinger it waits that long for the batch to fill.
// A lightly loaded worker so handles each message at once, and a loaded one
// gets full batches because messages pile up while the previous batch is in
// Redis.
func (w *Worker) collect(first kafka.Message, msgs <-chan kafka.Message) []kafka.Message {
	out := make([]kafka.Message, 1, min(w.cfg.BatchSize, len(msgs)+1))
	out[0] = first
	var linger <-chan time.Time
	if w.cfg.BatchLinger > 0 {
		t := time.NewTimer(w.cfg.BatchLinger)
		defer t.Stop()
		linger = t.C
	}
	for len(out) < w.cfg.BatchSize {
		select {
		case m, ok := <-msgs:
			if !ok {
				return out
			}
			out = append(out, m)
			continue
		default:
		}
		if linger == nil {
			return out
		}
		select {
		case m, ok := <-msgs:
			if !ok {
				return out
			}
			out = append(out, m)
		case <-linger:
			return out
		}
	}
	return out
}

// joinUntilDone decides a batch in Redis, retrying with backoff while Redis
// fails: its offsets are not committed until it succeeds.
func (w *Worker) joinUntilDone(hctx context.Context, b *batch) error {
	backoff := 100 * time.Millisecond
	for {
		err := w.joinBatch(hctx, b)
		if err == nil {
			return nil
		}
		if hctx.Err() != nil {
			return fmt.Errorf("batch of %d messages not finished within the shutdown timeout; it will be redelivered: %w", len(b.msgs), err)
		}
		w.fail("batch", err)
		select {
		case <-time.After(backoff):
		case <-hctx.Done():
		}
		backoff = min(backoff*2, 5*time.Second)
		w.lastLoop.Store(time.Now().UnixNano())
	}
}

// send hands a batch's records to the asynchronous writer; a batch with
// none is finished at once.
func (w *Worker) send(ctx context.Context, b *batch) {
	if len(b.out) == 0 {
		w.finish(b)
		return
	}
	b.unacked.Store(int64(len(b.out)))
	for i := range b.out {
		b.sent[i].b = b
		b.out[i].WriterData = &b.sent[i]
	}
	w.writeAsync(ctx, b.out)
}

// writeAsync queues records on the writer; a refusal there (no metadata for
// a topic yet) is retried like a failed write.
func (w *Worker) writeAsync(ctx context.Context, recs []kafka.Message) {
	if err := w.writer.WriteMessages(ctx, recs...); err != nil {
		w.retryWrite(recs, err)
	}
}

// written is the writer's completion callback: it observes the end-to-end
// latency of acknowledged output records, counts every acknowledged record
// against its batch, and sends failed ones again.
func (w *Worker) written(recs []kafka.Message, err error) {
	if err != nil {
		w.retryWrite(recs, err)
		return
	}
	now := time.Now().UnixNano()
	for _, r := range recs {
		s := r.WriterData.(*sent)
		if s.born > 0 {
			// Clamped: a producer clock ahead of ours is skew, not speed.
			w.m.latency.Observe(float64(max(now-s.born, 0)) / 1e9)
		}
		if s.b.unacked.Add(-1) == 0 {
			w.finish(s.b)
		}
	}
}

// retryWrite sends records again after a pause, until they are acknowledged
// or the shutdown deadline passes; a batch whose records never are is not
// committed, so its messages are redelivered.
func (w *Worker) retryWrite(recs []kafka.Message, err error) {
	w.fail("produce", fmt.Errorf("%d records: %w", len(recs), err))
	go func() {
		select {
		case <-time.After(500 * time.Millisecond):
			w.writeAsync(w.writeCtx, recs)
		case <-w.writeCtx.Done():
		}
	}()
}

// finish is called once every record of b is acknowledged: its
// confirmations are queued for the next Redis call, and its offsets may be
// committed once every earlier batch is finished too.
func (w *Worker) finish(b *batch) {
	w.m.emitted.Add(float64(b.emitted))
	w.confirms.push(b.confirm, b.expired)
	w.commits.done(b)
	<-w.inflight
}

// confirmQueue holds confirmations between the ack of their outputs and
// the next Redis call, which carries them.
type confirmQueue struct {
	mu      sync.Mutex
	ids     []string
	expired []join.Expired
	wake    chan struct{} // signalled when something is queued
}

func (q *confirmQueue) push(ids []string, expired []join.Expired) {
	if len(ids) == 0 && len(expired) == 0 {
		return
	}
	q.mu.Lock()
	q.ids = append(q.ids, ids...)
	q.expired = append(q.expired, expired...)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take empties the queue.
func (q *confirmQueue) take() ([]string, []join.Expired) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ids, expired := q.ids, q.expired
	q.ids, q.expired = nil, nil
	return ids, expired
}

// putBack returns confirmations whose call failed to the queue.
func (q *confirmQueue) putBack(ids []string, expired []join.Expired) {
	q.mu.Lock()
	q.ids = append(ids, q.ids...)
	q.expired = append(expired, q.expired...)
	q.mu.Unlock()
}

// flushConfirms sends the queued confirmations in one Redis call.
func (w *Worker) flushConfirms(ctx context.Context) error {
	ids, expired := w.confirms.take()
	if len(ids) == 0 && len(expired) == 0 {
		return nil
	}
	if _, err := w.store.Apply(ctx, join.Batch{Confirm: ids, Expired: expired}, time.Now()); err != nil {
		w.confirms.putBack(ids, expired)
		return err
	}
	return nil
}

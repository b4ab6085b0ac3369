package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/tributary-etl/tributary/shared/join"
	"github.com/tributary-etl/tributary/shared/kafkax"
	"github.com/tributary-etl/tributary/shared/telemetry"
)

// completion is an aggregate ready for the function: complete, or (for a
// single-input worker) a message on its own.
type completion struct {
	id      string
	frags   []join.Fragment
	ctx     context.Context // the span context the join span continues
	source  *kafka.Message  // the message that completed it; nil when reclaimed
	confirm bool            // confirm in the join store once emitted
}

// handleBatch takes a batch from consumed to committed. It is idempotent:
// when it fails half-way it can run again on the same messages.
func (w *Worker) handleBatch(ctx context.Context, msgs []kafka.Message) error {
	var (
		out   []kafka.Message // outputs and dead letters, written together
		comps []completion
		frags []join.Fragment
		fctx  []context.Context // the consume span context of each fragment
		fsrc  []*kafka.Message
	)
	for i := range msgs {
		m := &msgs[i]
		mctx := telemetry.Propagator.Extract(ctx, kafkax.HeaderCarrier{Headers: &m.Headers})
		mctx, span := w.tracer.Start(mctx, "consume "+m.Topic, trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(
				attribute.String("messaging.system", "kafka"),
				attribute.String("messaging.destination.name", m.Topic),
				attribute.String("messaging.consumer.group.name", w.cfg.ConsumerName),
				attribute.Int("messaging.kafka.destination.partition", m.Partition),
				attribute.Int64("messaging.kafka.message.offset", m.Offset)))
		id, err := joinID(m.Value, w.cfg.JoinKey, w.cfg.MaxMessageBytes)
		if err != nil {
			var ie *InputError
			errors.As(err, &ie)
			span.RecordError(err)
			span.SetStatus(codes.Error, ie.Class)
			span.End()
			out = append(out, w.deadLetter(*m, ie.Class, err))
			w.m.deadLettered.WithLabelValues(ie.Class).Inc()
			w.log.Warn("dead-lettered message", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "class", ie.Class, "err", err)
			continue
		}
		span.SetAttributes(attribute.String("tributary.join.id", id))
		span.End()
		f := join.Fragment{ID: id, Topic: m.Topic, Value: m.Value, TraceParent: traceParent(mctx)}
		if w.store == nil {
			comps = append(comps, completion{id: id, frags: []join.Fragment{f}, ctx: mctx, source: m})
			continue
		}
		frags = append(frags, f)
		fctx = append(fctx, mctx)
		fsrc = append(fsrc, m)
	}

	if len(frags) > 0 {
		start := time.Now()
		results, err := w.store.Add(ctx, frags, time.Now())
		w.m.redisSeconds.Observe(time.Since(start).Seconds())
		if err != nil {
			return fmt.Errorf("join state: %w", err)
		}
		for i, r := range results {
			if r.Status == join.Completed {
				comps = append(comps, completion{id: r.ID, frags: r.Fragments, ctx: fctx[i], source: fsrc[i], confirm: true})
			} else if r.Status == join.Duplicate {
				w.m.duplicates.Inc()
			}
		}
	}

	emitted, confirm := w.emitAll(ctx, comps)
	out = append(out, emitted...)
	if err := w.write(ctx, out); err != nil {
		return err
	}
	if len(confirm) > 0 {
		if err := w.store.Confirm(ctx, confirm, time.Now()); err != nil {
			// The outputs are out; an unconfirmed claim is emitted again
			// after the claim timeout (a duplicate, not a loss).
			w.fail("confirm", err)
		}
	}
	w.m.consumed.Add(float64(len(msgs)))
	return w.commit(ctx, msgs)
}

// emitAll runs the function on each completion and returns the records to
// write, and the ids to confirm once they are written.
func (w *Worker) emitAll(ctx context.Context, comps []completion) (out []kafka.Message, confirm []string) {
	for _, c := range comps {
		out = append(out, w.emit(ctx, c)...)
		if c.confirm {
			confirm = append(confirm, c.id)
		}
	}
	return out, confirm
}

// emit joins, processes and addresses one completion. A failure becomes a
// dead letter; nothing here returns an error.
func (w *Worker) emit(ctx context.Context, c completion) []kafka.Message {
	links := make([]trace.Link, 0, len(c.frags))
	topics := make([]string, 0, len(c.frags))
	for _, f := range c.frags {
		topics = append(topics, f.Topic)
		if sc := spanContextOf(f.TraceParent); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("messaging.destination.name", f.Topic)}})
		}
	}
	jctx, jspan := w.tracer.Start(c.ctx, "join", trace.WithLinks(links...), trace.WithAttributes(
		attribute.String("tributary.join.id", c.id),
		attribute.StringSlice("tributary.join.topics", topics),
		attribute.Bool("tributary.join.reclaimed", c.source == nil)))
	defer jspan.End()
	if w.store != nil {
		w.m.joined.Inc()
	}

	joined, err := join.Merge(c.frags)
	var out json.RawMessage
	if err == nil {
		pctx, pspan := w.tracer.Start(jctx, "process", trace.WithAttributes(attribute.String("tributary.join.id", c.id)))
		out, err = w.call(pctx, joined)
		if err != nil {
			pspan.RecordError(err)
			pspan.SetStatus(codes.Error, errorClass(err))
		}
		pspan.End()
	}
	if err != nil {
		class := errorClass(err)
		jspan.SetStatus(codes.Error, class)
		w.m.deadLettered.WithLabelValues(class).Inc()
		w.log.Warn("dead-lettered aggregate", "join_id", c.id, "class", class, "err", err, "trace_id", jspan.SpanContext().TraceID().String())
		joinedTopics := strings.Join(topics, ",")
		src := kafka.Message{Topic: joinedTopics, Partition: -1, Offset: -1, Key: []byte(c.id)}
		if c.source != nil {
			src = *c.source
			src.Headers = nil
		}
		src.Value = joined
		if src.Value == nil { // the fragments did not merge
			src.Value = c.frags[len(c.frags)-1].Value
		}
		dl := w.deadLetter(src, class, err)
		dl.Headers = append(dl.Headers, kafka.Header{Key: HeaderJoinID, Value: []byte(c.id)},
			kafka.Header{Key: HeaderJoinTopics, Value: []byte(joinedTopics)})
		return []kafka.Message{dl}
	}
	if out == nil || len(w.cfg.TopicsOutput) == 0 {
		w.m.filtered.Inc()
		return nil
	}

	pctx, pspan := w.tracer.Start(jctx, "produce", trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
		attribute.String("messaging.system", "kafka"),
		attribute.StringSlice("tributary.output.topics", w.cfg.TopicsOutput)))
	defer pspan.End()
	var hs []kafka.Header
	telemetry.Propagator.Inject(pctx, kafkax.HeaderCarrier{Headers: &hs})
	recs := make([]kafka.Message, 0, len(w.cfg.TopicsOutput))
	for _, t := range w.cfg.TopicsOutput {
		recs = append(recs, kafka.Message{Topic: t, Key: []byte(c.id), Value: out, Headers: hs})
	}
	w.m.emitted.Add(float64(len(recs)))
	return recs
}

// write sends records and waits for Kafka to acknowledge every one.
func (w *Worker) write(ctx context.Context, msgs []kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := w.writer.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("produce %d records: %w", len(msgs), err)
	}
	return nil
}

// commit commits the batch's offsets. A commit refused because the group
// rebalanced is logged, not retried: the new owner re-reads those messages
// and the join state turns them into duplicates.
func (w *Worker) commit(ctx context.Context, msgs []kafka.Message) error {
	var err error
	for attempt := 0; attempt < w.cfg.CommitRetryLimit; attempt++ {
		if err = w.reader.CommitMessages(ctx, msgs...); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	w.fail("commit", err)
	return nil
}

func traceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	telemetry.Propagator.Inject(ctx, c)
	return c["traceparent"]
}

func spanContextOf(traceparent string) trace.SpanContext {
	if traceparent == "" {
		return trace.SpanContext{}
	}
	ctx := telemetry.Propagator.Extract(context.Background(), propagation.MapCarrier{"traceparent": traceparent})
	return trace.SpanContextFromContext(ctx)
}

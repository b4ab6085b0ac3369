package worker

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
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

// joinBatch decodes a batch's join ids and decides its fragments in one
// Redis call, which also carries the confirmations queued by earlier
// batches. It is idempotent: when it fails it can run again on the same
// messages (the confirmations go back in the queue).
func (w *Worker) joinBatch(ctx context.Context, b *batch) error {
	var (
		frags []join.Fragment
		fctx  []context.Context // the consume span context of each fragment
		fsrc  []*kafka.Message
	)
	b.out, b.comps = b.out[:0], b.comps[:0]
	for i := range b.msgs {
		m := &b.msgs[i]
		mctx, span := w.consumeSpan(ctx, m)
		id, err := joinID(m.Value, w.cfg.JoinKey, w.cfg.MaxMessageBytes)
		if err != nil {
			var ie *InputError
			errors.As(err, &ie)
			span.RecordError(err)
			span.SetStatus(codes.Error, ie.Class)
			span.End()
			b.out = append(b.out, w.deadLetter(*m, ie.Class, err))
			w.m.deadLetteredBy(ie.Class).Inc()
			w.log.Warn("dead-lettered message", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "class", ie.Class, "err", err)
			continue
		}
		if span.IsRecording() {
			span.SetAttributes(attribute.String("tributary.join.id", id))
		}
		span.End()
		f := join.Fragment{ID: id, Topic: m.Topic, Value: m.Value, TraceParent: traceParent(mctx)}
		if w.store == nil {
			b.comps = append(b.comps, completion{id: id, frags: []join.Fragment{f}, ctx: mctx, source: m})
			continue
		}
		frags = append(frags, f)
		fctx = append(fctx, mctx)
		fsrc = append(fsrc, m)
	}
	if w.store == nil {
		w.m.countConsumed(b.msgs)
		return nil
	}

	ids, expired := w.confirms.take()
	start := time.Now()
	results, err := w.store.Apply(ctx, join.Batch{Fragments: frags, Confirm: ids, Expired: expired}, start)
	w.m.redisSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		w.confirms.putBack(ids, expired)
		return fmt.Errorf("join state: %w", err)
	}
	// Counted once decided, so a retried batch is not counted twice (a
	// Prometheus counter cannot go back down).
	w.m.countConsumed(b.msgs)
	for i, r := range results {
		switch r.Status {
		case join.Completed:
			b.comps = append(b.comps, completion{id: r.ID, frags: r.Fragments, ctx: fctx[i], source: fsrc[i], confirm: true})
		case join.Duplicate:
			w.m.duplicates.Inc()
		}
	}
	return nil
}

// consumeSpan starts the span of one consumed message, continuing the
// producer's trace. Its attributes are only built when it records.
func (w *Worker) consumeSpan(ctx context.Context, m *kafka.Message) (context.Context, trace.Span) {
	if len(m.Headers) > 0 {
		ctx = telemetry.Propagator.Extract(ctx, kafkax.HeaderCarrier{Headers: &m.Headers})
	}
	ctx, span := w.tracer.Start(ctx, w.spanNames[m.Topic], trace.WithSpanKind(trace.SpanKindConsumer))
	if span.IsRecording() {
		span.SetAttributes(
			attribute.String("messaging.system", "kafka"),
			attribute.String("messaging.destination.name", m.Topic),
			attribute.String("messaging.consumer.group.name", w.cfg.ConsumerName),
			attribute.Int("messaging.kafka.destination.partition", m.Partition),
			attribute.Int64("messaging.kafka.message.offset", m.Offset))
	}
	return ctx, span
}

// emitBatch runs the function on each of the batch's completions, in order,
// and adds their records to the batch's output, each with the timestamp the
// latency histogram measures it from (see sent).
func (w *Worker) emitBatch(ctx context.Context, b *batch) {
	b.sent = make([]sent, len(b.out), len(b.out)+len(b.comps)*len(w.cfg.TopicsOutput))
	for _, c := range b.comps {
		recs := w.emit(ctx, c)
		born := bornOf(c)
		for _, r := range recs {
			s := sent{}
			if r.Topic != w.cfg.DeadLetter {
				b.emitted++
				s.born = born
			}
			b.sent = append(b.sent, s)
		}
		b.out = append(b.out, recs...)
		if c.confirm {
			b.confirm = append(b.confirm, c.id)
		}
	}
}

// bornOf is the unix-nanosecond Kafka timestamp of the record that
// completed c: for a single-input worker the record itself, for a join the
// fragment that arrived last. It is 0 for a reclaimed join (its completing
// record was consumed by an instance that stopped) and for a record without
// a timestamp.
func bornOf(c completion) int64 {
	if c.source == nil || c.source.Time.IsZero() {
		return 0
	}
	return c.source.Time.UnixNano()
}

// emit joins, processes and addresses one completion. A failure becomes a
// dead letter; nothing here returns an error.
func (w *Worker) emit(ctx context.Context, c completion) []kafka.Message {
	jctx, jspan := w.tracer.Start(c.ctx, "join")
	defer jspan.End()
	if jspan.IsRecording() {
		annotateJoin(jspan, c)
	}
	if w.store != nil {
		w.m.joined.Inc()
	}

	joined, err := join.Merge(c.frags)
	var out json.RawMessage
	if err == nil {
		pctx, pspan := w.tracer.Start(jctx, "process")
		if pspan.IsRecording() {
			pspan.SetAttributes(attribute.String("tributary.join.id", c.id))
		}
		out, err = w.call(pctx, joined)
		if err != nil {
			pspan.RecordError(err)
			pspan.SetStatus(codes.Error, errorClass(err))
		}
		pspan.End()
	}
	if err != nil {
		return []kafka.Message{w.deadLetterJoin(jspan, c, joined, err)}
	}
	if out == nil || len(w.cfg.TopicsOutput) == 0 {
		w.m.filtered.Inc()
		return nil
	}

	pctx, pspan := w.tracer.Start(jctx, "produce", trace.WithSpanKind(trace.SpanKindProducer))
	if pspan.IsRecording() {
		pspan.SetAttributes(attribute.String("messaging.system", "kafka"),
			attribute.StringSlice("tributary.output.topics", w.cfg.TopicsOutput))
	}
	defer pspan.End()
	var hs []kafka.Header
	if tp := traceParent(pctx); tp != "" {
		hs = []kafka.Header{{Key: "traceparent", Value: []byte(tp)}}
	}
	recs := make([]kafka.Message, 0, len(w.cfg.TopicsOutput))
	for _, t := range w.cfg.TopicsOutput {
		recs = append(recs, kafka.Message{Topic: t, Key: []byte(c.id), Value: out, Headers: hs})
	}
	return recs
}

// annotateJoin adds a recording join span's links (one per fragment's
// trace) and attributes.
func annotateJoin(span trace.Span, c completion) {
	topics := make([]string, 0, len(c.frags))
	for _, f := range c.frags {
		topics = append(topics, f.Topic)
		if sc := spanContextOf(f.TraceParent); sc.IsValid() {
			span.AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("messaging.destination.name", f.Topic)}})
		}
	}
	span.SetAttributes(attribute.String("tributary.join.id", c.id),
		attribute.StringSlice("tributary.join.topics", topics),
		attribute.Bool("tributary.join.reclaimed", c.source == nil))
}

// deadLetterJoin is the dead letter of a completion the function could not
// process: the joined message (or the last fragment, when they did not
// merge), with the source message's coordinates when there is one.
func (w *Worker) deadLetterJoin(jspan trace.Span, c completion, joined []byte, err error) kafka.Message {
	class := errorClass(err)
	jspan.SetStatus(codes.Error, class)
	w.m.deadLetteredBy(class).Inc()
	w.log.Warn("dead-lettered aggregate", "join_id", c.id, "class", class, "err", err, "trace_id", jspan.SpanContext().TraceID().String())
	topics := make([]string, len(c.frags))
	for i, f := range c.frags {
		topics[i] = f.Topic
	}
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
	return dl
}

// traceParent is the W3C traceparent of ctx's span, or "" without one;
// formatted directly, as it runs for every fragment.
func traceParent(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	flags := "00"
	if sc.IsSampled() {
		flags = "01"
	}
	return "00-" + hex.EncodeToString(tid[:]) + "-" + hex.EncodeToString(sid[:]) + "-" + flags
}

func spanContextOf(traceparent string) trace.SpanContext {
	if traceparent == "" {
		return trace.SpanContext{}
	}
	ctx := telemetry.Propagator.Extract(context.Background(), kafkax.HeaderCarrier{Headers: &[]kafka.Header{{Key: "traceparent", Value: []byte(traceparent)}}})
	return trace.SpanContextFromContext(ctx)
}

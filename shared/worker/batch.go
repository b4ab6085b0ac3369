package worker

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
	// The token lets a retry of this batch (after a Redis error, some of
	// its buckets applied) get back the joins it completed, rather than
	// leave them to the claim timeout.
	token := w.nonce + "." + strconv.FormatUint(b.seq, 10)
	results, err := w.store.Apply(ctx, join.Batch{Fragments: frags, Confirm: ids, Expired: expired, Token: token}, start)
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
// latency histogram measures it from (see sent). With ProcessBatch the
// function sees the whole batch in one call.
func (w *Worker) emitBatch(ctx context.Context, b *batch) {
	b.sent = make([]sent, len(b.out), len(b.out)+len(b.comps)*len(w.cfg.TopicsOutput))
	if w.fn.ProcessBatch != nil {
		w.emitBatched(ctx, b)
		return
	}
	for _, c := range b.comps {
		st := w.begin(c)
		if st.err == nil {
			pctx, pspan := w.processSpan(st.jctx, c.id)
			st.recs, st.err = w.call(pctx, st.in)
			endSpan(pspan, st.err)
		}
		w.add(b, c, w.address(st, c))
	}
}

// emitBatched is emitBatch with one ProcessBatch call for every completion
// that merged; an item that failed is retried alone. The function handles
// a batch's inputs one after the other, so each process span is placed
// after the previous one and lasts its own Result.Took.
func (w *Worker) emitBatched(ctx context.Context, b *batch) {
	steps := make([]step, len(b.comps))
	ins := make([]Input, 0, len(b.comps))
	idx := make([]int, 0, len(b.comps))
	for i, c := range b.comps {
		steps[i] = w.begin(c)
		if steps[i].err == nil {
			ins = append(ins, steps[i].in)
			idx = append(idx, i)
		}
	}
	if len(ins) > 0 {
		at := time.Now()
		for k, r := range w.callBatch(ctx, ins) {
			st := &steps[idx[k]]
			st.pctx, st.pspan = w.processSpan(st.jctx, b.comps[idx[k]].id, trace.WithTimestamp(at))
			at = at.Add(r.Took)
			end := trace.WithTimestamp(at)
			if r.Err == nil {
				st.recs, st.err = r.Records, w.checkRecords(r.Records)
			} else if !w.retryable(ctx, r.Err, 0) {
				st.err = r.Err
			} else {
				st.recs, st.err = w.call(st.pctx, st.in)
				end = trace.WithTimestamp(time.Now())
			}
			endSpan(st.pspan, st.err, end)
		}
	}
	for i, c := range b.comps {
		w.add(b, c, w.address(steps[i], c))
	}
}

// add appends one completion's records to the batch's output.
func (w *Worker) add(b *batch, c completion, recs []kafka.Message) {
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

// step is one completion on its way through the function: begun (join span,
// merged input), processed (records or an error), then addressed.
type step struct {
	jctx  context.Context
	jspan trace.Span // ended by address
	pctx  context.Context
	pspan trace.Span
	in    Input
	recs  []Record
	err   error
}

// begin starts a completion's join span and merges its fragments into the
// function's input.
func (w *Worker) begin(c completion) step {
	jctx, jspan := w.tracer.Start(c.ctx, "join")
	if jspan.IsRecording() {
		annotateJoin(jspan, c)
	}
	if w.store != nil {
		w.m.joined.Inc()
	}
	joined, err := join.Merge(c.frags)
	st := step{jctx: jctx, jspan: jspan, err: err, in: Input{Value: joined, JoinID: c.id, Topics: w.topicsOf(c.frags)}}
	if c.source != nil {
		st.in.Key = c.source.Key
		st.in.Headers = userHeaders(c.source.Headers)
	}
	return st
}

func (w *Worker) processSpan(ctx context.Context, id string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	pctx, pspan := w.tracer.Start(ctx, "process", opts...)
	if pspan.IsRecording() {
		pspan.SetAttributes(attribute.String("tributary.join.id", id))
	}
	return pctx, pspan
}

func endSpan(span trace.Span, err error, opts ...trace.SpanEndOption) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, errorClass(err))
	}
	span.End(opts...)
}

// topicsOf lists the input topics among frags, in config order. A
// complete join has one fragment of every input topic, so it shares the
// config's list (capped, so that an append copies) rather than allocate.
func (w *Worker) topicsOf(frags []join.Fragment) []string {
	all := w.cfg.TopicsInput
	if len(frags) == len(all) {
		return all[:len(all):len(all)]
	}
	topics := make([]string, 0, len(frags))
	for _, t := range all {
		if slices.ContainsFunc(frags, func(f join.Fragment) bool { return f.Topic == t }) {
			topics = append(topics, t)
		}
	}
	return topics
}

// userHeaders converts a record's headers for the function, leaving out the
// runtime's own; it allocates only when there is one to keep.
func userHeaders(hs []kafka.Header) []Header {
	var out []Header
	for _, h := range hs {
		if !runtimeHeader(h.Key) {
			out = append(out, Header{Key: h.Key, Value: h.Value})
		}
	}
	return out
}

// address turns a processed completion into its Kafka records: each record
// to its topics (all outputs by default) with its key (the join id by
// default) and headers plus the trace context; or one dead letter. It ends
// the join span.
func (w *Worker) address(st step, c completion) []kafka.Message {
	defer st.jspan.End()
	if st.err != nil {
		return []kafka.Message{w.deadLetterJoin(st.jspan, c, st.in.Value, st.err)}
	}
	if len(st.recs) == 0 || len(w.cfg.TopicsOutput) == 0 {
		w.m.filtered.Inc()
		return nil
	}

	pctx, pspan := w.tracer.Start(st.jctx, "produce", trace.WithSpanKind(trace.SpanKindProducer))
	if pspan.IsRecording() {
		pspan.SetAttributes(attribute.String("messaging.system", "kafka"),
			attribute.StringSlice("tributary.output.topics", w.cfg.TopicsOutput),
			attribute.Int("tributary.output.records", len(st.recs)))
	}
	defer pspan.End()
	var tc []kafka.Header // the trace context, shared by records without headers of their own
	if tp := traceParent(pctx); tp != "" {
		tc = []kafka.Header{{Key: "traceparent", Value: []byte(tp)}}
	}
	out := make([]kafka.Message, 0, len(st.recs)*len(w.cfg.TopicsOutput))
	id := []byte(c.id)
	for _, r := range st.recs {
		key := r.Key
		if key == nil {
			key = id
		}
		hs := tc
		if len(r.Headers) > 0 {
			hs = make([]kafka.Header, 0, len(r.Headers)+len(tc))
			for _, h := range r.Headers {
				hs = append(hs, kafka.Header{Key: h.Key, Value: h.Value})
			}
			hs = append(hs, tc...)
		}
		topics := r.Topics
		if topics == nil {
			topics = w.cfg.TopicsOutput
		}
		for _, t := range topics {
			out = append(out, kafka.Message{Topic: t, Key: key, Value: r.Value, Headers: hs})
		}
	}
	return out
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

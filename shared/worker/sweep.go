package worker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/tributary-etl/tributary/shared/join"
	"github.com/tributary-etl/tributary/shared/kafkax"
)

// sweepLimit bounds the claims one sweep hands out.
const sweepLimit = 1000

// sweep takes the joins whose deadline passed: incomplete ones past their
// timeout, and completed ones whose claimer died before confirming them.
// Any instance may sweep; the join store hands each to exactly one. It
// returns them as a batch for the pipeline, or nil when there are none:
// expiry records to publish and reclaimed joins for the function. Both stay
// claimed in Redis until their records are acknowledged, so a crash or a
// long broker outage only delays them.
func (w *Worker) sweep(ctx context.Context) *batch {
	swept, err := w.store.Sweep(ctx, time.Now(), sweepLimit)
	if err != nil {
		w.fail("sweep expired and unconfirmed joins", err) // what was taken is handled below; the rest next time
	}
	if n, err := w.store.Pending(ctx); err == nil {
		w.m.pending.Set(float64(n))
	}
	if len(swept.Expired) == 0 && len(swept.Reclaimed) == 0 {
		return nil
	}
	b := &batch{expired: swept.Expired}
	if len(swept.Expired) > 0 {
		w.m.expired.Add(float64(len(swept.Expired)))
		w.log.Info("expired incomplete joins", "count", len(swept.Expired), "timeout", w.cfg.Timeout)
		for _, e := range swept.Expired { // to the expiry topic, else the dead-letter topic: never dropped
			b.out = append(b.out, w.expiryRecord(ctx, e))
		}
	}
	if len(swept.Reclaimed) > 0 {
		w.log.Warn("emitting joins claimed but never confirmed (an instance stopped mid-batch)", "count", len(swept.Reclaimed))
		for _, r := range swept.Reclaimed {
			b.comps = append(b.comps, completion{id: r.ID, frags: r.Fragments, ctx: ctx, confirm: true})
		}
	}
	return b
}

// expiryRecord is the record of an expired aggregate: what had arrived,
// merged, with headers naming the worker and the topics that had delivered.
func (w *Worker) expiryRecord(ctx context.Context, e join.Expired) kafka.Message {
	topics := make([]string, len(e.Fragments))
	for i, f := range e.Fragments {
		topics[i] = f.Topic
	}
	_, span := w.tracer.Start(ctx, "expire", trace.WithAttributes(
		attribute.String("tributary.join.id", e.ID), attribute.StringSlice("tributary.join.topics", topics)))
	defer span.End()
	value, err := join.Merge(e.Fragments)
	if err != nil {
		value = e.Fragments[len(e.Fragments)-1].Value
	}
	hs := []kafka.Header{
		{Key: HeaderWorker, Value: []byte(w.cfg.ConsumerName)},
		{Key: HeaderExpired, Value: []byte("true")},
		{Key: HeaderJoinID, Value: []byte(e.ID)},
		{Key: HeaderJoinTopics, Value: []byte(strings.Join(topics, ","))},
		{Key: HeaderErrorClass, Value: []byte(ClassExpired)},
		{Key: HeaderErrorMessage, Value: []byte(fmt.Sprintf("join of %q timed out after %s with fragments from %s only",
			e.ID, w.cfg.Timeout, strings.Join(topics, ", ")))},
	}
	if len(e.Fragments) > 0 {
		if sc := spanContextOf(e.Fragments[0].TraceParent); sc.IsValid() {
			hs = kafkax.SetHeader(hs, "traceparent", e.Fragments[0].TraceParent)
		}
	}
	topic := w.cfg.ExpiryTopic
	if topic == "" {
		topic = w.cfg.DeadLetter
	}
	return kafka.Message{Topic: topic, Key: []byte(e.ID), Value: value, Headers: hs}
}

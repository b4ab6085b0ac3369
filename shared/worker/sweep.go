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

// sweepLimit bounds the aggregates one sweep hands out.
const sweepLimit = 1000

// sweep expires incomplete aggregates past their timeout and emits again
// aggregates whose claimer died before confirming them. Any instance may
// sweep; the join store hands each aggregate to exactly one of them.
func (w *Worker) sweep(ctx context.Context) {
	now := time.Now()
	expired, err := w.store.Reap(ctx, now, sweepLimit)
	if err != nil {
		w.fail("reap expired joins", err)
	}
	if len(expired) > 0 {
		w.m.expired.Add(float64(len(expired)))
		w.log.Info("expired incomplete joins", "count", len(expired), "timeout", w.cfg.Timeout)
		{ // to the expiry topic, else the dead-letter topic: never dropped
			msgs := make([]kafka.Message, 0, len(expired))
			for _, e := range expired {
				msgs = append(msgs, w.expiryRecord(ctx, e))
			}
			// Reaped state is gone from Redis: retry the write until it is
			// acknowledged or the context ends.
			for err := w.write(ctx, msgs); err != nil; err = w.write(ctx, msgs) {
				w.fail("publish expired joins", err)
				if ctx.Err() != nil {
					break
				}
				time.Sleep(200 * time.Millisecond) // retry pause, bounded by ctx
			}
		}
	}

	reclaimed, err := w.store.Reclaim(ctx, now, sweepLimit)
	if err != nil {
		w.fail("reclaim unconfirmed joins", err)
	}
	if len(reclaimed) > 0 {
		w.log.Warn("emitting joins claimed but never confirmed (an instance stopped mid-batch)", "count", len(reclaimed))
		comps := make([]completion, 0, len(reclaimed))
		for _, r := range reclaimed {
			comps = append(comps, completion{id: r.ID, frags: r.Fragments, ctx: ctx, confirm: true})
		}
		out, confirm := w.emitAll(ctx, comps)
		if err := w.write(ctx, out); err != nil {
			w.fail("emit reclaimed joins", err) // claims stay; swept again later
			return
		}
		if err := w.store.Confirm(ctx, confirm, time.Now()); err != nil {
			w.fail("confirm reclaimed joins", err)
		}
	}

	if n, err := w.store.Pending(ctx); err == nil {
		w.m.pending.Set(float64(n))
	}
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

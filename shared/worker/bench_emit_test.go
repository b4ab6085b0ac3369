package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tributary-etl/tributary/shared/join"
)

// BenchmarkEmit measures the function stage alone, in process, with no
// broker or Redis: one batch of 500 completed 2-topic joins through
// emitBatch (merge, the identity function, addressing the records), with
// tracing off. It isolates what BenchmarkRuntime's figures blur on a shared
// machine: the CPU time and allocations of the runtime's own per-message
// path (go test -bench Emit -benchmem ./shared/worker).
func BenchmarkEmit(b *testing.B) {
	cfg := Config{ConsumerName: "x", TopicsInput: []string{"a", "b"}, TopicsOutput: []string{"o"}, Brokers: []string{"x:1"}, RedisAddr: "x:1"}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	w := &Worker{cfg: cfg, fn: passthrough, tracer: noop.NewTracerProvider().Tracer(""), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	w.m = newMetrics(w)
	comps := make([]completion, 500)
	for i := range comps {
		id := fmt.Sprint(i)
		src := &kafka.Message{Topic: "b", Key: []byte(id), Time: time.Now(), Headers: []kafka.Header{{Key: "traceparent", Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")}}}
		comps[i] = completion{id: id, ctx: context.Background(), source: src, confirm: true, frags: []join.Fragment{
			{ID: id, Topic: "a", Value: []byte(`{"id":"` + id + `","source":"a","content":{"text":"hello world","n":1}}`)},
			{ID: id, Topic: "b", Value: []byte(`{"id":"` + id + `","source":"b","content":{"lang":"en"}}`)}}}
	}
	b.ReportAllocs()
	for b.Loop() {
		bt := &batch{comps: comps}
		w.emitBatch(context.Background(), bt)
	}
}

package kafkax

import (
	"context"
	"testing"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func TestSetHeaderReplacesAndDeduplicates(t *testing.T) {
	hs := []kafka.Header{{Key: "a", Value: []byte("1")}, {Key: "traceparent", Value: []byte("old")}, {Key: "traceparent", Value: []byte("older")}}
	got := SetHeader(hs, "traceparent", "new")
	if len(got) != 2 || Header(got, "traceparent") != "new" || Header(got, "a") != "1" {
		t.Fatalf("SetHeader = %v", got)
	}
	if got := SetHeader(nil, "k", "v"); len(got) != 1 || Header(got, "k") != "v" {
		t.Fatalf("SetHeader on empty = %v", got)
	}
	// The input slice is not modified.
	if string(hs[1].Value) != "old" {
		t.Fatalf("input changed: %v", hs)
	}
}

func TestCarrierRoundTripsTraceContext(t *testing.T) {
	prop := propagation.TraceContext{}
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)

	hs := []kafka.Header{{Key: "traceparent", Value: []byte("00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01")}}
	prop.Inject(ctx, HeaderCarrier{&hs})
	n := 0
	for _, h := range hs {
		if h.Key == "traceparent" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d traceparent headers after inject, want 1: %v", n, hs)
	}
	got := trace.SpanContextFromContext(prop.Extract(context.Background(), HeaderCarrier{&hs}))
	if got.TraceID() != tid || got.SpanID() != sid || !got.IsSampled() {
		t.Fatalf("extracted %v, want trace %s span %s sampled", got, tid, sid)
	}
}

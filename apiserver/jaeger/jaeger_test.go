package jaeger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

// sent is what sendTrace exported.
type sent struct {
	upstream, join, process trace.SpanContext
}

// sendTrace exports, as service, the spans a worker makes for one
// aggregate: a "join" span linked to an upstream span of another trace, and
// its child "process" span, which fails. Spans are exported synchronously
// and flushed before it returns.
func sendTrace(t *testing.T, service string) sent {
	t.Helper()
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(stacktest.OTLPEndpoint()+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service), semconv.ServiceInstanceID("alloc-1"))))
	tr := tp.Tracer("github.com/tributary-etl/tributary/shared/worker")
	_, up := tr.Start(ctx, "produce documents.raw")
	up.End()
	jctx, j := tr.Start(ctx, "join", trace.WithLinks(trace.Link{SpanContext: up.SpanContext()}),
		trace.WithAttributes(attribute.String("tributary.join.id", "doc-42"), attribute.Int("tributary.join.fragments", 2)))
	_, p := tr.Start(jctx, "process", trace.WithAttributes(attribute.Bool("tributary.retry", false)))
	p.SetStatus(codes.Error, "content.text is not a string")
	p.End()
	j.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return sent{up.SpanContext(), j.SpanContext(), p.SpanContext()}
}

// waitTraces polls the search until it returns want traces (Jaeger stores
// spans asynchronously), failing after a bounded wait.
func waitTraces(t *testing.T, c Client, service string, want int) []Trace {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ts, err := c.Traces(context.Background(), service, 10, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) >= want {
			return ts
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d traces of %s after 30s, want %d", len(ts), service, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestTracesOfAService(t *testing.T) {
	c := Client{Base: stacktest.Jaeger(t)}
	service := stacktest.Name(t, "svc")
	s := sendTrace(t, service)
	ts := waitTraces(t, c, service, 2)
	if len(ts) != 2 {
		t.Fatalf("%d traces, want the upstream's and the join's", len(ts))
	}
	ids := map[string]Trace{}
	for _, tr := range ts {
		ids[tr.TraceID] = tr
	}
	tr, ok := ids[s.join.TraceID().String()]
	if !ok || len(tr.Spans) != 2 {
		t.Fatalf("traces %+v, want %s with 2 spans", ts, s.join.TraceID())
	}
	if !start(ts[0]).After(start(ts[1])) && !start(ts[0]).Equal(start(ts[1])) {
		t.Errorf("not newest first: %v then %v", start(ts[0]), start(ts[1]))
	}
	j, p := tr.Spans[0], tr.Spans[1] // by start time: join first
	if j.Operation != "join" || p.Operation != "process" {
		t.Fatalf("spans %+v", tr.Spans)
	}
	if j.SpanID != s.join.SpanID().String() || j.ParentSpanID != "" || p.ParentSpanID != j.SpanID {
		t.Errorf("join %s (parent %q), process's parent %q", j.SpanID, j.ParentSpanID, p.ParentSpanID)
	}
	if len(j.Links) != 1 || j.Links[0] != (Link{s.upstream.TraceID().String(), s.upstream.SpanID().String()}) {
		t.Errorf("join's links %+v, want the upstream span", j.Links)
	}
	if len(p.Links) != 0 {
		t.Errorf("process's links %+v: its parent is not a link", p.Links)
	}
	if j.Attributes["tributary.join.id"] != "doc-42" || fmt.Sprint(j.Attributes["tributary.join.fragments"]) != "2" ||
		p.Attributes["tributary.retry"] != false {
		t.Errorf("attributes: join %v, process %v", j.Attributes, p.Attributes)
	}
	if j.Status != "ok" || p.Status != "error" {
		t.Errorf("status: join %s, process %s", j.Status, p.Status)
	}
	if j.Service != service || j.Start.IsZero() || j.DurationUS < p.DurationUS || p.Start.Before(j.Start) {
		t.Errorf("join %+v process %+v", j, p)
	}

	one, err := c.Trace(context.Background(), s.join.TraceID().String())
	if err != nil || len(one.Spans) != 2 || one.Spans[1].ParentSpanID != one.Spans[0].SpanID {
		t.Errorf("Trace: %+v (%v)", one, err)
	}
	if _, err := c.Trace(context.Background(), strings.Repeat("ab", 16)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown trace: %v, want ErrNotFound", err)
	}
	if ts, err := c.Traces(context.Background(), service+"-nobody", 10, time.Hour); err != nil || len(ts) != 0 {
		t.Errorf("unknown service: %+v (%v), want none", ts, err)
	}
}

func TestJaegerDown(t *testing.T) {
	c := Client{Base: "http://127.0.0.1:1"}
	if _, err := c.Trace(context.Background(), strings.Repeat("a", 32)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Trace: %v, want ErrUnavailable", err)
	}
	if _, err := c.Traces(context.Background(), "x", 1, time.Hour); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Traces: %v, want ErrUnavailable", err)
	}
}

package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestTracesFromJaeger sends spans to the real Jaeger as a worker would
// (service name = the worker's name) and reads them back through the API.
func TestTracesFromJaeger(t *testing.T) {
	query := stacktest.Jaeger(t)
	e := newEnv(t, func(c *config.Config) { c.JaegerQueryURL = query; c.JaegerUIURL = "http://jaeger.example:16686" }).withUsers()
	name := stacktest.Name(t, "tr")
	w := e.wkCreate(fmt.Sprintf(`{"name":%q,"input_topics":["a","b"],"kafka_bootstrap_server":"127.0.0.1:9092"}`, name))

	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(stacktest.OTLPEndpoint()+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(name))))
	tr := tp.Tracer("test")
	_, upstream := tr.Start(ctx, "produce documents.raw") // another trace, linked from the join
	upstream.End()
	jctx, join := tr.Start(ctx, "join", trace.WithLinks(trace.Link{SpanContext: upstream.SpanContext()}),
		trace.WithAttributes(attribute.String("tributary.join.id", "doc-42")))
	_, process := tr.Start(jctx, "process", trace.WithAttributes(attribute.Int("tributary.batch", 3)))
	process.End()
	join.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	id := join.SpanContext().TraceID().String()

	var list []traceSummaryJSON
	deadline := time.Now().Add(30 * time.Second)
	for {
		list = nil
		e.do("GET", fmt.Sprintf("/api/v1/workers/%d/traces?limit=10&lookback=15m", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&list)
		if len(list) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	var summary *traceSummaryJSON
	for i := range list {
		if list[i].TraceID == id {
			summary = &list[i]
		}
	}
	if summary == nil || summary.SpanCount != 2 || summary.RootOperation != name+": join" || summary.JaegerURL != "http://jaeger.example:16686/trace/"+id {
		t.Fatalf("traces of the worker %+v, want trace %s with 2 spans", list, id)
	}

	var got traceJSON
	e.do("GET", "/api/v1/traces/"+id, e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
	spans := map[string]int{}
	for i, sp := range got.Spans {
		spans[sp.Operation] = i
		if sp.Service != name {
			t.Errorf("span %s has service %q", sp.Operation, sp.Service)
		}
	}
	j, p := got.Spans[spans["join"]], got.Spans[spans["process"]]
	if p.ParentSpanID != j.SpanID || j.ParentSpanID != "" {
		t.Errorf("process's parent %q, join's span %q (join's parent %q)", p.ParentSpanID, j.SpanID, j.ParentSpanID)
	}
	if len(j.Links) != 1 || j.Links[0].SpanID != upstream.SpanContext().SpanID().String() || j.Links[0].TraceID != upstream.SpanContext().TraceID().String() {
		t.Errorf("join's links %+v, want the upstream span", j.Links)
	}
	if j.Attributes["tributary.join.id"] != "doc-42" || fmt.Sprint(p.Attributes["tributary.batch"]) != "3" {
		t.Errorf("attributes join %v process %v", j.Attributes, p.Attributes)
	}
	if p.DurationUS < 0 || p.Start.IsZero() || got.JaegerURL == "" {
		t.Errorf("process span %+v", p)
	}

	e.do("GET", "/api/v1/traces/"+strings.Repeat("ab", 16), e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)
}

func TestTraceParamsRefused(t *testing.T) {
	e := newEnv(t).withUsers()
	w := e.wkCreate(`{"name":"w","input_topics":["a"],"kafka_bootstrap_server":"127.0.0.1:9092"}`)
	cases := []struct{ path, field string }{
		{fmt.Sprintf("/api/v1/workers/%d/traces?limit=0", w.ID), "limit"},
		{fmt.Sprintf("/api/v1/workers/%d/traces?limit=101", w.ID), "limit"},
		{fmt.Sprintf("/api/v1/workers/%d/traces?limit=ten", w.ID), "limit"},
		{fmt.Sprintf("/api/v1/workers/%d/traces?lookback=30s", w.ID), "lookback"},
		{fmt.Sprintf("/api/v1/workers/%d/traces?lookback=8d", w.ID), "lookback"},
		{"/api/v1/traces/xyz", "trace_id"},
		{"/api/v1/traces/" + strings.Repeat("A", 32), "trace_id"},
		{"/api/v1/traces/" + strings.Repeat("a", 33), "trace_id"},
	}
	for _, tc := range cases {
		if got := e.do("GET", tc.path, e.tokens[apiserver.RoleViewer], "").want(422).errorOf(); got.Field != tc.field {
			t.Errorf("%s: field %q, want %q", tc.path, got.Field, tc.field)
		}
	}
	// Jaeger down: 503 that says so.
	down := newEnv(t, func(c *config.Config) { c.JaegerQueryURL = "http://127.0.0.1:1" }).withUsers()
	if got := down.do("GET", "/api/v1/traces/"+strings.Repeat("a", 32), down.tokens[apiserver.RoleViewer], "").want(503).errorOf(); !strings.Contains(got.Message, "Jaeger") {
		t.Errorf("Jaeger down: %q", got.Message)
	}
}

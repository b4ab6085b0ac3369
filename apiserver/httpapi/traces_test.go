package httpapi

import (
	"context"
	"fmt"
	"net/http"
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

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// trSpans is what trSend exported.
type trSpans struct{ upstream, join, process trace.SpanContext }

// trSend exports spans to the real Jaeger as a worker's runtime would:
// service name = the worker's consumer_name, a "join" span linked to an
// upstream span of another trace, and its child "process" span, which
// fails. Export is synchronous and flushed before it returns.
func trSend(t *testing.T, service string) trSpans {
	t.Helper()
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(stacktest.OTLPEndpoint()+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))))
	tr := tp.Tracer("github.com/tributary-etl/tributary/shared/worker")
	_, upstream := tr.Start(ctx, "produce documents.raw")
	upstream.End()
	jctx, join := tr.Start(ctx, "join", trace.WithLinks(trace.Link{SpanContext: upstream.SpanContext()}),
		trace.WithAttributes(attribute.String("tributary.join.id", "doc-42")))
	_, process := tr.Start(jctx, "process", trace.WithAttributes(attribute.Int("tributary.batch", 3)))
	process.SetStatus(codes.Error, "content.text is not a string")
	process.End()
	join.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return trSpans{upstream.SpanContext(), join.SpanContext(), process.SpanContext()}
}

// trList polls the worker's traces until there are want of them holding
// wantSpans spans in all (Jaeger stores spans asynchronously, and the spans
// of one trace may arrive in separate batches), for at most 30 seconds.
func trList(e *env, id int64, want, wantSpans int) []traceSummaryJSON {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list []traceSummaryJSON
		e.do("GET", fmt.Sprintf("/api/v1/workers/%d/traces?limit=10&lookback=15m", id), e.tokens[apiserver.RoleViewer], "").
			want(http.StatusOK).decode(&list)
		spans := 0
		for _, tr := range list {
			spans += tr.SpanCount
		}
		if (len(list) >= want && spans >= wantSpans) || time.Now().After(deadline) {
			return list
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestTracesFromJaeger(t *testing.T) {
	query := stacktest.Jaeger(t)
	e := newEnv(t, func(c *config.Config) { c.JaegerQueryURL = query; c.JaegerUIURL = "http://jaeger.example:16686" }).withUsers()
	name := stacktest.Name(t, "tr")
	id := mnWorker(e, name, []string{"a", "b"}, nil, "127.0.0.1:9092")
	sent := trSend(t, name)
	traceID := sent.join.TraceID().String()

	list := trList(e, id, 2, 3) // the upstream trace (1 span) and the join (join + process)
	var summary *traceSummaryJSON
	for i := range list {
		if list[i].TraceID == traceID {
			summary = &list[i]
		}
	}
	if len(list) != 2 || summary == nil {
		t.Fatalf("traces of the worker %+v, want 2 with %s", list, traceID)
	}
	if summary.SpanCount != 2 || summary.RootOperation != name+": join" || summary.Errors != 1 ||
		len(summary.Services) != 1 || summary.Services[0] != name || summary.DurationUS < 0 ||
		summary.JaegerURL != "http://jaeger.example:16686/trace/"+traceID {
		t.Errorf("summary %+v", summary)
	}

	var got traceJSON
	e.do("GET", "/api/v1/traces/"+traceID, e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
	if len(got.Spans) != 2 || got.Spans[0].Operation != "join" || got.Spans[1].Operation != "process" {
		t.Fatalf("spans %+v, want join then process", got.Spans)
	}
	j, p := got.Spans[0], got.Spans[1]
	if j.SpanID != sent.join.SpanID().String() || j.ParentSpanID != "" || p.ParentSpanID != j.SpanID {
		t.Errorf("join %s (parent %q), process's parent %q", j.SpanID, j.ParentSpanID, p.ParentSpanID)
	}
	if len(j.Links) != 1 || j.Links[0].SpanID != sent.upstream.SpanID().String() || j.Links[0].TraceID != sent.upstream.TraceID().String() {
		t.Errorf("join's links %+v, want the upstream span", j.Links)
	}
	if j.Attributes["tributary.join.id"] != "doc-42" || fmt.Sprint(p.Attributes["tributary.batch"]) != "3" {
		t.Errorf("attributes join %v process %v", j.Attributes, p.Attributes)
	}
	if j.Status != "ok" || p.Status != "error" || j.Service != name || p.Start.Before(j.Start) {
		t.Errorf("join %+v process %+v", j, p)
	}
	if got.TraceID != traceID || got.JaegerURL != "http://jaeger.example:16686/trace/"+traceID {
		t.Errorf("trace %s at %s", got.TraceID, got.JaegerURL)
	}
	// Upper-case hex is the same id.
	e.do("GET", "/api/v1/traces/"+strings.ToUpper(traceID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK)

	for _, unknown := range []string{strings.Repeat("ab", 16), strings.Repeat("0f", 8)} {
		e.do("GET", "/api/v1/traces/"+unknown, e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)
	}
	// A worker without spans has no traces; an unknown worker is a 404.
	quiet := mnWorker(e, name+"-quiet", []string{"a"}, nil, "127.0.0.1:9092")
	if l := trList(e, quiet, 0, 0); len(l) != 0 {
		t.Errorf("quiet worker's traces %+v", l)
	}
	e.do("GET", "/api/v1/workers/999/traces", e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)
	e.do("GET", "/api/v1/traces/"+traceID, "", "").want(http.StatusUnauthorized)
}

func TestTraceParamsRefused(t *testing.T) {
	query := stacktest.Jaeger(t)
	e := newEnv(t, func(c *config.Config) { c.JaegerQueryURL = query }).withUsers()
	id := mnWorker(e, "w", []string{"a"}, nil, "127.0.0.1:9092")
	traces := fmt.Sprintf("/api/v1/workers/%d/traces", id)
	cases := []struct{ path, field string }{
		{traces + "?limit=0", "limit"},
		{traces + "?limit=101", "limit"},
		{traces + "?limit=ten", "limit"},
		{traces + "?limit=", "limit"},
		{traces + "?lookback=30s", "lookback"},
		{traces + "?lookback=8d", "lookback"},
		{traces + "?lookback=169h", "lookback"},
		{traces + "?lookback=1.5d", "lookback"},
		{traces + "?lookback=soon", "lookback"},
		{"/api/v1/traces/xyz", "trace_id"},
		{"/api/v1/traces/" + strings.Repeat("g", 32), "trace_id"},
		{"/api/v1/traces/" + strings.Repeat("a", 33), "trace_id"},
		{"/api/v1/traces/" + strings.Repeat("a", 15), "trace_id"},
	}
	for _, tc := range cases {
		if got := e.do("GET", tc.path, e.tokens[apiserver.RoleViewer], "").want(422).errorOf(); got.Field != tc.field {
			t.Errorf("%s: field %q, want %q", tc.path, got.Field, tc.field)
		}
	}
	// The bounds themselves are accepted.
	for _, q := range []string{"?limit=1&lookback=1m", "?limit=100&lookback=7d", "?lookback=168h", ""} {
		e.do("GET", traces+q, e.tokens[apiserver.RoleViewer], "").want(http.StatusOK)
	}

	// Jaeger down: 503 that says so.
	down := newEnv(t, func(c *config.Config) { c.JaegerQueryURL = "http://127.0.0.1:1" }).withUsers()
	downID := mnWorker(down, "w", []string{"a"}, nil, "127.0.0.1:9092")
	for _, path := range []string{"/api/v1/traces/" + strings.Repeat("a", 32), fmt.Sprintf("/api/v1/workers/%d/traces", downID)} {
		if got := down.do("GET", path, down.tokens[apiserver.RoleViewer], "").want(503).errorOf(); !strings.Contains(got.Message, "Jaeger") {
			t.Errorf("%s with Jaeger down: %q", path, got.Message)
		}
	}
}

// TestTraceURLOnlyWithJaegerUI: a trace links to Jaeger v2's page of it
// only when an external Jaeger UI is configured.
func TestTraceURLOnlyWithJaegerUI(t *testing.T) {
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, tc := range []struct{ ui, want string }{
		{"", ""},
		{"https://jaeger.example", "https://jaeger.example/trace/" + id},
	} {
		s := &Server{cfg: config.Config{JaegerQueryURL: "http://127.0.0.1:16686", JaegerUIURL: tc.ui}}
		if got := s.traceURL(id); got != tc.want {
			t.Errorf("UI %q: traceURL = %q, want %q", tc.ui, got, tc.want)
		}
	}
}

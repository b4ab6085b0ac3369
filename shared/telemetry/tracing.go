// Package telemetry sets up OpenTelemetry tracing for a Tributary binary.
package telemetry

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Propagator is the W3C trace-context propagator every Tributary stage uses
// for Kafka headers.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Tracing is a configured tracer provider and its shutdown.
type Tracing struct {
	Provider trace.TracerProvider
	// Shutdown flushes spans still buffered and stops the exporter.
	Shutdown func(context.Context) error
}

// SetupTracing exports spans over OTLP/HTTP to endpoint (for example
// http://127.0.0.1:4318) in batches, as service, with the given extra
// resource attributes. An empty endpoint turns tracing off cleanly: a no-op
// provider, nothing exported, nothing to flush.
func SetupTracing(ctx context.Context, endpoint, service, version, instance string) (*Tracing, error) {
	if endpoint == "" {
		return &Tracing{Provider: noop.NewTracerProvider(), Shutdown: func(context.Context) error { return nil }}, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint+"/v1/traces"))
	if err != nil {
		return nil, fmt.Errorf("otlp exporter for %s: %w", endpoint, err)
	}
	host, _ := os.Hostname()
	res := resource.NewSchemaless(
		semconv.ServiceName(service),
		semconv.ServiceVersion(version),
		semconv.ServiceInstanceID(instance),
		semconv.HostName(host),
	)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTextMapPropagator(Propagator)
	return &Tracing{Provider: tp, Shutdown: tp.Shutdown}, nil
}

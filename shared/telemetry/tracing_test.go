package telemetry

import (
	"context"
	"testing"
)

// Head sampling follows the standard OTEL_TRACES_SAMPLER variables, so an
// operator turns a hot worker's tracing down without a flag of ours; a span
// that is not sampled does not record (the runtime then builds no
// attributes for it).
func TestSamplerFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		sampler, arg string
		recording    bool
	}{
		{"", "", true}, // the SDK's default: parentbased_always_on
		{"always_off", "", false},
		{"parentbased_traceidratio", "0", false},
		{"traceidratio", "1", true},
	} {
		t.Run(tc.sampler+tc.arg, func(t *testing.T) {
			t.Setenv("OTEL_TRACES_SAMPLER", tc.sampler)
			t.Setenv("OTEL_TRACES_SAMPLER_ARG", tc.arg)
			// Nothing listens there: spans are only buffered, never sent.
			tr, err := SetupTracing(context.Background(), "http://127.0.0.1:9", "svc", "v1", "i1")
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tr.Shutdown(context.Background()) }()
			_, span := tr.Provider.Tracer("test").Start(context.Background(), "x")
			defer span.End()
			if span.IsRecording() != tc.recording {
				t.Fatalf("OTEL_TRACES_SAMPLER=%q ARG=%q: recording %v, want %v", tc.sampler, tc.arg, span.IsRecording(), tc.recording)
			}
		})
	}
}

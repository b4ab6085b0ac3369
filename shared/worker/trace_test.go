package worker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tributary-etl/tributary/shared/kafkax"
	"github.com/tributary-etl/tributary/shared/telemetry"
)

// A trace started by a producer continues through two chained workers: a
// 2-topic join (whose join span links both fragments) and a single-input
// worker that consumes the join's output.
func TestTraceFollowsMessageThroughTwoWorkers(t *testing.T) {
	e := newEnv(t)
	in1, in2, mid, out := e.topic("left"), e.topic("right"), e.topic("mid"), e.topic("out")
	e.createTopics(1, in1, in2, mid, out)

	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())

	e.start(e.config("joiner", []string{in1, in2}, []string{mid}), passthrough, tp)
	e.start(e.config("after", []string{mid}, []string{out}), passthrough, tp)

	// Each fragment comes from its own producer trace.
	producer := tp.Tracer("producer")
	ctx1, p1 := producer.Start(context.Background(), "produce left", trace.WithSpanKind(trace.SpanKindProducer))
	ctx2, p2 := producer.Start(context.Background(), "produce right", trace.WithSpanKind(trace.SpanKindProducer))
	m1 := kafka.Message{Topic: in1, Value: []byte(`{"id":"t1","a":1}`)}
	m2 := kafka.Message{Topic: in2, Value: []byte(`{"id":"t1","b":2}`)}
	telemetry.Propagator.Inject(ctx1, kafkax.HeaderCarrier{Headers: &m1.Headers})
	telemetry.Propagator.Inject(ctx2, kafkax.HeaderCarrier{Headers: &m2.Headers})
	p1.End()
	p2.End()
	e.produce([]kafka.Message{m1}, false)
	// The second fragment completes the join, so the join continues its trace.
	waitFor(t, 30*time.Second, "the first fragment consumed", func() bool { return spanNamed(exp, "consume "+in1) != nil })
	e.produce([]kafka.Message{m2}, false)

	got := e.consume(out, 1, time.Minute, 0)
	if n := len(kafkaHeaders(got[0].Headers, "traceparent")); n != 1 {
		t.Fatalf("output has %d traceparent headers, want 1", n)
	}
	waitFor(t, 10*time.Second, "spans of the second worker", func() bool {
		return spanNamed(exp, "consume "+mid) != nil && spanNamed(exp, "produce") != nil && len(spansNamed(exp, "produce")) == 2
	})

	consume1, consume2 := spanNamed(exp, "consume "+in1), spanNamed(exp, "consume "+in2)
	join, process := spanNamed(exp, "join"), spansNamed(exp, "process")
	produces := spansNamed(exp, "produce")
	consumeMid := spanNamed(exp, "consume "+mid)

	check := func(what string, ok bool) {
		t.Helper()
		if !ok {
			t.Fatalf("%s; spans:\n%s", what, dump(exp))
		}
	}
	check("consume spans continue their producers' traces",
		consume1.Parent.SpanID() == p1.SpanContext().SpanID() && consume2.Parent.SpanID() == p2.SpanContext().SpanID())
	check("the join span is a child of the completing fragment's consume span",
		join.Parent.SpanID() == consume2.SpanContext.SpanID() && join.SpanContext.TraceID() == p2.SpanContext().TraceID())
	linked := map[trace.SpanID]bool{}
	for _, l := range join.Links {
		linked[l.SpanContext.SpanID()] = true
	}
	check("the join span links both fragments", linked[consume1.SpanContext.SpanID()] && linked[consume2.SpanContext.SpanID()])
	check("process is a child of join", len(process) == 2 && process[0].Parent.SpanID() == join.SpanContext.SpanID())
	var joinProduce *tracetest.SpanStub
	for i := range produces {
		if produces[i].Parent.SpanID() == join.SpanContext.SpanID() {
			joinProduce = &produces[i]
		}
	}
	check("the first worker's produce span is a child of its join", joinProduce != nil)
	check("the second worker continues the first worker's produce span",
		consumeMid.Parent.SpanID() == joinProduce.SpanContext.SpanID() && consumeMid.SpanContext.TraceID() == p2.SpanContext().TraceID())
}

func spansNamed(exp *tracetest.InMemoryExporter, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func spanNamed(exp *tracetest.InMemoryExporter, name string) *tracetest.SpanStub {
	if s := spansNamed(exp, name); len(s) > 0 {
		return &s[0]
	}
	return nil
}

func kafkaHeaders(hs []kafka.Header, key string) []string {
	var out []string
	for _, h := range hs {
		if h.Key == key {
			out = append(out, string(h.Value))
		}
	}
	return out
}

func dump(exp *tracetest.InMemoryExporter) string {
	s := ""
	for _, sp := range exp.GetSpans() {
		s += sp.Name + " trace=" + sp.SpanContext.TraceID().String() + " span=" + sp.SpanContext.SpanID().String() + " parent=" + sp.Parent.SpanID().String() + "\n"
	}
	return s
}

// The process spans of a ProcessBatch call follow one another, each as long
// as the Result.Took of its input, rather than each lasting the whole call.
func TestBatchProcessSpansLastTheirOwnTime(t *testing.T) {
	e := newEnv(t)
	in, out := e.topic("in"), e.topic("out")
	e.createTopics(1, in, out)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())

	const n = 20
	took := func(id string) time.Duration { // 1 to 20 ms, by id
		i, _ := strconv.Atoi(id)
		return time.Duration(i+1) * time.Millisecond
	}
	var calls atomic.Int64
	f := Function{ProcessBatch: func(_ context.Context, ins []Input) []Result {
		calls.Add(1)
		res := make([]Result, len(ins))
		var all time.Duration
		for i, x := range ins {
			res[i].Records = []Record{{Value: x.Value}}
			res[i].Took = took(x.JoinID)
			all += res[i].Took
		}
		time.Sleep(all) // as long as they say they took
		return res
	}}
	var msgs []kafka.Message
	for i := range n {
		msgs = append(msgs, kafka.Message{Topic: in, Value: fmt.Appendf(nil, `{"id":"%d"}`, i)})
	}
	e.produce(msgs, false) // before the worker starts, so batches are large
	e.start(e.config("batched", []string{in}, []string{out}), f, tp)
	e.consume(out, n, time.Minute, 0)
	waitFor(t, 10*time.Second, "the process spans", func() bool { return len(spansNamed(exp, "process")) == n })

	spans := spansNamed(exp, "process")
	slices.SortFunc(spans, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
	gaps := 0
	for i, s := range spans {
		var id string
		for _, a := range s.Attributes {
			if a.Key == "tributary.join.id" {
				id = a.Value.AsString()
			}
		}
		if got, want := s.EndTime.Sub(s.StartTime), took(id); got != want {
			t.Errorf("the span of %q lasts %v, want its Took %v", id, got, want)
		}
		switch {
		case i == 0:
		case s.StartTime.Before(spans[i-1].EndTime):
			t.Errorf("the span of %q starts before the one before it ended", id)
		case s.StartTime.After(spans[i-1].EndTime):
			gaps++ // a new call
		}
	}
	if gaps >= int(calls.Load()) {
		t.Errorf("%d gaps between the spans of %d calls: the spans of one call should follow one another", gaps, calls.Load())
	}
}

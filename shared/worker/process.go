package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Input is one joined message as a function sees it.
type Input struct {
	Value   json.RawMessage // the joined JSON object
	Key     []byte          // the Kafka key of the message that completed the join; nil for a reclaimed join
	Headers []Header        // its headers, without the runtime's own (trace context, tributary.*)
	Topics  []string        // the input topics that contributed, in config order; do not modify
	JoinID  string
}

// Record is one output of a function.
type Record struct {
	Value   json.RawMessage // a JSON object
	Topics  []string        // nil: every output topic; else a subset (another name: a bad_output dead letter)
	Key     []byte          // nil: the join id
	Headers []Header        // added to the output; the runtime sets the trace headers
}

// Result is what a batch call returns for one input.
type Result struct {
	Records []Record
	Err     error
	// Took, when the function measured it, is the time it spent on this
	// input. The input's process span and the process-time histogram then
	// show it; without it each input gets the batch's average, and its
	// span lasts the whole batch.
	Took time.Duration
}

// Function is what Main runs. Process or ProcessBatch must be set. The
// runtime calls them from one goroutine per instance, never concurrently.
type Function struct {
	// Init, when set, runs once before anything is consumed, with the worker's metadata
	// JSON ("null" without any). An error exits the process with status 2 and names the field.
	// InitEnv(ctx) gives the worker's name, instance and logger.
	Init func(ctx context.Context, meta json.RawMessage) error
	// Process handles one input; no records filters. *Rejected dead-letters at once,
	// other errors are retried and then dead-lettered.
	Process func(ctx context.Context, in Input) ([]Record, error)
	// ProcessBatch, when set, is called instead of Process with a whole batch; results[i]
	// answers ins[i]. A failed item is retried alone (a batch of one).
	ProcessBatch func(ctx context.Context, ins []Input) []Result
	// MetadataSchema, when set, is the JSON Schema of the metadata, printed by -describe.
	MetadataSchema json.RawMessage
}

// InitError is a function's Init refusing the worker's metadata: Main exits
// with status 2, as for any other invalid configuration.
type InitError struct{ Err error }

func (e *InitError) Error() string { return "function init: " + e.Err.Error() }
func (e *InitError) Unwrap() error { return e.Err }

type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// callOnce runs the function on one input with the process timeout,
// turning a panic into an error.
func (w *Worker) callOnce(ctx context.Context, in Input) (recs []Record, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.ProcessTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	if w.fn.ProcessBatch != nil {
		res := w.fn.ProcessBatch(ctx, []Input{in})
		if len(res) != 1 {
			return nil, fmt.Errorf("ProcessBatch returned %d results for 1 input", len(res))
		}
		return res[0].Records, res[0].Err
	}
	return w.fn.Process(ctx, in)
}

// callBatch runs ProcessBatch on ins under one process timeout. A panic or
// a wrong number of results fails every item, which is then retried alone.
func (w *Worker) callBatch(ctx context.Context, ins []Input) (res []Result) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.ProcessTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			res = failAll(len(ins), &panicError{value: r, stack: debug.Stack()})
		}
	}()
	start := time.Now()
	res = w.fn.ProcessBatch(ctx, ins)
	perItem := time.Since(start) / time.Duration(len(ins))
	if len(res) != len(ins) {
		return failAll(len(ins), fmt.Errorf("ProcessBatch returned %d results for %d inputs", len(res), len(ins)))
	}
	for i := range res {
		if res[i].Took <= 0 {
			res[i].Took = perItem
		}
		w.m.processSeconds.Observe(res[i].Took.Seconds())
	}
	return res
}

func failAll(n int, err error) []Result {
	res := make([]Result, n)
	for i := range res {
		res[i].Err = err
	}
	return res
}

// call runs the function on one input with bounded retries and exponential
// backoff. Rejections are not retried, and neither are records that break
// the contract (see checkRecords).
func (w *Worker) call(ctx context.Context, in Input) ([]Record, error) {
	backoff := w.cfg.RetryBackoff
	for attempt := 0; ; attempt++ {
		start := time.Now()
		recs, err := w.callOnce(ctx, in)
		w.m.processSeconds.Observe(time.Since(start).Seconds())
		if err == nil {
			return recs, w.checkRecords(recs)
		}
		if !w.retryable(ctx, err, attempt) {
			return nil, err
		}
		w.m.retries.Inc()
		w.log.Warn("process failed; retrying", "attempt", attempt+1, "backoff", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, err
		}
		backoff *= 2
	}
}

func (w *Worker) retryable(ctx context.Context, err error, attempt int) bool {
	var rejected *Rejected
	return !errors.As(err, &rejected) && attempt < w.cfg.ProcessRetries && ctx.Err() == nil
}

// checkRecords refuses, as a bad_output dead letter of the whole input,
// records that are not JSON objects, that name a topic the worker does not
// output to, or that set a header the runtime owns.
func (w *Worker) checkRecords(recs []Record) error {
	for i, r := range recs {
		if !isJSONObject(r.Value) {
			return &InputError{Class: ClassBadOutput, Err: fmt.Errorf("record %d: %d bytes that are not a JSON object", i, len(r.Value))}
		}
		for _, t := range r.Topics {
			if !slices.Contains(w.cfg.TopicsOutput, t) {
				return &InputError{Class: ClassBadOutput, Err: fmt.Errorf("record %d: topic %q is not an output of this worker (%s)",
					i, t, strings.Join(w.cfg.TopicsOutput, ", "))}
			}
		}
		for _, h := range r.Headers {
			if runtimeHeader(h.Key) {
				return &InputError{Class: ClassBadOutput, Err: fmt.Errorf("record %d: header %q is set by the runtime", i, h.Key)}
			}
		}
	}
	return nil
}

// runtimeHeader tells the headers the runtime owns: the trace context and
// its own tributary.* ones. A function neither sees nor sets them.
func runtimeHeader(key string) bool {
	switch key {
	case "traceparent", "tracestate", "baggage":
		return true
	}
	return strings.HasPrefix(key, "tributary.") || strings.HasPrefix(key, "tributary-")
}

// Env is what a function's Init may want of the worker that runs it, from
// InitEnv of Init's context.
type Env struct {
	ConsumerName string       // the worker's name: its consumer group and config row
	Instance     string       // this instance's id
	Log          *slog.Logger // the worker's logger, with its worker attribute
}

type envKey struct{}

// InitEnv is the Env of the worker whose Init ctx belongs to; ok is false
// for a ctx that is not Init's.
func InitEnv(ctx context.Context) (env Env, ok bool) {
	env, ok = ctx.Value(envKey{}).(Env)
	return env, ok
}

// init runs the function's Init with the worker's metadata.
func (w *Worker) init(ctx context.Context) error {
	if w.fn.Init == nil {
		return nil
	}
	ctx = context.WithValue(ctx, envKey{}, Env{ConsumerName: w.cfg.ConsumerName, Instance: w.cfg.Instance, Log: w.log})
	if err := w.fn.Init(ctx, w.metadata()); err != nil {
		return &InitError{Err: err}
	}
	return nil
}

func isJSONObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return json.Valid(b)
		}
		return false
	}
	return false
}

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// Func is the function a worker runs: it gets the joined message (a JSON
// object) and the worker's metadata, and returns the output message, nil to
// emit nothing, or an error. Wrap an error in *Rejected to dead-letter the
// message without retrying. It may be called concurrently by different
// instances, never concurrently within one.
type Func func(ctx context.Context, msg json.RawMessage, meta json.RawMessage) (json.RawMessage, error)

type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// callOnce runs f with the process timeout, turning a panic into an error.
func (w *Worker) callOnce(ctx context.Context, msg json.RawMessage) (out json.RawMessage, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.ProcessTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return w.fn(ctx, msg, w.metadata())
}

// call runs f with bounded retries and exponential backoff. Rejections are
// not retried. The result is checked to be a JSON object (or nil).
func (w *Worker) call(ctx context.Context, msg json.RawMessage) (json.RawMessage, error) {
	backoff := w.cfg.RetryBackoff
	for attempt := 0; ; attempt++ {
		start := time.Now()
		out, err := w.callOnce(ctx, msg)
		w.m.processSeconds.Observe(time.Since(start).Seconds())
		if err == nil {
			if out != nil && !isJSONObject(out) {
				return nil, &InputError{Class: ClassBadOutput, Err: fmt.Errorf("function returned %d bytes that are not a JSON object", len(out))}
			}
			return out, nil
		}
		var rejected *Rejected
		if errors.As(err, &rejected) || attempt >= w.cfg.ProcessRetries || ctx.Err() != nil {
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

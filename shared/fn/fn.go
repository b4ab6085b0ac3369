// Package fn is what a Tributary function author imports. A whole function
// binary is a main that hands one function to Run:
//
//	func main() {
//		fn.Run("shout", func(ctx context.Context, msg fn.Message, meta fn.Metadata) (fn.Message, error) {
//			msg.Content()["text"] = strings.ToUpper(msg.Text())
//			return msg, nil
//		})
//	}
//
// The runtime (package worker) owns everything else: consuming, joining
// messages by id across the input topics, committing offsets, retries, dead
// letters, tracing, metrics and shutdown. Returning a nil message filters;
// returning an error retries the call a few times and then dead-letters the
// message; Reject dead-letters it at once.
package fn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tributary-etl/tributary/shared/worker"
)

// Message is a joined message: a JSON object. Numbers are json.Number, so
// they pass through unchanged.
type Message map[string]any

// Content returns the message's "content" object, creating it when absent
// (or replacing a non-object value).
func (m Message) Content() map[string]any {
	c, ok := m["content"].(map[string]any)
	if !ok {
		c = map[string]any{}
		m["content"] = c
	}
	return c
}

// Text returns content.text when it is a string, else "".
func (m Message) Text() string {
	c, _ := m["content"].(map[string]any)
	s, _ := c["text"].(string)
	return s
}

// Metadata is the worker's metadata (the metadatas JSON of its config),
// nil when it has none.
type Metadata map[string]any

// Func is a function over untyped messages.
type Func func(ctx context.Context, msg Message, meta Metadata) (Message, error)

// Reject marks err as final: the message goes to the dead-letter topic with
// err as the reason, without retries.
func Reject(err error) error { return &worker.Rejected{Err: err} }

// Rejectf is Reject(fmt.Errorf(format, args...)).
func Rejectf(format string, args ...any) error { return Reject(fmt.Errorf(format, args...)) }

// Run runs f as the worker named by the flags and environment (see -h) and
// exits the process when the worker stops.
func Run(name string, f Func) {
	os.Exit(worker.Main(name, Adapt(f), os.Args[1:], os.Stderr))
}

// RunTyped runs a function over the author's own types: the joined message
// is decoded into In, and a non-nil *Out is encoded as the output.
func RunTyped[In, Out any](name string, f func(ctx context.Context, in In, meta Metadata) (*Out, error)) {
	os.Exit(worker.Main(name, AdaptTyped(f), os.Args[1:], os.Stderr))
}

// Adapt turns f into the runtime's byte-level function.
func Adapt(f Func) worker.Func {
	return AdaptTyped(func(ctx context.Context, msg Message, meta Metadata) (*Message, error) {
		out, err := f(ctx, msg, meta)
		if err != nil || out == nil {
			return nil, err
		}
		return &out, nil
	})
}

// AdaptTyped turns a typed function into the runtime's byte-level function.
func AdaptTyped[In, Out any](f func(ctx context.Context, in In, meta Metadata) (*Out, error)) worker.Func {
	return func(ctx context.Context, raw, rawMeta json.RawMessage) (json.RawMessage, error) {
		var in In
		if err := decode(raw, &in); err != nil {
			return nil, Reject(fmt.Errorf("decode message into %T: %w", in, err))
		}
		meta, err := decodeMeta(rawMeta)
		if err != nil {
			return nil, err
		}
		out, err := f(ctx, in, meta)
		if err != nil || out == nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}

// decode reads raw as exactly one JSON value (numbers as json.Number):
// anything after it is an error, as in json.Unmarshal.
func decode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

func decodeMeta(raw json.RawMessage) (Metadata, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var meta Metadata
	if err := decode(raw, &meta); err != nil {
		return nil, Reject(errors.New("the worker's metadata is not a JSON object"))
	}
	return meta, nil
}

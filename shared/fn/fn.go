// Package fn is what a Tributary function author imports. A whole function
// binary is a main that hands one function to Run:
//
//	func main() {
//		fn.Run("shout", func(ctx context.Context, msg fn.Message, in fn.In[fn.Metadata]) ([]fn.Out, error) {
//			msg.EditContent()["text"] = strings.ToUpper(msg.Text())
//			return fn.Emit(msg), nil
//		})
//	}
//
// A function returns zero records (a filter), one (fn.Emit) or many, each
// to every output topic or to some (Out.Topics), keyed by the join id or
// by Out.Key, with headers of its own. It reads the input's Kafka key,
// headers, topics and join id in In. RunTyped decodes messages and the
// worker's metadata into the author's types; the metadata once, at start:
// metadata it refuses stops the worker (exit 2) with the field named, and
// -describe prints its JSON Schema for the API server to check at save.
//
// The runtime (package worker) owns everything else: consuming, joining
// messages by id across the input topics, committing offsets, retries, dead
// letters, tracing, metrics and shutdown. An error retries the call a few
// times and then dead-letters the message; Reject dead-letters it at once.
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

// Content returns the message's "content" object, nil when it has none. It
// changes nothing: use EditContent to add to it.
func (m Message) Content() map[string]any {
	c, _ := m["content"].(map[string]any)
	return c
}

// EditContent returns the message's "content" object for changing,
// creating it when absent (or replacing a non-object value).
func (m Message) EditContent() map[string]any {
	c, ok := m["content"].(map[string]any)
	if !ok {
		c = map[string]any{}
		m["content"] = c
	}
	return c
}

// Text returns content.text when it is a string, else "".
func (m Message) Text() string {
	s, _ := m.Content()["text"].(string)
	return s
}

// Metadata is untyped metadata (the metadatas JSON object of the worker),
// nil when it has none.
type Metadata map[string]any

// Header is one Kafka record header.
type Header = worker.Header

// In is what a function knows of an input besides its value: the Kafka key
// and headers of the message that completed the join (nil for a join
// re-emitted after its instance stopped), the input topics that
// contributed, the join id, and the worker's metadata.
type In[Meta any] struct {
	Key     []byte
	Headers []Header
	Topics  []string
	JoinID  string
	Meta    Meta
}

// Header returns the value of the input's last header named key, nil
// without one.
func (in In[Meta]) Header(key string) []byte {
	for i := len(in.Headers) - 1; i >= 0; i-- {
		if in.Headers[i].Key == key {
			return in.Headers[i].Value
		}
	}
	return nil
}

// Out is one output record: Value encoded as a JSON object, to Topics (nil:
// every output topic of the worker), with Key (nil: the join id) and
// Headers (the runtime adds the trace context).
type Out struct {
	Value   any
	Topics  []string
	Key     []byte
	Headers []Header
}

// Emit is the most common result: one record of v to every output topic.
func Emit(v any) []Out { return []Out{{Value: v}} }

// Func is a function over untyped messages and metadata.
type Func func(ctx context.Context, msg Message, in In[Metadata]) ([]Out, error)

// Reject marks err as final: the message goes to the dead-letter topic with
// err as the reason, without retries.
func Reject(err error) error { return &worker.Rejected{Err: err} }

// Rejectf is Reject(fmt.Errorf(format, args...)).
func Rejectf(format string, args ...any) error { return Reject(fmt.Errorf(format, args...)) }

// Invalid is the error a metadata type's Validate returns for a setting:
// the worker exits 2 naming metadata.<field>.
func Invalid(field, reason string) error {
	return &worker.FieldError{Field: "metadata." + field, Reason: reason}
}

// Run runs f as the worker named by the flags and environment (see -h) and
// exits the process when the worker stops. Metadata that is not a JSON
// object stops the worker at start.
func Run(name string, f Func) {
	os.Exit(worker.Main(name, Adapt(f), os.Args[1:], os.Stderr))
}

// RunTyped runs a function over the author's own types. Each message is
// decoded into Msg. The metadata is decoded once, at start, over a copy of
// defaults: an unknown field, a wrong type, or an error from *Meta's
// Validate method (when it has one; see Invalid) exits the worker with
// status 2 naming the field.
func RunTyped[Msg, Meta any](name string, defaults Meta, f func(ctx context.Context, msg Msg, in In[Meta]) ([]Out, error)) {
	os.Exit(worker.Main(name, AdaptTyped(defaults, f), os.Args[1:], os.Stderr))
}

// Adapt turns f into the runtime's Function.
func Adapt(f Func) worker.Function { return AdaptTyped(Metadata(nil), f) }

// AdaptTyped turns a typed function into the runtime's Function. Before
// Init runs, Process sees the defaults.
func AdaptTyped[Msg, Meta any](defaults Meta, f func(ctx context.Context, msg Msg, in In[Meta]) ([]Out, error)) worker.Function {
	meta := defaults
	return worker.Function{
		MetadataSchema: Schema(defaults),
		Init: func(_ context.Context, raw json.RawMessage) (err error) {
			meta, err = DecodeMetadata(raw, defaults)
			return err
		},
		Process: func(ctx context.Context, in worker.Input) ([]worker.Record, error) {
			var msg Msg
			if err := decode(in.Value, &msg, false); err != nil {
				return nil, Reject(fmt.Errorf("decode message into %T: %w", msg, err))
			}
			outs, err := f(ctx, msg, In[Meta]{Key: in.Key, Headers: in.Headers, Topics: in.Topics, JoinID: in.JoinID, Meta: meta})
			if err != nil || len(outs) == 0 {
				return nil, err
			}
			recs := make([]worker.Record, len(outs))
			for i, o := range outs {
				v, err := json.Marshal(o.Value)
				if err != nil {
					return nil, Reject(fmt.Errorf("encode output %d: %w", i, err))
				}
				recs[i] = worker.Record{Value: v, Topics: o.Topics, Key: o.Key, Headers: o.Headers}
			}
			return recs, nil
		},
	}
}

// decode reads raw as exactly one JSON value (numbers as json.Number):
// anything after it is an error, as in json.Unmarshal. strict refuses
// unknown fields.
func decode(raw []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

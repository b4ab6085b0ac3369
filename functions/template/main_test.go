package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/tributary-etl/tributary/shared/fn"
	"github.com/tributary-etl/tributary/shared/fn/fntest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// tests is one table for both ways of calling process.
var tests = []struct {
	name string
	in   string // the joined message, as JSON
	want string // the output as JSON; "" when filtered or rejected
	// wantReject says the message must be dead-lettered without retries.
	wantReject bool
}{
	{
		name: "counts words and upper-cases the title",
		in:   `{"id":"1","content":{"title":"Rivers","text":"Rivers shape the land."}}`,
		want: `{"id":"1","content":{"title":"RIVERS","text":"Rivers shape the land.","word_count":4}}`,
	},
	{
		// Numbers are json.Number, so they pass through with every digit.
		name: "no title; other fields and big numbers kept",
		in:   `{"id":12345678901234567890,"source":"rss","content":{"text":"one  two\nthree","score":0.25}}`,
		want: `{"id":12345678901234567890,"source":"rss","content":{"text":"one  two\nthree","score":0.25,"word_count":3}}`,
	},
	{name: "empty text is filtered", in: `{"id":"2","content":{"text":"   "}}`},
	{name: "no text is filtered", in: `{"id":"3","content":{"title":"T"}}`},
	{name: "no content is rejected", in: `{"id":"4"}`, wantReject: true},
	{name: "content not an object is rejected", in: `{"id":"5","content":"text"}`, wantReject: true},
}

// TestProcess calls process directly, the quickest way to test the logic.
func TestProcess(t *testing.T) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			outs, err := process(context.Background(), decode(t, tc.in), fn.In[fn.Metadata]{})
			var out fn.Message
			if len(outs) > 1 {
				t.Fatalf("%d records, want at most one", len(outs))
			} else if len(outs) == 1 {
				out = outs[0].Value.(fn.Message)
			}
			check(t, out, err, tc.want, tc.wantReject)
		})
	}
}

// TestProcessBytes calls process the way the runtime does, through fn.Adapt:
// JSON bytes in, JSON bytes out, nil for nothing to publish.
func TestProcessBytes(t *testing.T) {
	f := fn.Adapt(process)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := fntest.Value(f, tc.in, "")
			var out fn.Message
			if raw != nil {
				out = decode(t, string(raw))
			}
			check(t, out, err, tc.want, tc.wantReject)
		})
	}
}

// check compares a result of process with the expected JSON output.
func check(t *testing.T, out fn.Message, err error, want string, wantReject bool) {
	t.Helper()
	if wantReject {
		var rejected *worker.Rejected
		if !errors.As(err, &rejected) {
			t.Fatalf("got %v, %v; want a rejection", out, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("process: %v", err)
	}
	if want == "" {
		if out != nil {
			t.Errorf("got %v, want nil (filtered)", out)
		}
		return
	}
	// Through JSON, so an int in out equals a json.Number in want.
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatalf("marshal output: %v", err)
	}
	if got := decode(t, string(b)); !reflect.DeepEqual(got, decode(t, want)) {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// decode reads a message as the runtime does, numbers as json.Number.
func decode(t *testing.T, s string) fn.Message {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var m fn.Message
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

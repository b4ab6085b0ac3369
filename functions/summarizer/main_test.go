package main

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/functions/internal/reject"
	"github.com/tributary-etl/tributary/shared/fn"
	"github.com/tributary-etl/tributary/shared/fn/fntest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// TestProcessBytes calls process as the runtime does: JSON message and
// metadata in, JSON out.
func TestProcessBytes(t *testing.T) {
	in := `{"id":12345678901234567890,"content":{"text":"` + rivers + `","language":"en"}}`
	tests := []struct {
		name        string
		meta        string
		wantSummary string
	}{
		{
			name: "no metadata: 3 sentences, 400 chars", meta: "",
			wantSummary: "A river carries sediment from the mountains to the sea. " +
				"Over centuries, that sediment builds deltas where the river meets the sea. " +
				"People have farmed river deltas for thousands of years.",
		},
		{
			name: "nulls are defaults", meta: `{"max_sentences":null}`,
			wantSummary: "A river carries sediment from the mountains to the sea. " +
				"Over centuries, that sediment builds deltas where the river meets the sea. " +
				"People have farmed river deltas for thousands of years.",
		},
		{
			name: "max_sentences", meta: `{"max_sentences":1}`,
			wantSummary: "Over centuries, that sediment builds deltas where the river meets the sea.",
		},
		{
			name: "max_chars", meta: `{"max_sentences":2,"max_chars":60}`,
			wantSummary: "A river carries sediment from the mountains to the sea.",
		},
	}
	f := fn.AdaptTyped(defaults, process)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := fntest.Value(f, in, tc.meta)
			if err != nil {
				t.Fatalf("process: %v", err)
			}
			want := `{"id":12345678901234567890,"content":{"text":"` + rivers + `","language":"en","summary":"` + tc.wantSummary + `"}}`
			if !jsonEqual(t, out, want) {
				t.Errorf("output\n got %s\nwant %s", out, want)
			}
		})
	}
}

func TestProcessBytesRejects(t *testing.T) {
	tests := []struct {
		name      string
		msg       string
		wantField string
		wantError string
	}{
		{"no content", `{"id":"1"}`, "content", "rejected: content: missing"},
		{"text not a string", `{"id":"1","content":{"text":[]}}`, "content.text", "rejected: content.text: is []interface {}, want a string"},
	}
	f := fn.AdaptTyped(defaults, process)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := fntest.Value(f, tc.msg, "")
			var rejected *worker.Rejected
			if !errors.As(err, &rejected) {
				t.Fatalf("process = %s, %v; want a *worker.Rejected", out, err)
			}
			var fe *reject.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.wantField {
				t.Errorf("error %v: want field %q", err, tc.wantField)
			}
			if err.Error() != tc.wantError {
				t.Errorf("error %q, want %q", err, tc.wantError)
			}
		})
	}
}

// TestBadMetadata: bad settings are refused at start, naming the field,
// instead of rejecting every message.
func TestBadMetadata(t *testing.T) {
	tests := []struct{ meta, wantError string }{
		{`{"max_sentences":0}`, "metadata.max_sentences: is 0, want an integer from 1 to 2147483647"},
		{`{"max_chars":-5}`, "metadata.max_chars: is -5, want an integer from 1 to 2147483647"},
		{`{"max_chars":2.5}`, "metadata.max_chars: must be an integer, not number 2.5"},
		{`{"max_chars":99999999999}`, "metadata.max_chars: is 99999999999, want an integer from 1 to 2147483647"},
		{`{"max_sentences":"3"}`, "metadata.max_sentences: must be an integer, not string"},
		{`{"owner":"news"}`, "metadata.owner: is not a setting of this function"},
	}
	f := fn.AdaptTyped(defaults, process)
	for _, tc := range tests {
		err := f.Init(context.Background(), json.RawMessage(tc.meta))
		var fe *worker.FieldError
		if !errors.As(err, &fe) || err.Error() != tc.wantError {
			t.Errorf("Init(%s) = %v; want a field error %q", tc.meta, err, tc.wantError)
		}
	}
}

// jsonEqual reports whether got and want hold the same JSON value, numbers
// compared by their literal.
func jsonEqual(t *testing.T, got []byte, want string) bool {
	t.Helper()
	return reflect.DeepEqual(decodeJSON(t, string(got)), decodeJSON(t, want))
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

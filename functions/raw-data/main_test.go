package main

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/functions/internal/reject"
	"github.com/tributary-etl/tributary/shared/fn"
	"github.com/tributary-etl/tributary/shared/fn/fntest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// TestProcessBytes calls process as the runtime does: JSON in, JSON out. The
// runtime decodes numbers as json.Number, so a big integer id keeps every
// digit.
func TestProcessBytes(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{
			name: "big integer id",
			in:   `{"id":123456789012345678901234567890,"source":"rss","content":{"text":"  Hello,\n\tworld. ","score":0.1}}`,
			want: `{"id":"123456789012345678901234567890","source":"rss","content":{"text":"Hello, world.","score":0.1}}`,
		},
		{
			name: "string id",
			in:   `{"id":" a-1 ","content":{"text":"x","received_at":"1999-01-01T00:00:00Z"}}`,
			want: `{"id":"a-1","content":{"text":"x"}}`,
		},
	}
	f := fn.Adapt(process)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().Truncate(time.Second)
			out, err := fntest.Value(f, tc.in, "")
			after := time.Now()
			if err != nil {
				t.Fatalf("process(%s): %v", tc.in, err)
			}
			got := decode(t, string(out))
			content := got["content"].(map[string]any)
			at, err := time.Parse(time.RFC3339, content["received_at"].(string))
			if err != nil || at.Before(before) || at.After(after) || at.Location() != time.UTC {
				t.Errorf("content.received_at = %v, want now in UTC, RFC 3339", content["received_at"])
			}
			delete(content, "received_at")
			if want := decode(t, tc.want); !reflect.DeepEqual(got, want) {
				t.Errorf("output (received_at aside)\n got %s\nwant %s", out, tc.want)
			}
		})
	}
}

func TestProcessBytesRejects(t *testing.T) {
	tests := []struct{ name, in, wantError string }{
		{"no id", `{"content":{"text":"x"}}`, "rejected: id: missing"},
		{"fractional id", `{"id":1.5,"content":{"text":"x"}}`, "rejected: id: " + reasonNotInteger},
		{"no content", `{"id":"1"}`, "rejected: content: missing"},
		{"empty text", `{"id":"1","content":{"text":" \u0000 "}}`, "rejected: content.text: " + reasonNoText},
	}
	f := fn.Adapt(process)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := fntest.Value(f, tc.in, "")
			var rejected *worker.Rejected
			if !errors.As(err, &rejected) {
				t.Fatalf("process(%s) = %s, %v; want a *worker.Rejected", tc.in, out, err)
			}
			var fe *reject.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error %v does not wrap a *reject.FieldError", err)
			}
			if err.Error() != tc.wantError {
				t.Errorf("error %q, want %q", err, tc.wantError)
			}
		})
	}
}

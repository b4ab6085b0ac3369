package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/shared/fn"
	"github.com/tributary-etl/tributary/shared/worker"
)

func decode(t *testing.T, s string) fn.Message {
	t.Helper()
	var m fn.Message
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestProcess(t *testing.T) {
	tests := []struct {
		name, in, meta string
		want           map[string]any // content fields expected
		reject         string         // a phrase of the rejection
	}{
		{
			name: "joins both branches",
			in:   `{"id":"d1","content":{"text":"one two three four five six","language":"en","language_confidence":0.9,"summary":"one two"}}`,
			want: map[string]any{"language": "en", "summary": "one two", "word_count": 6, "reading_seconds": 2, "summary_ratio": 0.259, "enriched": true},
		},
		{
			name: "drop_text and a reading speed",
			in:   `{"id":"d2","content":{"text":"a b c d","language":"fr","summary":"a"}}`,
			meta: `{"words_per_minute":60,"drop_text":true}`,
			want: map[string]any{"word_count": 4, "reading_seconds": 4, "text": nil},
		},
		{name: "an undetermined language is kept as empty", in: `{"id":"d3","content":{"text":"?","language":"","summary":""}}`,
			want: map[string]any{"language": "", "summary_ratio": 0.0}},
		{name: "no language branch", in: `{"id":"d4","content":{"text":"x","summary":"x"}}`, reject: "content.language"},
		{name: "no summary branch", in: `{"id":"d5","content":{"text":"x","language":"en"}}`, reject: "content.summary"},
		{name: "no content", in: `{"id":"d6"}`, reject: "content: missing"},
		{name: "bad reading speed", in: `{"id":"d7","content":{"language":"en","summary":""}}`, meta: `{"words_per_minute":0}`, reject: "words_per_minute"},
		{name: "fractional reading speed", in: `{"id":"d7","content":{"language":"en","summary":""}}`, meta: `{"words_per_minute":2.5}`, reject: "words_per_minute"},
		{name: "drop_text not a boolean", in: `{"id":"d8","content":{"language":"en","summary":""}}`, meta: `{"drop_text":"yes"}`, reject: "drop_text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var meta fn.Metadata
			if tc.meta != "" {
				meta = fn.Metadata(decode(t, tc.meta))
			}
			out, err := process(context.Background(), decode(t, tc.in), meta)
			if tc.reject != "" {
				var r *worker.Rejected
				if !errors.As(err, &r) || !strings.Contains(err.Error(), tc.reject) {
					t.Fatalf("err %v, want a rejection naming %q", err, tc.reject)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			content := out["content"].(map[string]any)
			for k, want := range tc.want {
				got, present := content[k]
				if want == nil {
					if present {
						t.Errorf("content.%s = %v, want it absent", k, got)
					}
					continue
				}
				if g, _ := json.Marshal(got); string(g) != mustJSON(want) {
					t.Errorf("content.%s = %s, want %s", k, g, mustJSON(want))
				}
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/shared/fn"
	"github.com/tributary-etl/tributary/shared/fn/fntest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// TestProcessBytes calls process as the runtime does: JSON in, JSON out.
func TestProcessBytes(t *testing.T) {
	f := fn.Adapt(process)
	in := `{"id":12345678901234567890,"content":{"text":"` + sentences[1].text + `","source":"rss"}}`
	out, err := fntest.Value(f, in, "")
	if err != nil {
		t.Fatalf("process: %v", err)
	}
	var got struct {
		ID      json.RawMessage `json:"id"`
		Content struct {
			Text       string  `json:"text"`
			Source     string  `json:"source"`
			Language   string  `json:"language"`
			Confidence float64 `json:"language_confidence"`
		} `json:"content"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	if string(got.ID) != "12345678901234567890" {
		t.Errorf("id = %s, want the input's digits unchanged", got.ID)
	}
	c := got.Content
	if c.Language != "fr" || c.Confidence < minConfidence || c.Confidence > 1 {
		t.Errorf("language = %q (%v), want fr with confidence in [%v, 1]; output %s", c.Language, c.Confidence, minConfidence, out)
	}
	if c.Text != sentences[1].text || c.Source != "rss" {
		t.Errorf("other fields changed: %s", out)
	}
}

func TestProcessBytesRejects(t *testing.T) {
	f := fn.Adapt(process)
	tests := []struct{ name, in, wantInError string }{
		{"no content", `{"id":"1"}`, "content: missing"},
		{"text not a string", `{"id":"1","content":{"text":12}}`, "content.text: is json.Number, want a string"},
		{"not JSON", `{"id":`, "decode message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := fntest.Value(f, tc.in, "")
			var rejected *worker.Rejected
			if !errors.As(err, &rejected) {
				t.Fatalf("process(%s) = %s, %v; want a *worker.Rejected", tc.in, out, err)
			}
			if !strings.Contains(err.Error(), tc.wantInError) {
				t.Errorf("error %q does not say %q", err, tc.wantInError)
			}
		})
	}
}

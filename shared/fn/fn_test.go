package fn

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tributary-etl/tributary/shared/worker"
)

func TestAdapt(t *testing.T) {
	f := Adapt(func(_ context.Context, msg Message, meta Metadata) (Message, error) {
		switch msg["id"] {
		case "filter":
			return nil, nil
		case "reject":
			return nil, Rejectf("content.text: %s", "empty")
		case "fail":
			return nil, errors.New("transient")
		}
		msg.Content()["who"] = meta["who"]
		return msg, nil
	})
	meta := json.RawMessage(`{"who":"tributary"}`)
	tests := []struct {
		name, in, out string
		rejected      bool
		err           bool
	}{
		// Numbers pass through unchanged, even past float64's precision.
		{"transform", `{"id":"a","n":12345678901234567890,"content":{"text":"x"}}`,
			`{"content":{"text":"x","who":"tributary"},"id":"a","n":12345678901234567890}`, false, false},
		{"content created", `{"id":"b"}`, `{"content":{"who":"tributary"},"id":"b"}`, false, false},
		{"filter", `{"id":"filter"}`, ``, false, false},
		{"reject", `{"id":"reject"}`, ``, true, true},
		{"error is retried, not rejected", `{"id":"fail"}`, ``, false, true},
		{"not an object", `[1]`, ``, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f(context.Background(), json.RawMessage(tt.in), meta)
			var rj *worker.Rejected
			if (err != nil) != tt.err || errors.As(err, &rj) != tt.rejected {
				t.Fatalf("err = %v; want error %v, rejected %v", err, tt.err, tt.rejected)
			}
			if string(out) != tt.out {
				t.Fatalf("out = %s, want %s", out, tt.out)
			}
		})
	}
}

func TestAdaptTyped(t *testing.T) {
	type in struct {
		ID      string `json:"id"`
		Content struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	type out struct {
		ID    string `json:"id"`
		Words int    `json:"words"`
	}
	f := AdaptTyped(func(_ context.Context, m in, _ Metadata) (*out, error) {
		if m.Content.Text == "" {
			return nil, nil
		}
		return &out{ID: m.ID, Words: len(m.Content.Text)}, nil
	})
	got, err := f(context.Background(), json.RawMessage(`{"id":"x","content":{"text":"abc"}}`), nil)
	if err != nil || string(got) != `{"id":"x","words":3}` {
		t.Fatalf("typed = %s, %v", got, err)
	}
	if got, err := f(context.Background(), json.RawMessage(`{"id":"x"}`), nil); got != nil || err != nil {
		t.Fatalf("typed filter = %s, %v", got, err)
	}
	_, err = f(context.Background(), json.RawMessage(`{"id":5}`), nil)
	var rj *worker.Rejected
	if !errors.As(err, &rj) {
		t.Fatalf("a message that does not fit the type: %v, want a rejection", err)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			meta, err := fn.DecodeMetadata(json.RawMessage(tc.meta), defaults)
			if err != nil {
				t.Fatal(err)
			}
			outs, err := process(context.Background(), decode(t, tc.in), fn.In[settings]{Meta: meta})
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
			if len(outs) != 1 {
				t.Fatalf("%d records, want 1", len(outs))
			}
			content := outs[0].Value.(fn.Message)["content"].(map[string]any)
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

// TestBadMetadataExits2 runs the enricher binary (this test binary, in
// child mode) with bad settings: it must exit 2 at start, the log naming
// the field, instead of dead-lettering every message.
func TestBadMetadataExits2(t *testing.T) {
	for meta, field := range map[string]string{
		`{"words_per_minute":0}`:      "metadata.words_per_minute",
		`{"words_per_minute":2.5}`:    "metadata.words_per_minute",
		`{"drop_text":"yes"}`:         "metadata.drop_text",
		`{"words_per_minut":300}`:     "metadata.words_per_minut",
		`{"words_per_minute":"fast"}`: "metadata.words_per_minute",
	} {
		cmd := exec.Command(os.Args[0], "-worker", "e2e-enricher", "-topics-input", "a,b", "-topics-output", "c",
			"-brokers", "127.0.0.1:1", "-redis", "127.0.0.1:1", "-metadata", meta)
		cmd.Env = append(withoutStackEnv(os.Environ()), "ENRICHER_TEST_MAIN=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), `"field":"`+field+`"`) {
			t.Errorf("metadata %s: %v, want exit status 2 naming %s; stderr:\n%s", meta, err, field, stderr.String())
		}
	}
}

// TestDescribe: -describe prints the metadata's JSON Schema, the API
// server's check at save.
func TestDescribe(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-describe")
	cmd.Env = append(os.Environ(), "ENRICHER_TEST_MAIN=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Function       string
		MetadataSchema struct {
			Properties map[string]struct {
				Type    string
				Minimum int
				Default json.RawMessage
			}
		} `json:"metadata_schema"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	wpm := d.MetadataSchema.Properties["words_per_minute"]
	if d.Function != "enricher" || wpm.Type != "integer" || wpm.Minimum != 1 || string(wpm.Default) != "200" ||
		d.MetadataSchema.Properties["drop_text"].Type != "boolean" {
		t.Fatalf("-describe: %s", out)
	}
}

func TestMain(m *testing.M) {
	if os.Getenv("ENRICHER_TEST_MAIN") == "1" {
		os.Args = append([]string{"enricher"}, os.Args[1:]...)
		main()
	}
	os.Exit(m.Run())
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// withoutStackEnv drops the TRIBUTARY_ settings (make test exports the
// stack's): with TRIBUTARY_MYSQL_DSN set the worker reads its config from
// MySQL, not from the flags this test gives it.
func withoutStackEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "TRIBUTARY_") {
			out = append(out, kv)
		}
	}
	return out
}

package fn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/shared/worker"
)

func TestAdapt(t *testing.T) {
	f := Adapt(func(_ context.Context, msg Message, in In[Metadata]) ([]Out, error) {
		switch msg["id"] {
		case "filter":
			return nil, nil
		case "reject":
			return nil, Rejectf("content.text: %s", "empty")
		case "fail":
			return nil, errors.New("transient")
		}
		msg.EditContent()["who"] = in.Meta["who"]
		return Emit(msg), nil
	})
	if err := f.Init(context.Background(), json.RawMessage(`{"who":"tributary"}`)); err != nil {
		t.Fatal(err)
	}
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
			recs, err := f.Process(context.Background(), worker.Input{Value: json.RawMessage(tt.in)})
			var rj *worker.Rejected
			if (err != nil) != tt.err || errors.As(err, &rj) != tt.rejected {
				t.Fatalf("err = %v; want error %v, rejected %v", err, tt.err, tt.rejected)
			}
			var out string
			if len(recs) == 1 {
				out = string(recs[0].Value)
			}
			if len(recs) > 1 || out != tt.out {
				t.Fatalf("records = %v, want one of %s", recs, tt.out)
			}
		})
	}
}

// TestContentReadOnly: reading content never adds it; EditContent does.
func TestContentReadOnly(t *testing.T) {
	m := Message{"id": "1", "content": "not an object"}
	if m.Content() != nil || m.Text() != "" || m["content"] != "not an object" {
		t.Fatalf("reading changed the message: %v", m)
	}
	empty := Message{}
	_ = empty.Text()
	if _, ok := empty["content"]; ok {
		t.Fatalf("Text created content: %v", empty)
	}
	empty.EditContent()["x"] = 1
	if c, _ := empty["content"].(map[string]any); c["x"] != 1 {
		t.Fatalf("EditContent did not create content: %v", empty)
	}
}

type settings struct {
	Prefix string   `json:"prefix" jsonschema:"minLength=1"`
	Copies int      `json:"copies" jsonschema:"minimum=1,maximum=3"`
	Routes []string `json:"routes,omitempty"`
}

func (s *settings) Validate() error {
	if s.Copies < 1 || s.Copies > 3 {
		return Invalid("copies", "must be from 1 to 3")
	}
	return nil
}

// TestAdaptTypedFanOut: a typed function reads the input's key, headers,
// topics and join id, and fans out records with their own topics, keys and
// headers, its metadata decoded once by Init over the defaults.
func TestAdaptTypedFanOut(t *testing.T) {
	type doc struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	}
	type word struct {
		Word string `json:"word"`
		From string `json:"from"`
	}
	f := AdaptTyped(settings{Prefix: "w-", Copies: 1}, func(_ context.Context, d doc, in In[settings]) ([]Out, error) {
		var outs []Out
		for i, w := range strings.Fields(d.Text) {
			o := Out{Value: word{Word: w, From: strings.Join(in.Topics, "+")}, Key: []byte(in.Meta.Prefix + w),
				Headers: []Header{{Key: "source-key", Value: in.Key}, {Key: "lang", Value: in.Header("lang")}}}
			if in.Meta.Routes != nil {
				o.Topics = in.Meta.Routes[i%len(in.Meta.Routes):][:1]
			}
			outs = append(outs, o)
		}
		return outs, nil
	})
	if err := f.Init(context.Background(), json.RawMessage(`{"prefix":"k-","routes":["a","b"]}`)); err != nil {
		t.Fatal(err)
	}
	in := worker.Input{Value: json.RawMessage(`{"id":"7","text":"one two three"}`), Key: []byte("src"),
		Headers: []worker.Header{{Key: "lang", Value: []byte("en")}}, Topics: []string{"docs", "meta"}, JoinID: "7"}
	recs, err := f.Process(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, strings.Join(r.Topics, ",")+" "+string(r.Key)+" "+string(r.Value)+" "+
			string(r.Headers[0].Value)+" "+string(r.Headers[1].Value))
	}
	want := []string{
		`a k-one {"word":"one","from":"docs+meta"} src en`,
		`b k-two {"word":"two","from":"docs+meta"} src en`,
		`a k-three {"word":"three","from":"docs+meta"} src en`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := f.Process(context.Background(), worker.Input{Value: json.RawMessage(`{"id":5}`)}); !errors.As(err, new(*worker.Rejected)) {
		t.Fatalf("a message that does not fit the type: %v, want a rejection", err)
	}
}

// TestDecodeMetadata: each refusal names the field; defaults fill what is
// absent.
func TestDecodeMetadata(t *testing.T) {
	dflt := settings{Prefix: "w-", Copies: 2}
	got, err := DecodeMetadata(json.RawMessage(`{"copies":3}`), dflt)
	if err != nil || got.Prefix != "w-" || got.Copies != 3 {
		t.Fatalf("decode = %+v, %v; want the default prefix and 3 copies", got, err)
	}
	if got, err := DecodeMetadata(json.RawMessage(`null`), dflt); err != nil || got.Copies != 2 {
		t.Fatalf("null metadata = %+v, %v; want the defaults", got, err)
	}
	for raw, field := range map[string]string{
		`{"copies":"two"}`:  "metadata.copies",
		`{"copies":2.5}`:    "metadata.copies",
		`{"copies":9}`:      "metadata.copies",
		`{"copy":1}`:        "metadata.copy",
		`{"routes":[1]}`:    "metadata.routes",
		`[1]`:               "metadata",
		`{"prefix":"a"} {}`: "metadata",
	} {
		_, err := DecodeMetadata(json.RawMessage(raw), dflt)
		var fe *worker.FieldError
		if !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, field) {
			t.Errorf("DecodeMetadata(%s) = %v; want a field error on %s", raw, err, field)
		}
	}
	if _, err := DecodeMetadata(json.RawMessage(`7`), Metadata(nil)); err == nil {
		t.Error("untyped metadata that is not an object was accepted")
	}
}

// TestSchema: -describe's schema comes from the type, its tags and the
// defaults, refuses unknown fields like DecodeMetadata, and requires no
// field (each has its default).
func TestSchema(t *testing.T) {
	var s struct {
		Type                 string   `json:"type"`
		AdditionalProperties *bool    `json:"additionalProperties"`
		Required             []string `json:"required"`
		Properties           map[string]struct {
			Type    string          `json:"type"`
			Minimum json.Number     `json:"minimum"`
			Default json.RawMessage `json:"default"`
		} `json:"properties"`
	}
	raw := Schema(settings{Prefix: "w-", Copies: 2})
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	c := s.Properties["copies"]
	if s.Type != "object" || s.AdditionalProperties == nil || *s.AdditionalProperties || s.Required != nil || c.Type != "integer" ||
		c.Minimum != "1" || string(c.Default) != "2" || string(s.Properties["prefix"].Default) != `"w-"` {
		t.Fatalf("schema %s", raw)
	}
}

// TestInitErrorExits2: metadata the type refuses stops Main with status 2
// before anything is consumed (the broker address is never dialled), and
// the log names the field.
func TestInitErrorExits2(t *testing.T) {
	t.Setenv("TRIBUTARY_MYSQL_DSN", "") // make test exports the stack's; the flags configure this worker
	f := AdaptTyped(settings{Copies: 1}, func(context.Context, Message, In[settings]) ([]Out, error) { return nil, nil })
	var stderr bytes.Buffer
	code := worker.Main("sdk-test", f, []string{"-worker", "e2e-sdk-init", "-topics-input", "in", "-topics-output", "out",
		"-brokers", "127.0.0.1:1", "-metadata", `{"copies":"many"}`}, &stderr)
	var line struct {
		Msg, Field, Err string
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if strings.Contains(l, `"level":"ERROR"`) {
			_ = json.Unmarshal([]byte(l), &line)
		}
	}
	if code != 2 || line.Field != "metadata.copies" || !strings.Contains(line.Err, "must be an integer") {
		t.Fatalf("exit %d, error line %+v; want 2 naming metadata.copies\n%s", code, line, stderr.String())
	}
	if strings.Contains(stderr.String(), "worker started") {
		t.Fatalf("the worker started consuming:\n%s", stderr.String())
	}
}

package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/shared/fn"
	"github.com/tributary-etl/tributary/shared/worker"
)

type readingSettings struct {
	WordsPerMinute int  `json:"words_per_minute" jsonschema:"minimum=1,maximum=10000"`
	DropText       bool `json:"drop_text"`
}

// TestMetadataCheckedAgainstSchema: an upload carrying a function's
// -describe output (made by the SDK, as the binary prints it) makes worker
// create, update and pipeline save refuse metadata outside the schema, with
// a 422 naming the field; a describe that is no schema is refused at upload.
func TestMetadataCheckedAgainstSchema(t *testing.T) {
	e := fnEnv(t)
	editor := e.tokens[apiserver.RoleEditor]
	e.do("POST", "/api/v1/clusters", editor, `{"name":"local","bootstrap_servers":["127.0.0.1:9092"]}`).want(http.StatusCreated)
	f := fn.AdaptTyped(readingSettings{WordsPerMinute: 200}, func(context.Context, fn.Message, fn.In[readingSettings]) ([]fn.Out, error) {
		return nil, nil
	})
	describe, err := worker.Describe("reader", f)
	if err != nil {
		t.Fatal(err)
	}
	bin := fnTestBinary(t)
	var got functionJSON
	e.fnUploadDescribed(editor, "reader", "1.0.0", bin, string(describe)).want(http.StatusCreated).decode(&got)
	if len(got.MetadataSchema) == 0 {
		t.Fatalf("the upload's schema is not in the function: %+v", got)
	}
	if d := e.fnUploadDescribed(editor, "reader", "1.0.1", bin, `{"metadata_schema":{"type":"nonsense"}}`).want(422).errorOf(); d.Field != "describe" {
		t.Fatalf("a bad schema refused on field %q, want describe", d.Field)
	}
	e.fnUpload(editor, "reader", "0.9.0", bin).want(http.StatusCreated) // no describe: nothing to check

	worker := func(name, version, meta string) string {
		return fmt.Sprintf(`{"name":%q,"input_topics":["a"],"cluster_id":1,"function":"reader","function_version":%q,"metadata":%s}`,
			name, version, meta)
	}
	for meta, field := range map[string]string{
		`{"words_per_minute":0}`:      "metadata.words_per_minute",
		`{"words_per_minute":"fast"}`: "metadata.words_per_minute",
		`{"words_per_minut":100}`:     "metadata.words_per_minut",
		`{"drop_text":1}`:             "metadata.drop_text",
	} {
		d := e.do("POST", "/api/v1/workers", editor, worker("e2e-bad", "1.0.0", meta)).want(422).errorOf()
		if d.Field != field {
			t.Errorf("metadata %s refused on %q (%s), want %q", meta, d.Field, d.Message, field)
		}
	}
	w := e.wkCreate(worker("e2e-good", "1.0.0", `{"words_per_minute":120}`))
	e.wkCreate(worker("e2e-none", "1.0.0", `null`))
	e.wkCreate(worker("e2e-old", "0.9.0", `{"words_per_minute":0}`)) // the version declared no schema
	d := e.do("PUT", fmt.Sprintf("/api/v1/workers/%d", w.ID), editor, worker("e2e-good", "1.0.0", `{"words_per_minute":-1}`)).want(422).errorOf()
	if d.Field != "metadata.words_per_minute" {
		t.Errorf("update refused on %q, want metadata.words_per_minute", d.Field)
	}

	graph := func(meta string) map[string]any {
		return map[string]any{"name": "e2e-pl", "graph": json.RawMessage(`{"workers":[{"id":"w1","name":"e2e-pl-reader","input_topics":["t1"],` +
			`"cluster_id":1,"function":"reader","function_version":"1.0.0","metadata":` + meta + `}],"topics":[{"id":"t1","name":"a"}]}`)}
	}
	b, _ := json.Marshal(graph(`{"words_per_minute":20000}`))
	if d := e.do("POST", "/api/v1/pipelines", editor, string(b)).want(422).errorOf(); d.Field != "graph.workers[0].metadata.words_per_minute" {
		t.Errorf("pipeline save refused on %q (%s), want graph.workers[0].metadata.words_per_minute", d.Field, d.Message)
	}
	e.plSave("POST", "/api/v1/pipelines", graph(`{"words_per_minute":300}`), http.StatusCreated)
}

package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
)

// originalExample is the pipeline JSON of the original visualizer's
// README, as written there.
const originalExample = `{
  "workers": [
    {"id": "worker1", "name": "Worker 1", "input_topics": ["input_topic_1"], "output_topics": ["output_topic_1"]},
    {"id": "worker2", "name": "Worker 2", "input_topics": ["input_topic_2"], "output_topics": ["output_topic_2"]}
  ],
  "topics": [
    {"id": "input_topic_1", "name": "Input Topic 1"},
    {"id": "output_topic_1", "name": "Output Topic 1"}
  ]
}`

// validExample is the same graph with names Kafka accepts and every topic
// listed; workers refer to topics by id, as the original did.
const validExample = `{
  "workers": [
    {"id": "worker1", "name": "worker-1", "input_topics": ["input_topic_1"], "output_topics": ["output_topic_1"]},
    {"id": "worker2", "name": "worker-2", "input_topics": ["input_topic_2"], "output_topics": ["output_topic_2"]}
  ],
  "topics": [
    {"id": "input_topic_1", "name": "input.topic.1"},
    {"id": "output_topic_1", "name": "output.topic.1"},
    {"id": "input_topic_2", "name": "input.topic.2"},
    {"id": "output_topic_2", "name": "output.topic.2"}
  ],
  "positions": {"worker1": {"x": 10, "y": 20}},
  "layout": {"direction": "LR", "node_sep": 50}
}`

func (e *env) plSave(method, path string, body any, code int) pipelineJSON {
	e.t.Helper()
	b, _ := json.Marshal(body)
	var p pipelineJSON
	e.do(method, path, e.tokens[apiserver.RoleEditor], string(b)).want(code).decode(&p)
	return p
}

func TestPipelineSaveCreatesUpdatesAndRemovesWorkers(t *testing.T) {
	e := wkEnv(t)
	p := e.plSave("POST", "/api/v1/pipelines", map[string]any{"name": "example", "graph": json.RawMessage(validExample)}, http.StatusCreated)
	if p.Version != 1 || len(p.WorkerIDs) != 2 || p.WorkerIDs["worker-1"] == 0 {
		t.Fatalf("saved %+v", p)
	}
	var w workerJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d", p.WorkerIDs["worker-1"]), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&w)
	if strings.Join(w.InputTopics, ",") != "input.topic.1" || strings.Join(w.OutputTopics, ",") != "output.topic.1" ||
		w.PipelineID == nil || *w.PipelineID != p.ID || w.ClusterID == nil || w.KafkaBootstrapServer == "" {
		t.Fatalf("worker-1 = %+v", w)
	}

	// Load: the graph comes back as saved, positions and layout included.
	var got pipelineJSON
	e.do("GET", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
	var g graphJSON
	json.Unmarshal(got.Graph, &g)
	if g.Positions["worker1"].X != 10 || g.Layout["direction"] != "LR" || len(got.WorkerIDs) != 2 {
		t.Fatalf("loaded %s", got.Graph)
	}

	// Drop worker2, retarget worker1, with the version read: worker2's row goes.
	var graph map[string]any
	json.Unmarshal([]byte(validExample), &graph)
	graph["workers"] = []any{map[string]any{"id": "worker1", "name": "worker-1", "input_topics": []string{"input.topic.2"},
		"output_topics": []string{"output_topic_1"}, "instances": 3}}
	p2 := e.plSave("PUT", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), map[string]any{"name": "example", "graph": graph, "version": 1}, http.StatusOK)
	if p2.Version != 2 || len(p2.WorkerIDs) != 1 || p2.WorkerIDs["worker-1"] != p.WorkerIDs["worker-1"] {
		t.Fatalf("second save %+v", p2)
	}
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d", p.WorkerIDs["worker-2"]), e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d", p.WorkerIDs["worker-1"]), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&w)
	if strings.Join(w.InputTopics, ",") != "input.topic.2" || w.Instances != 3 || w.ConfigVersion != 2 {
		t.Fatalf("worker-1 after the second save = %+v", w)
	}

	// A stale version is a conflict that names the current one.
	r := e.do("PUT", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), e.tokens[apiserver.RoleEditor], `{"name":"example","graph":{"workers":[],"topics":[]},"version":1}`)
	if got := r.want(http.StatusConflict).errorOf(); got.Field != "version" || !strings.Contains(got.Message, "version 2") {
		t.Fatalf("stale save: %+v", got)
	}

	var list []pipelineSummary
	e.do("GET", "/api/v1/pipelines", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&list)
	if len(list) != 1 || list[0].Workers != 1 || list[0].Version != 2 {
		t.Fatalf("list %+v", list)
	}
	e.do("DELETE", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), e.tokens[apiserver.RoleEditor], "").want(http.StatusNoContent)
	if n := e.count("consumer_configs"); n != 0 {
		t.Fatalf("%d workers left after deleting their pipeline", n)
	}
}

// The original README's example holds names Kafka refuses: the API says so
// and names the field.
func TestPipelineOriginalExampleRefusedWithReason(t *testing.T) {
	e := wkEnv(t)
	got := e.do("POST", "/api/v1/pipelines", e.tokens[apiserver.RoleEditor], `{"name":"orig","graph":`+originalExample+`}`).want(422).errorOf()
	if got.Field != "graph.topics[0].name" || !strings.Contains(got.Message, "letters, digits") {
		t.Fatalf("original example: %+v", got)
	}
}

// TestPipelineBadInput: each refusal names its field and leaves the
// database as it was — including a graph whose second worker alone is bad.
func TestPipelineBadInput(t *testing.T) {
	e := wkEnv(t)
	e.wkCreate(`{"name":"standalone","input_topics":["a"],"cluster_id":1}`)
	p := e.plSave("POST", "/api/v1/pipelines", map[string]any{"name": "p1", "graph": json.RawMessage(validExample)}, http.StatusCreated)
	topics := `"topics":[{"id":"t1","name":"a"},{"id":"t2","name":"b"}]`
	w := func(extra string) string {
		return `{"name":"p2","graph":{"workers":[{"id":"w1","name":"ok-worker","input_topics":["a"],"output_topics":["b"]},` +
			`{"id":"w2","name":"second","input_topics":["t1"]` + extra + `}],` + topics + `}}`
	}
	cases := []struct {
		name, body string
		code       int
		field      string
	}{
		{"no name", `{"graph":{"workers":[],"topics":[]}}`, 422, "name"},
		{"no graph", `{"name":"p2"}`, 422, "graph"},
		{"graph not an object", `{"name":"p2","graph":[1]}`, 400, "graph"},
		{"unknown top field", `{"name":"p2","graph":{"workers":[],"topics":[]},"owner":"me"}`, 400, "owner"},
		{"unknown graph field", `{"name":"p2","graph":{"workers":[],"topics":[],"edges":[]}}`, 400, "graph.edges"},
		{"unknown worker field", w(`,"colour":"red"`), 400, "graph.workers[1].colour"},
		{"bad topic name", `{"name":"p2","graph":{"workers":[],"topics":[{"id":"t","name":"a b"}]}}`, 422, "graph.topics[0].name"},
		{"duplicate topic", `{"name":"p2","graph":{"workers":[],"topics":[{"id":"t","name":"a"},{"id":"u","name":"a"}]}}`, 422, "graph.topics[1].name"},
		{"duplicate node id", `{"name":"p2","graph":{"workers":[{"id":"t1","name":"x","input_topics":["a"]}],` + topics + `}}`, 422, "graph.workers[0].id"},
		{"empty node id", `{"name":"p2","graph":{"workers":[],"topics":[{"id":"","name":"a"}]}}`, 422, "graph.topics[0].id"},
		{"unknown topic reference", w(`,"output_topics":["zzz"]`), 422, "graph.workers[1].output_topics[0]"},
		{"second worker: bad timeout", w(`,"timeout_seconds":-1`), 422, "graph.workers[1].timeout_seconds"},
		{"second worker: bad name", w(`,"name":"a b"`), 400, ""},
		{"second worker: unknown function", w(`,"function":"nope","function_version":"1"`), 422, "graph.workers[1].function_version"},
		{"second worker: a standalone worker's name", `{"name":"p2","graph":{"workers":[{"id":"w1","name":"ok-worker","input_topics":["a"]},{"id":"w2","name":"standalone","input_topics":["a"]}],` + topics + `}}`, 409, "graph.workers[1].name"},
		{"second worker: another pipeline's worker", `{"name":"p2","graph":{"workers":[{"id":"w1","name":"ok-worker","input_topics":["a"]},{"id":"w2","name":"worker-1","input_topics":["a"]}],` + topics + `}}`, 409, "graph.workers[1].name"},
		{"two workers, one name", `{"name":"p2","graph":{"workers":[{"id":"w1","name":"x","input_topics":["a"]},{"id":"w2","name":"x","input_topics":["b"]}],` + topics + `}}`, 422, "graph.workers[1].name"},
		{"position of no node", `{"name":"p2","graph":{"workers":[],"topics":[],"positions":{"ghost":{"x":1,"y":1}}}}`, 422, "graph.positions.ghost"},
		{"name taken", `{"name":"p1","graph":{"workers":[],"topics":[]}}`, 409, "name"},
		{"nested too deep", `{"name":"p2","graph":{"workers":[],"topics":[],"layout":` + strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000) + `}}`, 400, ""},
	}
	tables := []string{"consumer_configs", "config_versions", "pipelines"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = e.count(tb)
	}
	for _, target := range []string{"POST /api/v1/pipelines", fmt.Sprintf("PUT /api/v1/pipelines/%d", p.ID)} {
		method, path, _ := strings.Cut(target, " ")
		for _, tc := range cases {
			if method == "PUT" && (tc.name == "name taken" || tc.name == "second worker: another pipeline's worker") {
				continue // p1's own name and workers
			}
			t.Run(method+" "+tc.name, func(t *testing.T) {
				r := e.do(method, path, e.tokens[apiserver.RoleEditor], tc.body)
				if tc.code == 400 && tc.field == "" { // any 4xx naming the problem will do
					if r.code/100 != 4 {
						t.Fatalf("status %d %s", r.code, r.body)
					}
					r.errorOf()
				} else if got := r.want(tc.code).errorOf(); got.Field != tc.field {
					t.Errorf("field %q (%s), want %q", got.Field, got.Message, tc.field)
				}
				for _, tb := range tables {
					if n := e.count(tb); n != before[tb] {
						t.Errorf("%s: %d rows, was %d", tb, n, before[tb])
					}
				}
			})
		}
	}
	var got pipelineJSON
	e.do("GET", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
	if got.Version != 1 {
		t.Errorf("refused saves moved p1 to version %d", got.Version)
	}
}

// Eight editors save the same pipeline from the version they all read:
// one wins each round, the others get 409, and the stored graph is always
// exactly one of the submitted graphs.
func TestPipelineConcurrentEditors(t *testing.T) {
	e := wkEnv(t)
	p := e.plSave("POST", "/api/v1/pipelines", map[string]any{"name": "shared", "graph": map[string]any{"workers": []any{}, "topics": []any{}}}, http.StatusCreated)
	version := p.Version
	for round := range 3 {
		var wg sync.WaitGroup
		codes := make([]int, 8)
		graphs := make([]string, 8)
		for i := range 8 {
			graphs[i] = fmt.Sprintf(`{"workers":[{"id":"w","name":"w-%d-%d","input_topics":["in-%d"]}],"topics":[{"id":"t","name":"in-%d"}]}`, round, i, i, i)
			wg.Go(func() {
				body := fmt.Sprintf(`{"name":"shared","version":%d,"graph":%s}`, version, graphs[i])
				codes[i] = e.do("PUT", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), e.tokens[apiserver.RoleEditor], body).code
			})
		}
		wg.Wait()
		won := -1
		for i, c := range codes {
			switch {
			case c == http.StatusOK && won >= 0:
				t.Fatalf("round %d: editors %d and %d both won", round, won, i)
			case c == http.StatusOK:
				won = i
			case c != http.StatusConflict:
				t.Fatalf("round %d: editor %d got %d", round, i, c)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: nobody won: %v", round, codes)
		}
		var got pipelineJSON
		e.do("GET", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
		if !sameJSONText(t, got.Graph, graphs[won]) || len(got.WorkerIDs) != 1 || got.WorkerIDs[fmt.Sprintf("w-%d-%d", round, won)] == 0 {
			t.Fatalf("round %d: stored %s with workers %v, want editor %d's graph", round, got.Graph, got.WorkerIDs, won)
		}
		version = got.Version
	}
}

func sameJSONText(t *testing.T, a json.RawMessage, b string) bool {
	t.Helper()
	return apiserver.SameJSON(a, json.RawMessage(b))
}

// FuzzParseGraph: the graph parser never panics, and what it accepts it
// accepts again after a round trip through its own output.
func FuzzParseGraph(f *testing.F) {
	for _, seed := range []string{originalExample, validExample, `{"workers":[],"topics":[]}`, `{}`, `null`, `[]`,
		`{"workers":[{"id":"w","name":"w","input_topics":["t"],"metadata":{"a":[1,{"b":null}]},"instances":2}],"topics":[{"id":"t","name":"t"}]}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		g, workers, fields, err := parseGraph(raw, 1)
		if err != nil {
			if _, ok := err.(*apiserver.Error); !ok {
				t.Fatalf("error %T %v is not an *apiserver.Error", err, err)
			}
			return
		}
		if len(workers) != len(g.Workers) || len(fields) != len(workers) {
			t.Fatalf("%d workers, %d fields for %d graph workers", len(workers), len(fields), len(g.Workers))
		}
		again, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := parseGraph(again, 1); err != nil {
			t.Fatalf("accepted %s but not its re-encoding %s: %v", raw, again, err)
		}
	})
}

package httpapi

import (
	"cmp"
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
	var stale struct{ Error staleDetail }
	r.want(http.StatusConflict).decode(&stale)
	if got := stale.Error; got.Code != apiserver.CodeConflict || got.Field != "version" || got.CurrentVersion != 2 || !strings.Contains(got.Message, "version 2") {
		t.Fatalf("stale save: %s", r.body)
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
		{"second worker: bad name", w(`,"name":"a b"`), 422, "graph.workers[1].name"},
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
		current := make([]int, 8) // the current_version a 409 names
		for i := range 8 {
			graphs[i] = fmt.Sprintf(`{"workers":[{"id":"w","name":"w-%d-%d","input_topics":["in-%d"]}],"topics":[{"id":"t","name":"in-%d"}]}`, round, i, i, i)
			wg.Go(func() {
				body := fmt.Sprintf(`{"name":"shared","version":%d,"graph":%s}`, version, graphs[i])
				r := e.do("PUT", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), e.tokens[apiserver.RoleEditor], body)
				codes[i] = r.code
				var conflict struct {
					Error struct {
						CurrentVersion int `json:"current_version"`
					} `json:"error"`
				}
				if r.code == http.StatusConflict && json.Unmarshal(r.body, &conflict) == nil {
					current[i] = conflict.Error.CurrentVersion
				}
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
		for i, c := range codes {
			if c == http.StatusConflict && current[i] != got.Version {
				t.Errorf("round %d: editor %d's 409 names current_version %d, the stored version is %d", round, i, current[i], got.Version)
			}
		}
		version = got.Version
	}
	checkWorkersMatchGraph(t, e, p.ID)
}

// Eight editors save the same pipeline without a version (no conflict
// check asked): every save succeeds, the last one wins, and the stored graph
// and its workers are exactly one editor's, never a mix.
func TestPipelineConcurrentEditorsLastWriteWins(t *testing.T) {
	e := wkEnv(t)
	p := e.plSave("POST", "/api/v1/pipelines", map[string]any{"name": "lww", "graph": map[string]any{"workers": []any{}, "topics": []any{}}}, http.StatusCreated)
	for round := range 3 {
		var wg sync.WaitGroup
		codes := make([]int, 8)
		graphs := make([]string, 8)
		for i := range 8 {
			// Two workers per graph, so a mix of two saves would show.
			graphs[i] = fmt.Sprintf(`{"workers":[{"id":"a","name":"a-%d-%d","input_topics":["in-%d"],"output_topics":["mid-%d"]},`+
				`{"id":"b","name":"b-%d-%d","input_topics":["mid-%d"]}],"topics":[{"id":"in","name":"in-%d"},{"id":"mid","name":"mid-%d"}]}`,
				round, i, i, i, round, i, i, i, i)
			wg.Go(func() {
				body := fmt.Sprintf(`{"name":"lww","graph":%s}`, graphs[i])
				codes[i] = e.do("PUT", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), e.tokens[apiserver.RoleEditor], body).code
			})
		}
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusOK {
				t.Fatalf("round %d: editor %d got %d", round, i, c)
			}
		}
		var got pipelineJSON
		e.do("GET", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
		won := -1
		for i := range graphs {
			if sameJSONText(t, got.Graph, graphs[i]) {
				won = i
			}
		}
		if won < 0 {
			t.Fatalf("round %d: stored graph %s is none of the editors'", round, got.Graph)
		}
		if len(got.WorkerIDs) != 2 || got.WorkerIDs[fmt.Sprintf("a-%d-%d", round, won)] == 0 || got.WorkerIDs[fmt.Sprintf("b-%d-%d", round, won)] == 0 {
			t.Fatalf("round %d: stored workers %v, want editor %d's two", round, got.WorkerIDs, won)
		}
		if got.Version != 1+8*(round+1) {
			t.Errorf("round %d: version %d after %d saves, want %d: a save was lost", round, got.Version, 8*(round+1), 1+8*(round+1))
		}
	}
	checkWorkersMatchGraph(t, e, p.ID)
}

// checkWorkersMatchGraph: the workers stored for the pipeline are exactly
// the workers of its stored graph, with the graph's topics.
func checkWorkersMatchGraph(t *testing.T, e *env, id int64) {
	t.Helper()
	var got pipelineJSON
	e.do("GET", fmt.Sprintf("/api/v1/pipelines/%d", id), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
	var g struct {
		Workers []struct {
			Name        string   `json:"name"`
			InputTopics []string `json:"input_topics"`
		} `json:"workers"`
		Topics []struct{ ID, Name string } `json:"topics"`
	}
	if err := json.Unmarshal(got.Graph, &g); err != nil {
		t.Fatal(err)
	}
	topicName := map[string]string{}
	for _, tp := range g.Topics {
		topicName[tp.ID] = tp.Name
	}
	if len(got.WorkerIDs) != len(g.Workers) {
		t.Fatalf("%d workers stored for a graph of %d", len(got.WorkerIDs), len(g.Workers))
	}
	for _, w := range g.Workers {
		var stored struct {
			InputTopics []string `json:"input_topics"`
		}
		e.do("GET", fmt.Sprintf("/api/v1/workers/%d", got.WorkerIDs[w.Name]), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&stored)
		want := cmp.Or(topicName[w.InputTopics[0]], w.InputTopics[0]) // a graph names a topic by id or by name
		if len(stored.InputTopics) != len(w.InputTopics) || stored.InputTopics[0] != want {
			t.Errorf("worker %s reads %v, the graph says %v", w.Name, stored.InputTopics, w.InputTopics)
		}
	}
}

func sameJSONText(t *testing.T, a json.RawMessage, b string) bool {
	t.Helper()
	return apiserver.SameJSON(a, json.RawMessage(b))
}

// FuzzParseGraph: the graph parser never panics, and what it accepts it
// accepts again after a round trip through its own output.
func FuzzParseGraph(f *testing.F) {
	for _, seed := range []string{originalExample, validExample, readmeExample, `{"workers":[],"topics":[]}`, `{}`, `null`, `[]`,
		`{"workers":[{"id":"w","name":"w","input_topics":["t"],"metadata":{"a":[1,{"b":null}]},"instances":2}],"topics":[{"id":"t","name":"t"}]}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		g, workers, err := parseGraph(raw, 1)
		if err != nil {
			if _, ok := err.(*apiserver.Error); !ok {
				t.Fatalf("error %T %v is not an *apiserver.Error", err, err)
			}
			return
		}
		if len(workers) != len(g.Workers) {
			t.Fatalf("%d workers for %d graph workers", len(workers), len(g.Workers))
		}
		for i, w := range workers {
			if w.Config.ConsumerName != g.Workers[i].Name || len(w.Config.TopicsInput) == 0 || w.Field != fmt.Sprintf("graph.workers[%d]", i) {
				t.Fatalf("worker %d: %+v from %+v", i, w, g.Workers[i])
			}
		}
		again, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := parseGraph(again, 1); err != nil {
			t.Fatalf("accepted %s but not its re-encoding %s: %v", raw, again, err)
		}
	})
}

// readmeExample is the original visualizer's example with the smallest
// edits that make it a pipeline Kafka can run, taken from the same README's
// consumer_configs table: worker names as its consumer_name column, topic
// names as its topics columns (the example's topic ids), and worker2's two
// topics, which the example leaves out of its topic list, added.
const readmeExample = `{
  "workers": [
    {"id": "worker1", "name": "worker1", "input_topics": ["input_topic_1"], "output_topics": ["output_topic_1"]},
    {"id": "worker2", "name": "worker2", "input_topics": ["input_topic_2"], "output_topics": ["output_topic_2"]}
  ],
  "topics": [
    {"id": "input_topic_1", "name": "input_topic_1"},
    {"id": "output_topic_1", "name": "output_topic_1"},
    {"id": "input_topic_2", "name": "input_topic_2"},
    {"id": "output_topic_2", "name": "output_topic_2"}
  ]
}`

// Saved as a pipeline, the README's example gives the README's own
// consumer_configs table through the original API.
func TestPipelineReadmeExampleGivesReadmeTable(t *testing.T) {
	e := wkEnv(t)
	p := e.plSave("POST", "/api/v1/pipelines", map[string]any{"name": "readme", "graph": json.RawMessage(readmeExample)}, http.StatusCreated)
	if len(p.WorkerIDs) != 2 || p.WorkerIDs["worker1"] == 0 || p.WorkerIDs["worker2"] == 0 {
		t.Fatalf("saved %+v", p)
	}
	var legacy []legacyConfig
	e.do("GET", "/api/consumer_configs", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&legacy)
	want := [][3]string{{"worker1", "input_topic_1", "output_topic_1"}, {"worker2", "input_topic_2", "output_topic_2"}}
	if len(legacy) != 2 {
		t.Fatalf("legacy view %+v", legacy)
	}
	for i, l := range legacy {
		if got := [3]string{l.ConsumerName, l.TopicsInput, l.TopicsOutput}; got != want[i] || l.KafkaBootstrapServer != "127.0.0.1:9092,127.0.0.1:9093" {
			t.Errorf("row %d = %+v, want %v", i, l, want[i])
		}
	}
}

// Each problem of the original example as written is refused on its own,
// naming its field.
func TestPipelineOriginalExampleProblems(t *testing.T) {
	e := wkEnv(t)
	cases := []struct{ name, from, to, field string }{
		{"topic label as name", `"name": "input_topic_1"}`, `"name": "Input Topic 1"}`, "graph.topics[0].name"},
		{"worker label as name", `"name": "worker2"`, `"name": "Worker 2"`, "graph.workers[1].name"},
		{"topic left out of the list", `{"id": "input_topic_2", "name": "input_topic_2"},`, ``, "graph.workers[1].input_topics[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			graph := strings.Replace(readmeExample, tc.from, tc.to, 1)
			if graph == readmeExample {
				t.Fatalf("%q not in the example", tc.from)
			}
			got := e.do("POST", "/api/v1/pipelines", e.tokens[apiserver.RoleEditor], `{"name":"orig","graph":`+graph+`}`).want(422).errorOf()
			if got.Field != tc.field {
				t.Errorf("field %q (%s), want %q", got.Field, got.Message, tc.field)
			}
			if n := e.count("consumer_configs") + e.count("pipelines"); n != 0 {
				t.Errorf("%d rows written", n)
			}
		})
	}
}

// A worker's topic reference is a topic name first, a node id second.
func TestPipelineTopicReferences(t *testing.T) {
	e := wkEnv(t)
	graph := `{"workers":[{"id":"w","name":"w","input_topics":["a","t-b"],"output_topics":["x"]}],
	  "topics":[{"id":"a","name":"x"},{"id":"t-a","name":"a"},{"id":"t-b","name":"b"}]}`
	p := e.plSave("POST", "/api/v1/pipelines", map[string]any{"name": "refs", "graph": json.RawMessage(graph)}, http.StatusCreated)
	var w workerJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d", p.WorkerIDs["w"]), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&w)
	if strings.Join(w.InputTopics, ",") != "a,b" || strings.Join(w.OutputTopics, ",") != "x" {
		t.Fatalf("topics %v → %v", w.InputTopics, w.OutputTopics)
	}
}

// Settings changed through the worker routes survive a save of a graph
// that does not mention them; a pipeline's worker keeps its pipeline and
// cannot be renamed outside the graph.
func TestPipelineWorkerSettingsSurviveSaves(t *testing.T) {
	e := wkEnv(t)
	p := e.plSave("POST", "/api/v1/pipelines", map[string]any{"name": "p", "graph": json.RawMessage(readmeExample)}, http.StatusCreated)
	path := fmt.Sprintf("/api/v1/workers/%d", p.WorkerIDs["worker1"])
	e.do("PUT", path, e.tokens[apiserver.RoleEditor], `{"name":"worker1","input_topics":["input_topic_1"],"output_topics":["output_topic_1"],
	  "kafka_bootstrap_server":"127.0.0.1:9999","function":"wordcount","function_version":"1.0.0","timeout_seconds":60,"instances":4}`).want(http.StatusOK)
	got := e.do("PUT", path, e.tokens[apiserver.RoleEditor], `{"name":"renamed","input_topics":["input_topic_1"],"kafka_bootstrap_server":"127.0.0.1:9999"}`).want(422).errorOf()
	if got.Field != "name" {
		t.Errorf("rename of a pipeline's worker: %+v", got)
	}

	graph := strings.Replace(readmeExample, `"output_topics": ["output_topic_1"]`, `"output_topics": ["output_topic_2"]`, 1)
	e.plSave("PUT", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), map[string]any{"name": "p", "graph": json.RawMessage(graph)}, http.StatusOK)
	var w workerJSON
	e.do("GET", path, e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&w)
	if strings.Join(w.OutputTopics, ",") != "output_topic_2" || w.Function != "wordcount" || w.Instances != 4 || w.TimeoutSeconds != 60 ||
		w.KafkaBootstrapServer != "127.0.0.1:9999" || w.ClusterID != nil || w.PipelineID == nil || *w.PipelineID != p.ID || w.ConfigVersion != 3 {
		t.Fatalf("after the graph save: %+v", w)
	}

	// A setting the graph does give wins; null clears.
	graph = strings.Replace(readmeExample, `"name": "worker1",`, `"name": "worker1", "function": null, "function_version": null, "cluster_id": 1,`, 1)
	e.plSave("PUT", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), map[string]any{"name": "p", "graph": json.RawMessage(graph)}, http.StatusOK)
	e.do("GET", path, e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&w)
	if w.Function != "" || w.ClusterID == nil || w.KafkaBootstrapServer != "127.0.0.1:9092,127.0.0.1:9093" || w.Instances != 4 {
		t.Fatalf("after a graph giving settings: %+v", w)
	}
}

// With no cluster registered, a graph's new worker needs servers; a stored
// one keeps its own.
func TestPipelineWithoutCluster(t *testing.T) {
	e := newEnv(t).withUsers()
	body := func(servers string) string {
		return `{"name":"p","graph":{"workers":[{"id":"w","name":"w","input_topics":["a"]` + servers + `}],"topics":[{"id":"a","name":"a"}]}}`
	}
	got := e.do("POST", "/api/v1/pipelines", e.tokens[apiserver.RoleEditor], body("")).want(422).errorOf()
	if got.Field != "graph.workers[0].cluster_id" || e.count("pipelines") != 0 {
		t.Fatalf("no cluster: %+v", got)
	}
	var p pipelineJSON
	e.do("POST", "/api/v1/pipelines", e.tokens[apiserver.RoleEditor], body(`,"kafka_bootstrap_server":"127.0.0.1:9092"`)).want(http.StatusCreated).decode(&p)
	e.do("PUT", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), e.tokens[apiserver.RoleEditor], body("")).want(http.StatusOK)
	var w workerJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d", p.WorkerIDs["w"]), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&w)
	if w.KafkaBootstrapServer != "127.0.0.1:9092" || w.ConfigVersion != 1 {
		t.Fatalf("stored worker after a save without servers: %+v", w)
	}
}

func TestPipelineWritesNeedEditorAndWakeReconciler(t *testing.T) {
	e := wkEnv(t)
	p := e.plSave("POST", "/api/v1/pipelines", map[string]any{"name": "p", "graph": json.RawMessage(readmeExample)}, http.StatusCreated)
	path := fmt.Sprintf("/api/v1/pipelines/%d", p.ID)
	wkWritesGuarded(t, e, []wkWrite{
		{"POST", "/api/v1/pipelines", `{"name":"q","graph":{"workers":[],"topics":[]}}`},
		{"PUT", path, `{"name":"p","version":1,"graph":{"workers":[],"topics":[]}}`},
		{"DELETE", path, ""},
	})
	if n := e.count("consumer_configs"); n != 0 {
		t.Errorf("%d workers left", n)
	}
}

// Eight new pipelines claiming the same new worker name at once: one gets
// it, the others get 409 and write nothing.
func TestPipelineConcurrentClaimsOfOneWorkerName(t *testing.T) {
	e := wkEnv(t)
	codes := make([]int, 8)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"name":"p%d","graph":{"workers":[{"id":"w","name":"shared","input_topics":["t%d"]}],"topics":[{"id":"t","name":"t%d"}]}}`, i, i, i)
			codes[i] = e.do("POST", "/api/v1/pipelines", e.tokens[apiserver.RoleEditor], body).code
		})
	}
	wg.Wait()
	won := 0
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			won++
		case http.StatusConflict:
		default:
			t.Errorf("save %d: status %d", i, c)
		}
	}
	if won != 1 || e.count("pipelines") != 1 || e.count("consumer_configs") != 1 || e.count("config_versions") != 1 {
		t.Fatalf("%d won (%v); %d pipelines, %d workers, %d versions", won, codes, e.count("pipelines"), e.count("consumer_configs"), e.count("config_versions"))
	}
}

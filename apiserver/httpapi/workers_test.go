package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
)

// wkEnv is a server with users, one cluster (id 1) and one function
// version (wordcount 1.0.0) recorded directly.
func wkEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t).withUsers()
	e.do("POST", "/api/v1/clusters", e.tokens[apiserver.RoleEditor], `{"name":"local","bootstrap_servers":["127.0.0.1:9092","127.0.0.1:9093"]}`).want(http.StatusCreated)
	if _, err := e.sql.Exec(`INSERT INTO functions (name, version, sha256, size_bytes) VALUES ('wordcount', '1.0.0', ?, 1), ('wordcount', '2.0.0', ?, 1)`,
		strings.Repeat("a", 64), strings.Repeat("b", 64)); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) wkCreate(body string) workerJSON {
	e.t.Helper()
	var w workerJSON
	e.do("POST", "/api/v1/workers", e.tokens[apiserver.RoleEditor], body).want(http.StatusCreated).decode(&w)
	return w
}

func TestWorkerCRUDAndLegacyView(t *testing.T) {
	e := wkEnv(t)
	w := e.wkCreate(`{"name":"enricher","input_topics":["a","b"],"output_topics":["c"],"cluster_id":1,
	  "function":"wordcount","function_version":"1.0.0","metadata":{"k":1},"timeout_seconds":30,"instances":2,
	  "expiry_topic":"enricher.expired","dead_letter_topic":"enricher.dlq","tombstone_ttl_seconds":600}`)
	if w.KafkaBootstrapServer != "127.0.0.1:9092,127.0.0.1:9093" || w.Instances != 2 || w.TimeoutSeconds != 30 ||
		w.TombstoneTTLSeconds != 600 ||
		w.JoinKey != "id" || w.DesiredState != "stopped" || w.ConfigVersion != 1 || string(w.Metadata) != `{"k": 1}` && string(w.Metadata) != `{"k":1}` {
		t.Fatalf("created %+v", w)
	}
	var got workerJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
	if got.Name != "enricher" || strings.Join(got.InputTopics, ",") != "a,b" || got.Function != "wordcount" ||
		got.TombstoneTTLSeconds != 600 {
		t.Fatalf("read back %+v", got)
	}

	// The original API sees the same worker, topics comma-separated.
	var legacy []map[string]any
	e.do("GET", "/api/consumer_configs", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&legacy)
	if len(legacy) != 1 || legacy[0]["topics_input"] != "a,b" || legacy[0]["consumer_name"] != "enricher" {
		t.Fatalf("legacy view %v", legacy)
	}

	// PUT replaces; defaults come back for what is left out.
	e.do("PUT", fmt.Sprintf("/api/v1/workers/%d", w.ID), e.tokens[apiserver.RoleEditor],
		`{"name":"enricher","input_topics":["a"],"output_topics":["c"],"kafka_bootstrap_server":"127.0.0.1:9092"}`).want(http.StatusOK).decode(&got)
	if got.ConfigVersion != 2 || got.Instances != 1 || got.Function != "" || got.ClusterID != nil || got.TimeoutSeconds != 240 ||
		got.TombstoneTTLSeconds != 0 {
		t.Fatalf("after PUT %+v", got)
	}
	// The same PUT again changes nothing and makes no version.
	e.do("PUT", fmt.Sprintf("/api/v1/workers/%d", w.ID), e.tokens[apiserver.RoleEditor],
		`{"name":"enricher","input_topics":["a"],"output_topics":["c"],"kafka_bootstrap_server":"127.0.0.1:9092"}`).want(http.StatusOK).decode(&got)
	if got.ConfigVersion != 2 {
		t.Fatalf("an unchanged PUT made version %d", got.ConfigVersion)
	}
	var list []workerJSON
	e.do("GET", "/api/v1/workers", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&list)
	if len(list) != 1 {
		t.Fatalf("list %+v", list)
	}
	e.do("DELETE", fmt.Sprintf("/api/v1/workers/%d", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusForbidden)
	e.do("DELETE", fmt.Sprintf("/api/v1/workers/%d", w.ID), e.tokens[apiserver.RoleEditor], "").want(http.StatusNoContent)
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)
	e.do("GET", "/api/v1/workers/abc", e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)
}

func TestWorkerVersionsAndRollback(t *testing.T) {
	e := wkEnv(t)
	w := e.wkCreate(`{"name":"w","input_topics":["a"],"cluster_id":1,"function":"wordcount","function_version":"1.0.0","timeout_seconds":10}`)
	path := fmt.Sprintf("/api/v1/workers/%d", w.ID)
	e.do("PUT", path, e.tokens[apiserver.RoleEditor], `{"name":"w","input_topics":["a","b"],"cluster_id":1,"function":"wordcount","function_version":"2.0.0"}`).want(http.StatusOK)
	e.do("PUT", path, e.tokens[apiserver.RoleEditor], `{"name":"w","input_topics":["c"],"cluster_id":1,"timeout_seconds":99}`).want(http.StatusOK)

	var got workerJSON
	e.do("POST", path+"/rollback", e.tokens[apiserver.RoleEditor], `{"version":1}`).want(http.StatusOK).decode(&got)
	if got.ConfigVersion != 4 || strings.Join(got.InputTopics, ",") != "a" || got.FunctionVersion != "1.0.0" || got.TimeoutSeconds != 10 {
		t.Fatalf("rollback to 1 gave %+v, want version 4 with version 1's settings", got)
	}
	var versions []versionJSON
	e.do("GET", path+"/versions", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&versions)
	if len(versions) != 4 || versions[3].Version != 4 || versions[0].CreatedBy == nil || versions[0].CreatedByEmail == nil ||
		*versions[0].CreatedByEmail != "editor@example.com" {
		t.Fatalf("versions %+v", versions)
	}
	var snap map[string]any
	json.Unmarshal(versions[1].Snapshot, &snap)
	if snap["function_version"] != "2.0.0" {
		t.Errorf("version 2 snapshot %v", snap)
	}
}

// TestWorkerBadInput: every refusal names its field and writes nothing.
func TestWorkerBadInput(t *testing.T) {
	e := wkEnv(t)
	w := e.wkCreate(`{"name":"taken","input_topics":["a"],"cluster_id":1}`)
	ok := `"name":"w2","input_topics":["a"],"cluster_id":1`
	cases := []struct {
		name, body string
		code       int
		field      string
	}{
		{"not JSON", `{"name":`, 400, ""},
		{"unknown field", `{` + ok + `,"colour":"red"}`, 400, "colour"},
		{"read-only field", `{` + ok + `,"desired_state":"running"}`, 400, "desired_state"},
		{"topics not a list", `{"name":"w2","input_topics":"a,b","cluster_id":1}`, 400, "input_topics"},
		{"no name", `{"input_topics":["a"],"cluster_id":1}`, 422, "name"},
		{"name with a space", `{"name":"my worker","input_topics":["a"],"cluster_id":1}`, 422, "name"},
		{"SQL-looking name", `{"name":"x'; DROP TABLE users; --","input_topics":["a"],"cluster_id":1}`, 422, "name"},
		{"name taken", `{"name":"taken","input_topics":["a"],"cluster_id":1}`, 409, "name"},
		{"no input topic", `{"name":"w2","cluster_id":1}`, 422, "input_topics"},
		{"bad topic name", `{"name":"w2","input_topics":["a","b/c"],"cluster_id":1}`, 422, "input_topics[1]"},
		{"topic too long", `{"name":"w2","input_topics":["` + strings.Repeat("t", 250) + `"],"cluster_id":1}`, 422, "input_topics[0]"},
		{"dot-dot topic", `{"name":"w2","input_topics":[".."],"cluster_id":1}`, 422, "input_topics[0]"},
		{"empty topic", `{"name":"w2","input_topics":[""],"cluster_id":1}`, 422, "input_topics[0]"},
		{"topics null", `{"name":"w2","input_topics":null,"cluster_id":1}`, 422, "input_topics"},
		{"duplicate topic", `{"name":"w2","input_topics":["a","b","a"],"cluster_id":1}`, 422, "input_topics[2]"},
		{"duplicate output", `{` + ok + `,"output_topics":["x","x"]}`, 422, "output_topics[1]"},
		{"output is an input", `{` + ok + `,"output_topics":["x","a"]}`, 422, "output_topics[1]"},
		{"topic not a string", `{"name":"w2","input_topics":[1],"cluster_id":1}`, 400, "input_topics"},
		{"name not a string", `{"name":7,"input_topics":["a"],"cluster_id":1}`, 400, "name"},
		{"name too long", `{"name":"` + strings.Repeat("n", 201) + `","input_topics":["a"],"cluster_id":1}`, 422, "name"},
		{"cluster id zero", `{"name":"w2","input_topics":["a"],"cluster_id":0}`, 422, "cluster_id"},
		{"version without function", `{` + ok + `,"function_version":"1.0.0"}`, 422, "function"},
		{"metadata not JSON", `{` + ok + `,"metadata":{"a":}}`, 400, ""},
		{"tombstones shorter than claims", `{` + ok + `,"tombstone_ttl_seconds":30}`, 422, "tombstone_ttl_seconds"},
		{"negative tombstone TTL", `{` + ok + `,"tombstone_ttl_seconds":-1}`, 422, "tombstone_ttl_seconds"},
		{"tombstones kept a month", `{` + ok + `,"tombstone_ttl_seconds":2592000}`, 422, "tombstone_ttl_seconds"},
		{"metadata too large", `{` + ok + `,"metadata":{"a":"` + strings.Repeat("m", MaxMetadataBytes) + `"}}`, 422, "metadata"},
		{"body too large", `{` + ok + `,"metadata":{"a":"` + strings.Repeat("m", 300<<10) + `"}}`, 413, ""},
		{"read-only config_version", `{` + ok + `,"config_version":9}`, 400, "config_version"},
		{"read-only pipeline_id", `{` + ok + `,"pipeline_id":1}`, 400, "pipeline_id"},
		{"two JSON values", `{` + ok + `} {}`, 400, ""},
		{"bad output topic", `{` + ok + `,"output_topics":["x y"]}`, 422, "output_topics[0]"},
		{"unknown cluster", `{"name":"w2","input_topics":["a"],"cluster_id":99}`, 422, "cluster_id"},
		{"no cluster nor servers", `{"name":"w2","input_topics":["a"]}`, 422, "kafka_bootstrap_server"},
		{"bad server", `{"name":"w2","input_topics":["a"],"kafka_bootstrap_server":"nohost"}`, 422, "kafka_bootstrap_server"},
		{"function without version", `{` + ok + `,"function":"wordcount"}`, 422, "function"},
		{"unknown function version", `{` + ok + `,"function":"wordcount","function_version":"9"}`, 422, "function_version"},
		{"timeout zero", `{` + ok + `,"timeout_seconds":0}`, 422, "timeout_seconds"},
		{"timeout too long", `{` + ok + `,"timeout_seconds":86401}`, 422, "timeout_seconds"},
		{"instances zero", `{` + ok + `,"instances":0}`, 422, "instances"},
		{"instances too many", `{` + ok + `,"instances":65}`, 422, "instances"},
		{"metadata a list", `{` + ok + `,"metadata":[1,2]}`, 422, "metadata"},
		{"metadata a string", `{` + ok + `,"metadata":"x"}`, 422, "metadata"},
		{"join key too long", `{` + ok + `,"join_key":"` + strings.Repeat("k", 256) + `"}`, 422, "join_key"},
		{"bad dead-letter topic", `{` + ok + `,"dead_letter_topic":"a b"}`, 422, "dead_letter_topic"},
		{"bad expiry topic", `{` + ok + `,"expiry_topic":"a*b"}`, 422, "expiry_topic"},
	}
	tables := []string{"consumer_configs", "config_versions"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = e.count(tb)
	}
	for _, method := range []string{"POST", "PUT"} {
		path := "/api/v1/workers"
		if method == "PUT" {
			path = fmt.Sprintf("/api/v1/workers/%d", w.ID)
		}
		for _, tc := range cases {
			if method == "PUT" && tc.name == "name taken" {
				continue // the worker's own name
			}
			t.Run(method+" "+tc.name, func(t *testing.T) {
				got := e.do(method, path, e.tokens[apiserver.RoleEditor], tc.body).want(tc.code).errorOf()
				if got.Field != tc.field {
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
	wkBadRollbacks(t, e)
}

// wkBadRollbacks: refused rollbacks name their field and write nothing,
// including one to a version whose function version has been deleted.
func wkBadRollbacks(t *testing.T, e *env) {
	if _, err := e.sql.Exec(`INSERT INTO functions (name, version, sha256, size_bytes) VALUES ('doomed', '0.1', ?, 1)`, strings.Repeat("c", 64)); err != nil {
		t.Fatal(err)
	}
	w := e.wkCreate(`{"name":"rb","input_topics":["a"],"cluster_id":1,"function":"doomed","function_version":"0.1"}`)
	path := fmt.Sprintf("/api/v1/workers/%d", w.ID)
	e.do("PUT", path, e.tokens[apiserver.RoleEditor], `{"name":"rb","input_topics":["b"],"cluster_id":1}`).want(http.StatusOK)
	if _, err := e.sql.Exec(`DELETE FROM functions WHERE name = 'doomed'`); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, body string
		code             int
		field            string
	}{
		{"version zero", path, `{"version":0}`, 422, "version"},
		{"negative version", path, `{"version":-3}`, 422, "version"},
		{"no such version", path, `{"version":7}`, 422, "version"},
		{"function version gone", path, `{"version":1}`, 422, "version"},
		{"version a string", path, `{"version":"1"}`, 400, "version"},
		{"version a fraction", path, `{"version":1.5}`, 400, "version"},
		{"unknown field", path, `{"v":1}`, 400, "v"},
		{"no body", path, ``, 400, ""},
		{"not JSON", path, `{"version":`, 400, ""},
		{"no such worker", "/api/v1/workers/999999", `{"version":1}`, 404, ""},
		{"malformed id", "/api/v1/workers/x1", `{"version":1}`, 404, ""},
	}
	before := map[string]int{}
	for _, tb := range []string{"consumer_configs", "config_versions"} {
		before[tb] = e.count(tb)
	}
	for _, tc := range cases {
		t.Run("rollback "+tc.name, func(t *testing.T) {
			got := e.do("POST", tc.path+"/rollback", e.tokens[apiserver.RoleEditor], tc.body).want(tc.code).errorOf()
			if got.Field != tc.field {
				t.Errorf("field %q (%s), want %q", got.Field, got.Message, tc.field)
			}
			for tb, n := range before {
				if now := e.count(tb); now != n {
					t.Errorf("%s: %d rows, was %d", tb, now, n)
				}
			}
		})
	}
	var now workerJSON
	e.do("GET", path, e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&now)
	if now.ConfigVersion != 2 || strings.Join(now.InputTopics, ",") != "b" {
		t.Errorf("refused rollbacks changed the worker: %+v", now)
	}
}

// A legacy write changes only the legacy fields; what v1 added (function,
// instances, cluster, timeout) keeps its stored value, and the change is a
// config version whose snapshot still holds them.
func TestWorkerLegacyUpdateKeepsNewColumns(t *testing.T) {
	e := wkEnv(t)
	w := e.wkCreate(`{"name":"enricher","input_topics":["a"],"cluster_id":1,"function":"wordcount","function_version":"1.0.0",
	  "timeout_seconds":30,"instances":3,"join_key":"doc_id","dead_letter_topic":"dlq"}`)
	e.do("PUT", fmt.Sprintf("/api/consumer_configs/%d", w.ID), e.tokens[apiserver.RoleEditor],
		`{"consumer_name":"enricher","topics_input":"a,b","topics_output":"c","kafka_bootstrap_server":"127.0.0.1:9092"}`).want(http.StatusOK)
	var got workerJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
	if strings.Join(got.InputTopics, ",") != "a,b" || strings.Join(got.OutputTopics, ",") != "c" || got.ConfigVersion != 2 ||
		got.Function != "wordcount" || got.FunctionVersion != "1.0.0" || got.Instances != 3 || got.TimeoutSeconds != 30 ||
		got.JoinKey != "doc_id" || got.DeadLetterTopic != "dlq" || got.ClusterID == nil || *got.ClusterID != 1 {
		t.Fatalf("after a legacy update: %+v", got)
	}
	var versions []versionJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d/versions", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&versions)
	var snap map[string]any
	if len(versions) != 2 || json.Unmarshal(versions[1].Snapshot, &snap) != nil {
		t.Fatalf("versions %+v", versions)
	}
	if snap["function"] != "wordcount" || snap["instances"] != float64(3) || snap["topics_input"].([]any)[1] != "b" {
		t.Errorf("version 2 snapshot %v", snap)
	}
}

// wkWrite is one write route with a body that would succeed.
type wkWrite struct{ method, path, body string }

// wkWritesGuarded checks that each write is refused to a viewer (403) and
// to an anonymous caller (401) without changing any table, then that the
// editor's identical request succeeds and wakes the reconciler.
func wkWritesGuarded(t *testing.T, e *env, writes []wkWrite) {
	t.Helper()
	tables := []string{"consumer_configs", "config_versions", "pipelines"}
	for _, w := range writes {
		before := map[string]int{}
		for _, tb := range tables {
			before[tb] = e.count(tb)
		}
		e.do(w.method, w.path, e.tokens[apiserver.RoleViewer], w.body).want(http.StatusForbidden).errorOf()
		e.do(w.method, w.path, "", w.body).want(http.StatusUnauthorized).errorOf()
		for _, tb := range tables {
			if n := e.count(tb); n != before[tb] {
				t.Errorf("%s %s refused to a viewer changed %s: %d rows, was %d", w.method, w.path, tb, n, before[tb])
			}
		}
		e.srv.plane.Drain() // a wake-up left by setting up
		if r := e.do(w.method, w.path, e.tokens[apiserver.RoleEditor], w.body); r.code/100 != 2 {
			t.Fatalf("%s %s as editor: %d %s", w.method, w.path, r.code, r.body)
		}
		if !e.srv.plane.Drain() {
			t.Errorf("%s %s did not wake the reconciler", w.method, w.path)
		}
	}
}

func TestWorkerWritesNeedEditorAndWakeReconciler(t *testing.T) {
	e := wkEnv(t)
	w := e.wkCreate(`{"name":"w","input_topics":["a"],"cluster_id":1}`)
	path := fmt.Sprintf("/api/v1/workers/%d", w.ID)
	wkWritesGuarded(t, e, []wkWrite{
		{"POST", "/api/v1/workers", `{"name":"w2","input_topics":["a"],"cluster_id":1}`},
		{"PUT", path, `{"name":"w","input_topics":["b"],"cluster_id":1}`},
		{"POST", path + "/rollback", `{"version":1}`},
		{"DELETE", path, ""},
	})
}

func TestWorkerListByPipeline(t *testing.T) {
	e := wkEnv(t)
	e.wkCreate(`{"name":"standalone","input_topics":["a"],"cluster_id":1}`)
	p := e.plSave("POST", "/api/v1/pipelines", map[string]any{"name": "example", "graph": json.RawMessage(validExample)}, http.StatusCreated)
	var all, mine []workerJSON
	e.do("GET", "/api/v1/workers", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&all)
	e.do("GET", fmt.Sprintf("/api/v1/workers?pipeline_id=%d", p.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&mine)
	if len(all) != 3 || len(mine) != 2 || mine[0].PipelineID == nil || *mine[0].PipelineID != p.ID || mine[0].Name != "worker-1" {
		t.Fatalf("all %d, pipeline's %+v", len(all), mine)
	}
	for _, q := range []string{"0", "-1", "x", "1.5"} {
		got := e.do("GET", "/api/v1/workers?pipeline_id="+q, e.tokens[apiserver.RoleViewer], "").want(422).errorOf()
		if got.Field != "pipeline_id" {
			t.Errorf("pipeline_id=%s: field %q", q, got.Field)
		}
	}
}

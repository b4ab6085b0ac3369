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
	  "expiry_topic":"enricher.expired","dead_letter_topic":"enricher.dlq"}`)
	if w.KafkaBootstrapServer != "127.0.0.1:9092,127.0.0.1:9093" || w.Instances != 2 || w.TimeoutSeconds != 30 ||
		w.JoinKey != "id" || w.DesiredState != "stopped" || w.ConfigVersion != 1 || string(w.Metadata) != `{"k": 1}` && string(w.Metadata) != `{"k":1}` {
		t.Fatalf("created %+v", w)
	}
	var got workerJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
	if got.Name != "enricher" || strings.Join(got.InputTopics, ",") != "a,b" || got.Function != "wordcount" {
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
	if got.ConfigVersion != 2 || got.Instances != 1 || got.Function != "" || got.ClusterID != nil || got.TimeoutSeconds != 240 {
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
	if len(versions) != 4 || versions[3].Version != 4 || versions[0].CreatedBy == nil {
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
		{"duplicate topic", `{"name":"w2","input_topics":["a","a"],"cluster_id":1}`, 422, "input_topics"},
		{"output is an input", `{` + ok + `,"output_topics":["a"]}`, 422, "output_topics"},
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
	rollback := []struct{ body, field string }{{`{"version":0}`, "version"}, {`{"version":7}`, "version"}, {`{"version":"1"}`, "version"}, {`{"v":1}`, "v"}}
	for _, rb := range rollback {
		r := e.do("POST", fmt.Sprintf("/api/v1/workers/%d/rollback", w.ID), e.tokens[apiserver.RoleEditor], rb.body)
		if r.code/100 != 4 || r.errorOf().Field != rb.field {
			t.Errorf("rollback %s: %d %s", rb.body, r.code, r.body)
		}
	}
	if n := e.count("config_versions"); n != before["config_versions"] {
		t.Errorf("refused rollbacks wrote versions")
	}
}

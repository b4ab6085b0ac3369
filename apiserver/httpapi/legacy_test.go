package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
)

// The original service's example request and response (seed 000, "API
// Endpoints"), replayed with only a token added.
const (
	seedPostBody = `[
     {
       "consumer_name": "worker1",
       "topics_input": "input_topic_1",
       "topics_output": "output_topic_1",
       "kafka_bootstrap_server": "172.17.12.80:9092"
     },
     {
       "consumer_name": "worker2",
       "topics_input": "input_topic_2",
       "topics_output": "output_topic_2",
       "kafka_bootstrap_server": "172.17.12.80:9092"
     }
   ]`
	seedGetResponse = `[{"id":1,"consumer_name":"worker1","topics_input":"input_topic_1","topics_output":"output_topic_1","kafka_bootstrap_server":"172.17.12.80:9092"},{"id":2,"consumer_name":"worker2","topics_input":"input_topic_2","topics_output":"output_topic_2","kafka_bootstrap_server":"172.17.12.80:9092"}]` + "\n"
)

func TestLegacySeedExamples(t *testing.T) {
	e := newEnv(t).withUsers()
	editor, viewer := e.tokens[apiserver.RoleEditor], e.tokens[apiserver.RoleViewer]
	e.do("POST", "/api/consumer_configs", editor, seedPostBody).want(http.StatusOK)
	r := e.do("GET", "/api/consumer_configs", viewer, "").want(http.StatusOK)
	if string(r.body) != seedGetResponse {
		t.Fatalf("GET body\n got %q\nwant %q", r.body, seedGetResponse)
	}
	if ct := r.hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	// Posting the same list again changes nothing, not even the version.
	e.do("POST", "/api/consumer_configs", editor, seedPostBody).want(http.StatusOK)
	if n := e.count("config_versions"); n != 2 {
		t.Errorf("config_versions rows = %d after an unchanged re-post, want 2", n)
	}
	// Scripts post back what they read (with ids): accepted, matched by name.
	e.do("POST", "/api/consumer_configs", editor, strings.TrimSuffix(seedGetResponse, "\n")).want(http.StatusOK)

	one := e.do("GET", "/api/consumer_configs/2", viewer, "").want(http.StatusOK)
	if want := `{"id":2,"consumer_name":"worker2","topics_input":"input_topic_2","topics_output":"output_topic_2","kafka_bootstrap_server":"172.17.12.80:9092"}` + "\n"; string(one.body) != want {
		t.Fatalf("GET /2 = %q", one.body)
	}
}

func TestLegacyUpdateVersionsAndDelete(t *testing.T) {
	e := newEnv(t).withUsers()
	editor := e.tokens[apiserver.RoleEditor]
	e.do("POST", "/api/consumer_configs", editor, seedPostBody).want(http.StatusOK)
	// Update by name through POST, with metadatas and a list of topics.
	r := e.do("POST", "/api/consumer_configs", editor,
		`[{"consumer_name":"worker1","topics_input":"a,b","topics_output":["out"],"kafka_bootstrap_server":"k1:9092,k2:9092","metadatas":{"lang":"ro","note":"café <&>"}}]`).want(http.StatusOK)
	want := `[{"id":1,"consumer_name":"worker1","topics_input":"a,b","topics_output":"out","kafka_bootstrap_server":"k1:9092,k2:9092","metadatas":{"lang":"ro","note":"caf\u00e9 <&>"}}]` + "\n"
	if string(r.body) != want {
		t.Fatalf("POST body\n got %q\nwant %q", r.body, want)
	}
	var version int
	e.sql.QueryRow("SELECT config_version FROM consumer_configs WHERE id = 1").Scan(&version)
	if version != 2 {
		t.Errorf("config_version = %d, want 2", version)
	}
	// metadatas as a string round-trips as a string.
	r = e.do("PUT", "/api/consumer_configs/1", editor,
		`{"consumer_name":"worker1","topics_input":"a","topics_output":"","kafka_bootstrap_server":"k1:9092","metadatas":"plain"}`).want(http.StatusOK)
	if want := `{"id":1,"consumer_name":"worker1","topics_input":"a","topics_output":"","kafka_bootstrap_server":"k1:9092","metadatas":"plain"}` + "\n"; string(r.body) != want {
		t.Fatalf("PUT body %q", r.body)
	}
	versions, err := e.db.ConfigVersions(t.Context(), 1)
	if err != nil || len(versions) != 3 || versions[2].Version != 3 || versions[2].CreatedBy.Int64 != 2 {
		t.Fatalf("versions = %+v, %v", versions, err)
	}
	// Renaming onto another config's name is a conflict on consumer_name.
	r = e.do("PUT", "/api/consumer_configs/1", editor,
		`{"consumer_name":"worker2","topics_input":"a","topics_output":"","kafka_bootstrap_server":"k1:9092"}`).want(http.StatusConflict)
	if f := r.errorOf().Field; f != "consumer_name" {
		t.Errorf("conflict field %q", f)
	}
	e.do("DELETE", "/api/consumer_configs/1", editor, "").want(http.StatusNoContent)
	e.do("GET", "/api/consumer_configs/1", editor, "").want(http.StatusNotFound).errorOf()
	e.do("DELETE", "/api/consumer_configs/1", editor, "").want(http.StatusNotFound)
	if n := e.count("config_versions"); n != 5 { // 2 creates, 2 updates, 1 delete
		t.Errorf("config_versions rows = %d, want 5", n)
	}
}

func TestLegacyAnonymousSwitch(t *testing.T) {
	closed := newEnv(t)
	closed.do("GET", "/api/consumer_configs", "", "").want(http.StatusUnauthorized)
	open := newEnv(t, func(c *config.Config) { c.LegacyAnonymous = true })
	open.do("POST", "/api/consumer_configs", "", seedPostBody).want(http.StatusOK)
	if r := open.do("GET", "/api/consumer_configs", "", "").want(http.StatusOK); string(r.body) != seedGetResponse {
		t.Fatalf("anonymous GET %q", r.body)
	}
	// The switch opens only the legacy surface.
	open.do("GET", "/api/v1/auth/me", "", "").want(http.StatusUnauthorized)
}

func TestLegacyBadInput(t *testing.T) {
	e := newEnv(t).withUsers()
	editor := e.tokens[apiserver.RoleEditor]
	e.do("POST", "/api/consumer_configs", editor, seedPostBody).want(http.StatusOK)
	good := `{"consumer_name":"ok","topics_input":"in","topics_output":"out","kafka_bootstrap_server":"k:9092"}`
	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"not json", "POST", "/api/consumer_configs", `[{`, 400, ""},
		{"object not list", "POST", "/api/consumer_configs", good, 400, ""},
		{"empty body", "POST", "/api/consumer_configs", ``, 400, ""},
		{"unknown field", "POST", "/api/consumer_configs", `[{"consumer_name":"x","topics_input":"a","kafka_bootstrap_server":"k:1","color":"red"}]`, 400, "color"},
		{"name wrong type", "POST", "/api/consumer_configs", `[{"consumer_name":5,"topics_input":"a","kafka_bootstrap_server":"k:1"}]`, 400, "consumer_name"},
		{"trailing data", "POST", "/api/consumer_configs", `[] []`, 400, ""},
		{"bad 2nd item writes nothing", "POST", "/api/consumer_configs", `[` + good + `,{"consumer_name":"x","topics_input":"bad topic!","kafka_bootstrap_server":"k:1"}]`, 422, "[1].topics_input"},
		{"missing name", "POST", "/api/consumer_configs", `[{"topics_input":"a","kafka_bootstrap_server":"k:1"}]`, 422, "[0].consumer_name"},
		{"empty name", "POST", "/api/consumer_configs", `[{"consumer_name":"","topics_input":"a","kafka_bootstrap_server":"k:1"}]`, 422, "[0].consumer_name"},
		{"missing input", "POST", "/api/consumer_configs", `[{"consumer_name":"x","kafka_bootstrap_server":"k:1"}]`, 422, "[0].topics_input"},
		{"empty input", "POST", "/api/consumer_configs", `[{"consumer_name":"x","topics_input":"","kafka_bootstrap_server":"k:1"}]`, 422, "[0].topics_input"},
		{"topics wrong type", "POST", "/api/consumer_configs", `[{"consumer_name":"x","topics_input":7,"kafka_bootstrap_server":"k:1"}]`, 422, "[0].topics_input"},
		{"output is input", "POST", "/api/consumer_configs", `[{"consumer_name":"x","topics_input":"a","topics_output":"a","kafka_bootstrap_server":"k:1"}]`, 422, "[0].topics_output"},
		{"missing bootstrap", "POST", "/api/consumer_configs", `[{"consumer_name":"x","topics_input":"a"}]`, 422, "[0].kafka_bootstrap_server"},
		{"bootstrap not host:port", "POST", "/api/consumer_configs", `[{"consumer_name":"x","topics_input":"a","kafka_bootstrap_server":"kafka"}]`, 422, "[0].kafka_bootstrap_server"},
		{"duplicate name in list", "POST", "/api/consumer_configs", `[` + good + `,` + good + `]`, 422, "[1].consumer_name"},
		{"metadatas too big", "POST", "/api/consumer_configs", `[{"consumer_name":"x","topics_input":"a","kafka_bootstrap_server":"k:1","metadatas":"` + strings.Repeat("m", MaxMetadataBytes) + `"}]`, 422, "[0].metadatas"},
		{"body too large", "POST", "/api/consumer_configs", `[` + strings.Repeat(" ", 256<<10) + `]`, 413, ""},
		{"put bad id", "PUT", "/api/consumer_configs/abc", good, 400, "id"},
		{"put unknown id", "PUT", "/api/consumer_configs/99", good, 404, ""},
		{"put bad topic", "PUT", "/api/consumer_configs/1", `{"consumer_name":"worker1","topics_input":"..","kafka_bootstrap_server":"k:1"}`, 422, "topics_input"},
		{"put unknown field", "PUT", "/api/consumer_configs/1", `{"consumer_name":"worker1","topics_input":"a","kafka_bootstrap_server":"k:1","timeout":3}`, 400, "timeout"},
		{"put list", "PUT", "/api/consumer_configs/1", `[` + good + `]`, 400, ""},
		{"delete bad id", "DELETE", "/api/consumer_configs/-1", "", 400, "id"},
	}
	before, beforeVersions := e.count("consumer_configs"), e.count("config_versions")
	snapshot := e.do("GET", "/api/consumer_configs", editor, "").body
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, editor, tt.body)
			if r.code != tt.status {
				t.Fatalf("status %d, want %d: %s", r.code, tt.status, r.body)
			}
			if got := r.errorOf().Field; got != tt.field {
				t.Errorf("field %q, want %q (%s)", got, tt.field, r.body)
			}
			if e.count("consumer_configs") != before || e.count("config_versions") != beforeVersions {
				t.Errorf("rows were written")
			}
			if now := e.do("GET", "/api/consumer_configs", editor, "").body; string(now) != string(snapshot) {
				t.Errorf("configs changed: %s", now)
			}
		})
	}
}

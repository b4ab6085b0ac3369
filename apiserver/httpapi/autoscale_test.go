package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/scheduler"
)

// TestAutoscaleSettings: the policy round-trips through workers and
// pipelines with its defaults, changing it makes no config version, every
// refusal names its field, and a manual scale of an autoscaled worker is
// a 409 that says how to scale it by hand.
func TestAutoscaleSettings(t *testing.T) {
	client, err := nomad.NewClient(&nomad.Config{Address: "http://127.0.0.1:1"}) // never reached: the refusals come first
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(client, "../../jobs/worker.nomad.hcl")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOpts(t, []Option{WithScheduler(sched)}).withUsers()
	ed := e.tokens[apiserver.RoleEditor]
	base := `"input_topics":["a"],"kafka_bootstrap_server":"127.0.0.1:9092"`
	w := e.wkCreate(`{"name":"as",` + base + `,"autoscale":{"enabled":true,"max":3,"lag_per_instance":500}}`)
	if a := w.Autoscale; a == nil || !a.Enabled || *a.Min != 1 || a.Max != 3 || a.LagPerInstance != 500 || *a.CooldownSeconds != 300 || a.ActivationLag != 0 {
		t.Fatalf("stored policy %+v", a)
	}
	path := fmt.Sprintf("/api/v1/workers/%d", w.ID)
	var got workerJSON
	e.do("PUT", path, ed, `{"name":"as",`+base+`,"autoscale":{"enabled":true,"min":2,"max":4,"lag_per_instance":10,"activation_lag":5,"cooldown_seconds":0}}`).
		want(http.StatusOK).decode(&got)
	if a := got.Autoscale; *a.Min != 2 || a.Max != 4 || *a.CooldownSeconds != 0 || a.ActivationLag != 5 || got.ConfigVersion != w.ConfigVersion {
		t.Errorf("after PUT: policy %+v, config version %d (was %d: a policy change must not roll the job)", a, got.ConfigVersion, w.ConfigVersion)
	}

	r := e.do("POST", path+"/scale", ed, `{"instances":2}`).want(http.StatusConflict).errorOf()
	if r.Field != "instances" || !strings.Contains(r.Message, "autoscale.enabled") {
		t.Errorf("manual scale of an autoscaled worker: %+v", r)
	}

	for _, tt := range []struct{ policy, field string }{
		{`{"enabled":true,"min":0,"max":3,"lag_per_instance":1}`, "autoscale.min"},
		{`{"enabled":true,"min":3,"max":2,"lag_per_instance":1}`, "autoscale.max"},
		{`{"enabled":true,"max":65,"lag_per_instance":1}`, "autoscale.max"},
		{`{"enabled":true,"max":3}`, "autoscale.lag_per_instance"},
		{`{"enabled":true,"max":3,"lag_per_instance":1,"activation_lag":-1}`, "autoscale.activation_lag"},
		{`{"enabled":true,"max":3,"lag_per_instance":1,"cooldown_seconds":86401}`, "autoscale.cooldown_seconds"},
		{`{"enabled":"yes"}`, "autoscale.enabled"},
	} {
		r := e.do("PUT", path, ed, `{"name":"as",`+base+`,"autoscale":`+tt.policy+`}`)
		if r.code/100 != 4 || r.errorOf().Field != tt.field {
			t.Errorf("%s: %d %s, want a 4xx naming %s", tt.policy, r.code, r.body, tt.field)
		}
	}

	// In a pipeline's graph, under the worker's path; a save that leaves
	// the policy out keeps it.
	graph := func(policy string) string {
		return `{"name":"asp","graph":{"topics":[{"id":"t1","name":"a"}],"workers":[{"id":"w1","name":"asp-w",
		  "input_topics":["t1"],"kafka_bootstrap_server":"127.0.0.1:9092"` + policy + `}]}}`
	}
	r2 := e.do("POST", "/api/v1/pipelines", ed, graph(`,"autoscale":{"enabled":true,"max":0,"lag_per_instance":1}`)).errorOf()
	if r2.Field != "graph.workers[0].autoscale.max" {
		t.Errorf("graph refusal names %q", r2.Field)
	}
	var p pipelineJSON
	e.do("POST", "/api/v1/pipelines", ed, graph(`,"autoscale":{"enabled":true,"max":2,"lag_per_instance":7}`)).want(http.StatusCreated).decode(&p)
	e.do("PUT", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), ed, strings.Replace(graph(""), `"name":"asp"`, fmt.Sprintf(`"name":"asp","version":%d`, p.Version), 1)).want(http.StatusOK)
	var ws []workerJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers?pipeline_id=%d", p.ID), ed, "").want(http.StatusOK).decode(&ws)
	if len(ws) != 1 || ws[0].Autoscale == nil || ws[0].Autoscale.LagPerInstance != 7 {
		t.Errorf("pipeline worker after a save without autoscale: %+v", ws)
	}
}

// TestOpenAPIHasControlPlane: the document has the event log's route and
// the autoscaling policy on workers, requests and answers alike.
func TestOpenAPIHasControlPlane(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	e.do("GET", "/openapi.json", "", "").want(http.StatusOK).decode(&doc)
	if _, ok := doc.Paths["/api/v1/events"]["get"]; !ok {
		t.Error("no GET /api/v1/events")
	}
	for _, schema := range []string{"Worker", "WorkerInput"} {
		if _, ok := doc.Components.Schemas[schema].Properties["autoscale"]; !ok {
			t.Errorf("schema %s has no autoscale", schema)
		}
	}
	for _, f := range []string{"enabled", "min", "max", "lag_per_instance", "activation_lag", "cooldown_seconds"} {
		if _, ok := doc.Components.Schemas["Autoscale"].Properties[f]; !ok {
			t.Errorf("schema Autoscale has no %s", f)
		}
	}
	for _, f := range []string{"id", "at", "actor", "action", "worker_id", "pipeline_id", "from", "to", "reason"} {
		if _, ok := doc.Components.Schemas["Event"].Properties[f]; !ok {
			t.Errorf("schema Event has no %s", f)
		}
	}
}

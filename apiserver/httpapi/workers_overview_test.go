package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestWorkersOverview lists every worker, in a pipeline or not, with its
// lag read once per cluster; a cluster that does not answer leaves its
// workers' lag null with a warning, and so does the missing Nomad.
func TestWorkersOverview(t *testing.T) {
	e := newEnv(t).withUsers()
	brokers := stacktest.Kfake(t, 2)
	mnProduce(t, brokers, "ov.a", map[int]int{0: 4, 1: 3})
	mnProduce(t, brokers, "ov.b", map[int]int{0: 2})
	mnConsume(t, brokers, "ov-reader", "ov.a", 5)
	servers := strings.Join(brokers, ",")
	editor := e.tokens[apiserver.RoleEditor]
	reader := e.wkCreate(`{"name":"ov-reader","input_topics":["ov.a"],"kafka_bootstrap_server":"` + servers + `"}`)
	e.wkCreate(`{"name":"ov-joiner","input_topics":["ov.a","ov.b"],"kafka_bootstrap_server":"` + servers + `"}`)
	e.wkCreate(`{"name":"ov-lost","input_topics":["ov.a"],"kafka_bootstrap_server":"127.0.0.1:1"}`)
	e.do("POST", "/api/v1/pipelines", editor, `{"name":"ov-pipe","graph":{"workers":[{"id":"w","name":"ov-piped","input_topics":["t"],
	  "output_topics":[],"kafka_bootstrap_server":"`+servers+`"}],"topics":[{"id":"t","name":"ov.b"}]}}`).want(http.StatusCreated)

	var ov overviewJSON
	e.do("GET", "/api/v1/workers/overview", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&ov)
	byName := map[string]workerOverviewJSON{}
	for _, w := range ov.Workers {
		byName[w.Name] = w
	}
	lag := func(name string) int64 {
		t.Helper()
		w, ok := byName[name]
		if !ok || w.Lag == nil {
			t.Fatalf("%s: no lag in %+v", name, w)
		}
		return *w.Lag
	}
	if len(ov.Workers) != 4 || byName["ov-reader"].ID != reader.ID || byName["ov-reader"].InputTopics[0] != "ov.a" {
		t.Fatalf("overview %+v", ov.Workers)
	}
	if got := lag("ov-reader"); got != 2 {
		t.Errorf("ov-reader lags %d, want 7 - 5 = 2", got)
	}
	if got := lag("ov-joiner"); got != 9 {
		t.Errorf("ov-joiner, which never committed, lags %d, want 7 + 2", got)
	}
	if got := lag("ov-piped"); got != 2 {
		t.Errorf("ov-piped lags %d, want 2", got)
	}
	if p := byName["ov-piped"].PipelineName; p == nil || *p != "ov-pipe" || byName["ov-reader"].PipelineName != nil {
		t.Errorf("pipeline names: piped %v, reader %v", p, byName["ov-reader"].PipelineName)
	}
	lost := byName["ov-lost"]
	if lost.Lag != nil || lost.Job != nil || lost.Running != nil || lost.InPerSec != nil {
		t.Errorf("ov-lost %+v: want no lag, job, instances or rates", lost)
	}
	warned := func(part string) bool {
		return slices.ContainsFunc(ov.Warnings, func(w string) bool { return strings.Contains(w, part) })
	}
	if !warned("127.0.0.1:1 did not answer") || !warned("Nomad is not configured") {
		t.Errorf("warnings %q", ov.Warnings)
	}
	e.do("GET", "/api/v1/workers/overview", "", "").want(http.StatusUnauthorized)
}

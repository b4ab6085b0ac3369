package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestPipelineDeployEndToEnd: a pipeline saved from the editor's JSON
// creates its workers; deploying it through the API brings their jobs up
// in Nomad, and a worker that cannot be deployed is reported without
// holding the others back; removing a worker from the graph makes the
// reconciler purge its job, and only its job.
func TestPipelineDeployEndToEnd(t *testing.T) {
	e, client := dpEnv(t)
	keep, drop, bare := stacktest.Name(t, "keep"), stacktest.Name(t, "drop"), stacktest.Name(t, "bare")
	in1, in2, out := stacktest.Name(t, "in1"), stacktest.Name(t, "in2"), stacktest.Name(t, "out")
	dpPurgeJob(t, client, keep)
	dpPurgeJob(t, client, drop)
	foreign := dpForeignJob(t, client, stacktest.Name(t, "foreign"))
	fn := map[string]any{"function": "template", "function_version": "1.0.0"}
	worker := func(id, name string, in, out []string, settings map[string]any) map[string]any {
		w := map[string]any{"id": id, "name": name, "input_topics": in, "output_topics": out}
		for k, v := range settings {
			w[k] = v
		}
		return w
	}
	graph := map[string]any{
		"workers": []map[string]any{
			worker("w1", keep, []string{"t1", "t2"}, []string{"t3"}, fn),
			worker("w3", bare, []string{"t1"}, []string{}, nil), // no function: cannot be deployed
			worker("w2", drop, []string{"t3"}, []string{}, fn),
		},
		"topics": []map[string]any{{"id": "t1", "name": in1}, {"id": "t2", "name": in2}, {"id": "t3", "name": out}},
	}
	p := e.plSave("POST", "/api/v1/pipelines", map[string]any{"name": "e2e", "graph": graph}, http.StatusCreated)
	if len(p.WorkerIDs) != 3 {
		t.Fatalf("pipeline created workers %v", p.WorkerIDs)
	}

	var deployed []deployJSON
	e.do("POST", fmt.Sprintf("/api/v1/pipelines/%d/deploy", p.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusForbidden)
	e.do("POST", fmt.Sprintf("/api/v1/pipelines/%d/deploy", p.ID), e.tokens[apiserver.RoleEditor], "").
		want(http.StatusMultiStatus).decode(&deployed)
	if len(deployed) != 3 {
		t.Fatalf("deploy answered %+v", deployed)
	}
	for _, d := range deployed {
		switch {
		case d.Worker == bare && (d.Error == "" || !strings.Contains(d.Error, "no function")):
			t.Errorf("the worker without a function: %+v", d)
		case d.Worker != bare && (d.EvalID == "" || d.Error != "" || d.JobID != scheduler.JobID(d.Worker)):
			t.Errorf("worker %s: %+v", d.Worker, d)
		}
	}
	for _, name := range []string{keep, drop} {
		st := e.dpWaitStatus(p.WorkerIDs[name], 3*time.Minute, dpHealthy)
		t.Logf("%s healthy: %d/%d allocations", name, st.Healthy, st.Desired)
		job, _, err := client.Jobs().Info(scheduler.JobID(name), nil)
		if err != nil {
			t.Fatal(err)
		}
		if job.Meta[scheduler.MetaOwner] == "" || job.Meta["tributary_worker_id"] != fmt.Sprint(p.WorkerIDs[name]) {
			t.Errorf("job meta %v lacks the owner or worker id", job.Meta)
		}
	}
	var w workerJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d", p.WorkerIDs[bare]), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&w)
	if w.DesiredState != apiserver.DesiredStopped {
		t.Errorf("the refused worker was marked %s", w.DesiredState)
	}

	// The editor removes drop from the graph: its row goes and the
	// reconciler, woken by the save, purges its job.
	graph["workers"] = graph["workers"].([]map[string]any)[:2]
	e.plSave("PUT", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), map[string]any{"name": "e2e", "graph": graph, "version": 1}, http.StatusOK)
	dpWaitJobGone(t, client, drop, time.Minute)
	if st := e.dpWaitStatus(p.WorkerIDs[keep], time.Minute, dpHealthy); st.DesiredState != "running" {
		t.Errorf("the worker left in the graph: %+v", st)
	}
	// A job under Tributary's prefix that another installation owns is
	// not this reconciler's to remove.
	if job, _, err := client.Jobs().Info(foreign, nil); err != nil || *job.Stop {
		t.Errorf("the reconciler touched another installation's job %s: %v", foreign, err)
	}

	var statuses []statusJSON
	e.do("GET", fmt.Sprintf("/api/v1/pipelines/%d/status", p.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&statuses)
	if len(statuses) != 2 || statuses[0].Worker != keep || statuses[1].Worker != bare || statuses[1].Job != nil {
		t.Fatalf("pipeline status %+v", statuses)
	}
	// With metrics, one request has what the editor shows of each worker:
	// the deployed one's metrics, none for the one never deployed.
	var live []pipelineWorkerStatusJSON
	e.do("GET", fmt.Sprintf("/api/v1/pipelines/%d/status?metrics=true", p.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&live)
	if len(live) != 2 || live[0].Metrics == nil || live[0].Metrics.Worker != keep || live[0].Metrics.Instances.AllocationsRunning == nil ||
		*live[0].Metrics.Instances.AllocationsRunning < 1 || live[1].Metrics != nil || live[1].MetricsError != "" {
		t.Fatalf("pipeline status with metrics %+v", live)
	}
	e.do("GET", fmt.Sprintf("/api/v1/pipelines/%d/status?metrics=maybe", p.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusUnprocessableEntity)
	// The list of pipelines sums it up without a request per pipeline.
	var list []pipelineSummary
	e.do("GET", "/api/v1/pipelines", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&list)
	for _, ps := range list {
		if ps.ID == p.ID && (ps.Health == nil || ps.Health.Deployed != 1 || ps.Health.Healthy != 1) {
			t.Errorf("pipeline %d in the list: health %+v, want 1 deployed and healthy", p.ID, ps.Health)
		}
	}

	var stopped []deployJSON
	e.do("POST", fmt.Sprintf("/api/v1/pipelines/%d/stop", p.ID), e.tokens[apiserver.RoleEditor], "").want(http.StatusOK).decode(&stopped)
	if len(stopped) != 2 || stopped[0].Error != "" || stopped[1].Error != "" {
		t.Fatalf("pipeline stop %+v", stopped)
	}
	if job, _, err := client.Jobs().Info(scheduler.JobID(keep), nil); err != nil || !*job.Stop {
		t.Errorf("job of %s not stopped after the pipeline's stop: %v", keep, err)
	}
}

// dpWaitJobGone waits until Nomad no longer knows the worker's job.
func dpWaitJobGone(t *testing.T, client *nomad.Client, worker string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		_, _, err := client.Jobs().Info(scheduler.JobID(worker), nil)
		if err != nil && strings.Contains(err.Error(), "404") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job of %s still in Nomad %s after its worker left the graph (err %v)", worker, d, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// dpForeignJob registers a job under Tributary's prefix owned by another
// installation. A constraint no node meets keeps it from running anything.
func dpForeignJob(t *testing.T, client *nomad.Client, worker string) string {
	t.Helper()
	id := scheduler.JobID(worker)
	job := nomad.NewServiceJob(id, id, "global", 50)
	job.Datacenters = []string{"*"}
	job.Meta = map[string]string{scheduler.MetaOwner: "another-installation"}
	job.Constrain(nomad.NewConstraint("${attr.kernel.name}", "=", "no-such-kernel"))
	task := nomad.NewTask("sleep", "raw_exec").SetConfig("command", "/bin/sleep").SetConfig("args", []string{"60"})
	job.AddTaskGroup(nomad.NewTaskGroup("g", 1).AddTask(task))
	if _, _, err := client.Jobs().Register(job, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Jobs().DeregisterOpts(id, &nomad.DeregisterOptions{Purge: true}, nil) })
	return id
}

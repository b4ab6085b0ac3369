package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// templateBinary builds functions/template once per test process.
var templateBinary = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "apiserver-fn")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "template")
	build := exec.Command("go", "build", "-o", out, "./functions/template")
	build.Dir = "../.."
	if b, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build functions/template: %v\n%s", err, b)
	}
	return os.ReadFile(out)
})

// dpEnv is a server deploying through the stack's Nomad: it listens on a
// real port (Nomad downloads artifacts from it), workers read their config
// from the test's private database, and its reconciler runs until the test
// ends. It has users, a cluster (the stack's broker) and the template
// function uploaded as template 1.0.0.
func dpEnv(t *testing.T) (*env, *nomad.Client) {
	t.Helper()
	addr := stacktest.Nomad(t)
	brokers := stacktest.Kafka(t)
	rdb, _ := stacktest.Redis(t)
	client, err := nomad.NewClient(&nomad.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(client, "../../jobs/worker.nomad.hcl")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e := newEnvOpts(t, []Option{WithScheduler(sched), WithRedis(rdb)}, func(c *config.Config) {
		c.DataDir = dir
		c.PublicURL = "http://" + ln.Addr().String()
		c.RedisAddr = stacktest.RedisAddr()
		c.WorkerOTLP = stacktest.OTLPEndpoint()
		c.ReconcileEvery = 0 // passes only when woken: the test decides
	})
	e.srv.cfg.WorkerMySQLDSN = e.dsn
	srv := &http.Server{Handler: e.handler}
	go srv.Serve(ln)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.srv.RunReconciler(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	e.withUsers()
	e.do("POST", "/api/v1/clusters", e.tokens[apiserver.RoleEditor],
		`{"name":"stack","bootstrap_servers":["`+strings.Join(brokers, `","`)+`"]}`).want(http.StatusCreated)
	bin, err := templateBinary()
	if err != nil {
		t.Fatal(err)
	}
	e.fnUpload(e.tokens[apiserver.RoleEditor], "template", "1.0.0", bin).want(http.StatusCreated)
	return e, client
}

// purgeJob removes a worker's job when the test ends, whatever happened.
func purgeJob(t *testing.T, client *nomad.Client, worker string) {
	t.Cleanup(func() {
		client.Jobs().DeregisterOpts(scheduler.JobID(worker), &nomad.DeregisterOptions{Purge: true}, nil)
	})
}

// waitStatus polls the worker's status until ok says yes, for at most d.
func (e *env) waitStatus(id int64, d time.Duration, ok func(statusJSON) bool) statusJSON {
	e.t.Helper()
	var st statusJSON
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		st = statusJSON{}
		e.do("GET", fmt.Sprintf("/api/v1/workers/%d/status", id), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&st)
		if ok(st) {
			return st
		}
		time.Sleep(500 * time.Millisecond)
	}
	e.t.Fatalf("status of worker %d never matched within %s; last: %+v", id, d, st)
	return st
}

func healthy(st statusJSON) bool {
	return st.Job != nil && !st.Job.Stopped && st.Healthy >= st.Desired && st.Desired > 0
}

// TestPipelineDeployEndToEnd: a pipeline saved from the editor's JSON
// creates its workers; deploying it through the API brings their jobs up
// in Nomad; removing a worker from the graph stops its job.
func TestPipelineDeployEndToEnd(t *testing.T) {
	e, client := dpEnv(t)
	keep, drop := stacktest.Name(t, "keep"), stacktest.Name(t, "drop")
	in1, in2, out := stacktest.Name(t, "in1"), stacktest.Name(t, "in2"), stacktest.Name(t, "out")
	purgeJob(t, client, keep)
	purgeJob(t, client, drop)
	graph := map[string]any{
		"workers": []map[string]any{
			{"id": "w1", "name": keep, "input_topics": []string{"t1", "t2"}, "output_topics": []string{"t3"}, "function": "template", "function_version": "1.0.0"},
			{"id": "w2", "name": drop, "input_topics": []string{"t3"}, "output_topics": []string{}, "function": "template", "function_version": "1.0.0"},
		},
		"topics": []map[string]any{{"id": "t1", "name": in1}, {"id": "t2", "name": in2}, {"id": "t3", "name": out}},
	}
	p := e.plSave("POST", "/api/v1/pipelines", map[string]any{"name": "e2e", "graph": graph}, http.StatusCreated)
	if len(p.WorkerIDs) != 2 {
		t.Fatalf("pipeline created workers %v", p.WorkerIDs)
	}

	var deployed []deployJSON
	e.do("POST", fmt.Sprintf("/api/v1/pipelines/%d/deploy", p.ID), e.tokens[apiserver.RoleEditor], "").want(http.StatusAccepted).decode(&deployed)
	if len(deployed) != 2 || deployed[0].EvalID == "" || deployed[0].Error != "" {
		t.Fatalf("deploy answered %+v", deployed)
	}
	for _, name := range []string{keep, drop} {
		st := e.waitStatus(p.WorkerIDs[name], 3*time.Minute, healthy)
		t.Logf("%s healthy: %d/%d allocations", name, st.Healthy, st.Desired)
		job, _, err := client.Jobs().Info(scheduler.JobID(name), nil)
		if err != nil {
			t.Fatal(err)
		}
		if job.Meta[scheduler.MetaOwner] == "" || job.Meta["tributary_worker_id"] != fmt.Sprint(p.WorkerIDs[name]) {
			t.Errorf("job meta %v lacks the owner or worker id", job.Meta)
		}
	}

	// The editor removes drop from the graph: its row goes and the
	// reconciler, woken by the save, stops its job.
	graph["workers"] = graph["workers"].([]map[string]any)[:1]
	e.plSave("PUT", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), map[string]any{"name": "e2e", "graph": graph, "version": 1}, http.StatusOK)
	deadline := time.Now().Add(time.Minute)
	for {
		_, _, err := client.Jobs().Info(scheduler.JobID(drop), nil)
		if err != nil && strings.Contains(err.Error(), "404") {
			break // purged
		}
		if time.Now().After(deadline) {
			t.Fatalf("job of %s still in Nomad a minute after its worker left the graph (err %v)", drop, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if st := e.waitStatus(p.WorkerIDs[keep], time.Minute, healthy); st.DesiredState != "running" {
		t.Errorf("the worker left in the graph: %+v", st)
	}

	var statuses []statusJSON
	e.do("GET", fmt.Sprintf("/api/v1/pipelines/%d/status", p.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&statuses)
	if len(statuses) != 1 || statuses[0].Worker != keep {
		t.Fatalf("pipeline status %+v", statuses)
	}
}

// TestDeployScaleStopAndReconcile drives one worker through the API and
// stops its job behind the server's back: the reconciler brings it back.
func TestDeployScaleStopAndReconcile(t *testing.T) {
	e, client := dpEnv(t)
	name := stacktest.Name(t, "solo")
	purgeJob(t, client, name)
	w := e.wkCreate(`{"name":"` + name + `","input_topics":["` + stacktest.Name(t, "in") + `"],"cluster_id":1,"function":"template","function_version":"1.0.0"}`)
	path := fmt.Sprintf("/api/v1/workers/%d", w.ID)

	var st statusJSON
	e.do("GET", path+"/status", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&st)
	if st.Job != nil || st.DesiredState != "stopped" {
		t.Fatalf("status before deploy %+v", st)
	}
	e.do("POST", path+"/deploy", e.tokens[apiserver.RoleViewer], "").want(http.StatusForbidden)
	e.do("POST", path+"/deploy", e.tokens[apiserver.RoleEditor], "").want(http.StatusAccepted)
	e.waitStatus(w.ID, 3*time.Minute, healthy)

	var scaled workerJSON
	e.do("POST", path+"/scale", e.tokens[apiserver.RoleEditor], `{"instances":2}`).want(http.StatusOK).decode(&scaled)
	if scaled.Instances != 2 {
		t.Fatalf("scale answered %+v", scaled)
	}
	e.waitStatus(w.ID, 3*time.Minute, func(st statusJSON) bool { return st.Desired == 2 && st.Healthy >= 2 })

	// Out of band, as `nomad job stop` would: the reconciler registers it again.
	if _, _, err := client.Jobs().Deregister(scheduler.JobID(name), false, nil); err != nil {
		t.Fatal(err)
	}
	e.srv.notifyChanged()
	e.waitStatus(w.ID, 3*time.Minute, func(st statusJSON) bool { return healthy(st) && st.Healthy >= 2 })

	var stopped workerJSON
	e.do("POST", path+"/stop", e.tokens[apiserver.RoleEditor], "").want(http.StatusOK).decode(&stopped)
	if stopped.DesiredState != "stopped" {
		t.Fatalf("stop answered %+v", stopped)
	}
	e.waitStatus(w.ID, time.Minute, func(st statusJSON) bool { return st.Job == nil || st.Job.Stopped })
}

// TestDeployBadInput: refusals name the field and change nothing.
func TestDeployBadInput(t *testing.T) {
	e, _ := dpEnv(t)
	w := e.wkCreate(`{"name":"` + stacktest.Name(t, "nofn") + `","input_topics":["a"],"cluster_id":1}`)
	path := fmt.Sprintf("/api/v1/workers/%d", w.ID)
	cases := []struct {
		route, body string
		code        int
		field       string
	}{
		{"/deploy", "", 422, "function"},
		{"/scale", `{"instances":0}`, 422, "instances"},
		{"/scale", `{"instances":65}`, 422, "instances"},
		{"/scale", `{"instances":"2"}`, 400, "instances"},
		{"/scale", `{"instances":2,"force":true}`, 400, "force"},
		{"/scale", ``, 400, ""},
	}
	for _, tc := range cases {
		r := e.do("POST", path+tc.route, e.tokens[apiserver.RoleEditor], tc.body).want(tc.code)
		if got := r.errorOf(); got.Field != tc.field {
			t.Errorf("%s %s: field %q (%s), want %q", tc.route, tc.body, got.Field, got.Message, tc.field)
		}
	}
	var after workerJSON
	e.do("GET", path, e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&after)
	if after.DesiredState != "stopped" || after.Instances != 1 || after.ConfigVersion != 1 {
		t.Errorf("refused calls changed the worker: %+v", after)
	}
	e.do("POST", "/api/v1/workers/999999/deploy", e.tokens[apiserver.RoleEditor], "").want(http.StatusNotFound)
	e.do("POST", "/api/v1/pipelines/999999/deploy", e.tokens[apiserver.RoleEditor], "").want(http.StatusNotFound)

	// Without Nomad configured, the routes say so.
	bare := newEnv(t).withUsers()
	for _, route := range []string{"/deploy", "/stop", "/status"} {
		method := "POST"
		if route == "/status" {
			method = "GET"
		}
		if got := bare.do(method, "/api/v1/workers/1"+route, bare.tokens[apiserver.RoleEditor], "").want(http.StatusServiceUnavailable).errorOf(); !strings.Contains(got.Message, "Nomad") {
			t.Errorf("%s without Nomad: %q", route, got.Message)
		}
	}
}

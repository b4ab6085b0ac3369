package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// dpTemplateBinary builds functions/template once per test process.
var dpTemplateBinary = buildOnce("../..", "./functions/template")

// dpEnv is a server deploying through the stack's Nomad: it listens on a
// real port (Nomad downloads artifacts from it), workers read their config
// from the test's private database, and its reconciler runs until the test
// ends. It has users, a cluster (the stack's broker) and the template
// function uploaded as template 1.0.0.
func dpEnv(t *testing.T, mutate ...func(*config.Config)) (*env, *nomad.Client) {
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
		for _, m := range mutate {
			m(c)
		}
	})
	srv := &http.Server{Handler: e.handler}
	go srv.Serve(ln)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.srv.plane.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	e.withUsers()
	e.do("POST", "/api/v1/clusters", e.tokens[apiserver.RoleEditor],
		`{"name":"stack","bootstrap_servers":["`+strings.Join(brokers, `","`)+`"]}`).want(http.StatusCreated)
	bin, err := dpTemplateBinary()
	if err != nil {
		t.Fatal(err)
	}
	e.fnUpload(e.tokens[apiserver.RoleEditor], "template", "1.0.0", bin).want(http.StatusCreated)
	return e, client
}

// dpPurgeJob removes a worker's job when the test ends, whatever happened.
func dpPurgeJob(t *testing.T, client *nomad.Client, worker string) {
	t.Cleanup(func() {
		client.Jobs().DeregisterOpts(scheduler.JobID(worker), &nomad.DeregisterOptions{Purge: true}, nil)
	})
}

// dpWaitStatus polls the worker's status until ok says yes, for at most d.
func (e *env) dpWaitStatus(id int64, d time.Duration, ok func(statusJSON) bool) statusJSON {
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

func dpHealthy(st statusJSON) bool {
	return st.Job != nil && !st.Job.Stopped && st.Healthy >= st.Desired && st.Desired > 0
}

// TestDeployScaleStopAndReconcile drives one worker through the API and
// stops its job behind the server's back: the reconciler brings it back.
func TestDeployScaleStopAndReconcile(t *testing.T) {
	e, client := dpEnv(t)
	name := stacktest.Name(t, "solo")
	dpPurgeJob(t, client, name)
	w := e.wkCreate(`{"name":"` + name + `","input_topics":["` + stacktest.Name(t, "in") + `"],"cluster_id":1,"function":"template","function_version":"1.0.0"}`)
	path := fmt.Sprintf("/api/v1/workers/%d", w.ID)

	var st statusJSON
	e.do("GET", path+"/status", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&st)
	if st.Job != nil || st.DesiredState != "stopped" {
		t.Fatalf("status before deploy %+v", st)
	}
	e.do("POST", path+"/deploy", e.tokens[apiserver.RoleViewer], "").want(http.StatusForbidden)
	var dep deployJSON
	e.do("POST", path+"/deploy", e.tokens[apiserver.RoleEditor], "").want(http.StatusAccepted).decode(&dep)
	if dep.Worker != name || dep.JobID != scheduler.JobID(name) || dep.EvalID == "" {
		t.Fatalf("deploy answered %+v", dep)
	}
	st = e.dpWaitStatus(w.ID, 3*time.Minute, dpHealthy)
	if st.Job.Version != dep.JobVersion || st.DesiredState != "running" || len(st.Allocations) == 0 ||
		st.Allocations[0].TaskState != "running" || st.Allocations[0].Node == "" || st.Allocations[0].StartedAt == nil ||
		st.Allocations[0].LastEventAt == nil {
		t.Errorf("status of the healthy worker %+v", st)
	}
	// The list of every worker says the same, and the allocation's log
	// tail reads through the API.
	var ov overviewJSON
	e.do("GET", "/api/v1/workers/overview", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&ov)
	if len(ov.Workers) != 1 || ov.Workers[0].Job == nil || ov.Workers[0].Job.Status != "running" || *ov.Workers[0].Healthy != 1 ||
		*ov.Workers[0].Desired != 1 || *ov.Workers[0].Running != 1 || ov.Workers[0].Lag == nil {
		t.Errorf("overview of the healthy worker %+v (warnings %q)", ov.Workers, ov.Warnings)
	}
	var logs logsJSON
	e.do("GET", path+"/allocations/"+st.Allocations[0].ID+"/logs?tail=4096", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&logs)
	if logs.Stream != "stderr" || len(logs.Text) > 4096 || !strings.Contains(logs.Text, "/healthz") {
		t.Errorf("stderr tail of %s (%d bytes):\n%s", logs.Allocation, len(logs.Text), logs.Text)
	}
	e.do("GET", path+"/allocations/00000000-0000-0000-0000-000000000000/logs", e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)
	e.do("GET", path+"/allocations/"+st.Allocations[0].ID+"/logs?stream=both", e.tokens[apiserver.RoleViewer], "").want(http.StatusUnprocessableEntity)
	e.do("GET", path+"/allocations/"+st.Allocations[0].ID+"/logs?tail=0", e.tokens[apiserver.RoleViewer], "").want(http.StatusUnprocessableEntity)

	var scaled workerJSON
	e.do("POST", path+"/scale", e.tokens[apiserver.RoleEditor], `{"instances":2}`).want(http.StatusOK).decode(&scaled)
	if scaled.Instances != 2 {
		t.Fatalf("scale answered %+v", scaled)
	}
	// While the scale rolls out, the instances that run are healthy or not
	// yet judged (the scale's deployment judges them again), never
	// neither: an unverified allocation is not an unhealthy one.
	unverified := 0
	e.dpWaitStatus(w.ID, 3*time.Minute, func(st statusJSON) bool {
		if st.Running > 0 && st.Healthy+st.Unverified < st.Running {
			t.Errorf("during the scale: %d running, %d healthy, %d unverified", st.Running, st.Healthy, st.Unverified)
		}
		unverified = max(unverified, st.Unverified)
		return st.Desired == 2 && st.Healthy >= 2
	})
	t.Logf("during the scale, up to %d running allocations awaited their deployment's verdict", unverified)

	// Out of band, as `nomad job stop` would: the reconciler registers it again.
	if _, _, err := client.Jobs().Deregister(scheduler.JobID(name), false, nil); err != nil {
		t.Fatal(err)
	}
	e.srv.notifyChanged()
	st = e.dpWaitStatus(w.ID, 3*time.Minute, func(st statusJSON) bool { return dpHealthy(st) && st.Healthy >= 2 })
	if st.Job.Version <= dep.JobVersion {
		t.Errorf("job version %d after the reconciler registered it again; it was %d", st.Job.Version, dep.JobVersion)
	}

	var stopped workerJSON
	e.do("POST", path+"/stop", e.tokens[apiserver.RoleEditor], "").want(http.StatusOK).decode(&stopped)
	if stopped.DesiredState != "stopped" {
		t.Fatalf("stop answered %+v", stopped)
	}
	e.dpWaitStatus(w.ID, time.Minute, func(st statusJSON) bool { return st.Job == nil || st.Job.Stopped })

	// A pass after the stop does not bring it back: the stopped worker's
	// job is no longer desired and goes.
	e.srv.notifyChanged()
	dpWaitJobGone(t, client, name, time.Minute)

	// Each action is in the event log, newest first, with who did it.
	var evs []events.Event
	e.do("GET", fmt.Sprintf("/api/v1/events?worker_id=%d", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&evs)
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Action+" by "+ev.Actor)
	}
	want := []string{"stop by editor@example.com", "reconcile_repair by reconciler", "scale by editor@example.com", "deploy by editor@example.com"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("events %q, want %q", got, want)
	}
}

// TestDeployBadInput: refusals name the field and change nothing, neither
// in the database nor in Nomad.
func TestDeployBadInput(t *testing.T) {
	e, client := dpEnv(t)
	nofn := e.wkCreate(`{"name":"` + stacktest.Name(t, "nofn") + `","input_topics":["a"],"cluster_id":1}`)
	gone := e.wkCreate(`{"name":"` + stacktest.Name(t, "gone") + `","input_topics":["a"],"cluster_id":1,"function":"template","function_version":"1.0.0"}`)
	// The version disappears behind the API's back (the functions routes
	// refuse deleting a version in use).
	if _, err := e.sql.Exec("UPDATE consumer_configs SET function_version = '9.9.9' WHERE id = ?", gone.ID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		worker      workerJSON
		route, body string
		code        int
		field       string
	}{
		{nofn, "/deploy", "", 422, "function"},
		{gone, "/deploy", "", 422, "function_version"},
		{nofn, "/scale", `{"instances":0}`, 422, "instances"},
		{nofn, "/scale", `{"instances":-1}`, 422, "instances"},
		{nofn, "/scale", `{"instances":65}`, 422, "instances"},
		{nofn, "/scale", `{"instances":"2"}`, 400, "instances"},
		{nofn, "/scale", `{"instances":2.5}`, 400, "instances"},
		{nofn, "/scale", `{"instances":2,"force":true}`, 400, "force"},
		{nofn, "/scale", `[2]`, 400, ""},
		{nofn, "/scale", ``, 400, ""},
	}
	for _, tc := range cases {
		path := fmt.Sprintf("/api/v1/workers/%d%s", tc.worker.ID, tc.route)
		r := e.do("POST", path, e.tokens[apiserver.RoleEditor], tc.body).want(tc.code)
		if got := r.errorOf(); got.Field != tc.field {
			t.Errorf("%s %s: field %q (%s), want %q", path, tc.body, got.Field, got.Message, tc.field)
		}
	}
	for _, w := range []workerJSON{nofn, gone} {
		var after workerJSON
		e.do("GET", fmt.Sprintf("/api/v1/workers/%d", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&after)
		if after.DesiredState != "stopped" || after.Instances != 1 || after.ConfigVersion != 1 {
			t.Errorf("refused calls changed worker %s: %+v", w.Name, after)
		}
		if _, _, err := client.Jobs().Info(scheduler.JobID(w.Name), nil); err == nil || !strings.Contains(err.Error(), "404") {
			t.Errorf("a refused deploy left a job for %s in Nomad (err %v)", w.Name, err)
		}
	}
	for _, path := range []string{"/workers/999999/deploy", "/workers/999999/scale", "/workers/999999/stop", "/pipelines/999999/deploy", "/pipelines/999999/stop"} {
		e.do("POST", "/api/v1"+path, e.tokens[apiserver.RoleEditor], `{"instances":1}`).want(http.StatusNotFound)
	}
	e.do("GET", "/api/v1/workers/999999/status", e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)
	e.do("GET", "/api/v1/pipelines/999999/status", e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)
}

// TestDeployWithoutNomad: a server without a scheduler answers 503 naming
// Nomad on every route; one whose Nomad does not answer says 503 with the
// reason, and keeps the worker marked running for the reconciler.
func TestDeployWithoutNomad(t *testing.T) {
	bare := newEnv(t).withUsers()
	routes := []struct{ method, path string }{
		{"POST", "/workers/1/deploy"}, {"POST", "/workers/1/scale"}, {"POST", "/workers/1/stop"}, {"GET", "/workers/1/status"},
		{"POST", "/pipelines/1/deploy"}, {"POST", "/pipelines/1/stop"}, {"GET", "/pipelines/1/status"},
	}
	for _, r := range routes {
		got := bare.do(r.method, "/api/v1"+r.path, bare.tokens[apiserver.RoleEditor], `{"instances":1}`).want(http.StatusServiceUnavailable).errorOf()
		if !strings.Contains(got.Message, "Nomad is not configured") {
			t.Errorf("%s %s without Nomad: %q", r.method, r.path, got.Message)
		}
	}
	bare.do("POST", "/api/v1/workers/1/deploy", "", "").want(http.StatusUnauthorized)

	// A Nomad address nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	client, err := nomad.NewClient(&nomad.Config{Address: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(client, "../../jobs/worker.nomad.hcl")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOpts(t, []Option{WithScheduler(sched)}, func(c *config.Config) { c.PublicURL = "http://127.0.0.1:1" }).withUsers()
	if _, err := e.sql.Exec("INSERT INTO functions (name, version, sha256, size_bytes) VALUES ('template', '1.0.0', ?, 1)", strings.Repeat("c", 64)); err != nil {
		t.Fatal(err)
	}
	w := e.wkCreate(`{"name":"` + stacktest.Name(t, "lost") + `","input_topics":["a"],"kafka_bootstrap_server":"127.0.0.1:9092","function":"template","function_version":"1.0.0"}`)
	got := e.do("POST", fmt.Sprintf("/api/v1/workers/%d/deploy", w.ID), e.tokens[apiserver.RoleEditor], "").want(http.StatusServiceUnavailable).errorOf()
	if !strings.Contains(got.Message, "Nomad") || !strings.Contains(got.Message, "connection refused") {
		t.Errorf("deploy with Nomad down: %q", got.Message)
	}
	var after workerJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&after)
	if after.DesiredState != "running" || after.ConfigVersion != 1 {
		t.Errorf("after a deploy Nomad did not take: %+v; want it marked running for the reconciler", after)
	}
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d/status", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusServiceUnavailable)
}

// TestDeployedWorkerKeepsItsTombstoneTTL: a worker's tombstone_ttl_seconds
// travels from the API through MySQL to the deployed runtime, whose
// tombstones in Redis expire after it (not after the default hour).
func TestDeployedWorkerKeepsItsTombstoneTTL(t *testing.T) {
	e, client := dpEnv(t)
	brokers := stacktest.Kafka(t)
	rdb, _ := stacktest.Redis(t)
	name := stacktest.Name(t, "ttl")
	dpPurgeJob(t, client, name)
	left, right, out := name+".left", name+".right", name+".out"
	w := e.wkCreate(fmt.Sprintf(`{"name":%q,"input_topics":[%q,%q],"output_topics":[%q],"cluster_id":1,
	  "function":"template","function_version":"1.0.0","tombstone_ttl_seconds":120}`, name, left, right, out))
	e.do("POST", fmt.Sprintf("/api/v1/workers/%d/deploy", w.ID), e.tokens[apiserver.RoleEditor], "").want(http.StatusAccepted)
	e.dpWaitStatus(w.ID, 3*time.Minute, dpHealthy)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	emitted := stacktest.CheckIDs(ctx, brokers, out, false)
	feed := stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: 20, Rate: 100}
	feed.Run(t, ctx)
	stacktest.WaitFor(t, 2*time.Minute, stacktest.IDs(feed.IDs), emitted)

	// The tombstone is written when the output is confirmed, just after it
	// is emitted: wait for all of them.
	// A tombstone is the string left under a join's key (shared/join/doc.go).
	pattern := "trib:{" + name + ":*}:j:*"
	var keys []string
	for deadline := time.Now().Add(30 * time.Second); len(keys) < feed.IDs && time.Now().Before(deadline); {
		keys = keys[:0]
		iter := rdb.ScanType(ctx, 0, pattern, 10000, "string").Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // poll interval, bounded by deadline
	}
	if len(keys) != feed.IDs {
		t.Fatalf("%d tombstones match %s, want %d", len(keys), pattern, feed.IDs)
	}
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > 120*time.Second {
			t.Errorf("%s expires in %s, want within the worker's 120 s", k, ttl)
		}
	}
	rdb.Del(ctx, keys...)
}

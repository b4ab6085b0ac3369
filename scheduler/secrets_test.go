package scheduler_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/nomad/api"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// TestSecretsStayOutOfJobSpec deploys a worker that can only learn its
// input topic from MySQL, with the DSN as a secret: it turns healthy only
// if the task saw the DSN, while neither the job Nomad stores nor its
// submission carries the password. A changed secret then restarts the
// task without a new job version, and a purge deletes the variable.
func TestSecretsStayOutOfJobSpec(t *testing.T) {
	t.Parallel()
	s, client := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Second)
	defer cancel()
	spec := workerSpec(t, s)
	db, dsn := stacktest.MySQL(t)
	if _, err := db.ExecContext(ctx, worker.Schema); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO consumer_configs (consumer_name, topics_input, topics_output, kafka_bootstrap_server)
	  VALUES (?, JSON_ARRAY(?), '[]', ?)`, spec.Worker, spec.Env["TRIBUTARY_TOPICS_INPUT"], spec.Env["TRIBUTARY_KAFKA_BROKERS"]); err != nil {
		t.Fatal(err)
	}
	delete(spec.Env, "TRIBUTARY_TOPICS_INPUT") // only the config row names it
	spec.Secrets = map[string]string{"TRIBUTARY_MYSQL_DSN": dsn}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil || cfg.Passwd == "" {
		t.Fatalf("the stack's DSN has no password to hide (%v)", err)
	}

	deploy(t, ctx, s, spec)
	waitHealthy(t, ctx, s, spec.Worker, 1)

	id := scheduler.JobID(spec.Worker)
	for _, path := range []string{"/v1/job/" + id, "/v1/job/" + id + "/submission?version=0"} {
		body := rawGet(t, ctx, path)
		for _, leak := range []string{dsn, ":" + cfg.Passwd + "@"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s contains %q", path, leak)
			}
		}
	}
	job, _, err := client.Jobs().Info(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	task := job.TaskGroups[0].Tasks[0]
	if _, ok := task.Env["TRIBUTARY_MYSQL_DSN"]; ok || len(task.Templates) != 1 || !strings.Contains(*task.Templates[0].EmbeddedTmpl, "nomadVar") {
		t.Errorf("task env %v, %d templates: want the DSN only through a nomadVar template", task.Env, len(task.Templates))
	}
	v, _, err := client.Variables().Read(scheduler.SecretsPath(id), nil)
	if err != nil || v.Items["TRIBUTARY_MYSQL_DSN"] != dsn {
		t.Fatalf("variable %s: %v, %v", scheduler.SecretsPath(id), v, err)
	}

	// Same spec, another secret: the reconciler rewrites the variable
	// only, and the template restarts the task with it.
	before, err := s.Status(ctx, spec.Worker)
	if err != nil {
		t.Fatal(err)
	}
	spec.Secrets = map[string]string{"TRIBUTARY_MYSQL_DSN": dsn + "&timeout=7s"}
	rep, err := s.ReconcileWith(ctx, []scheduler.WorkerSpec{spec}, scheduler.ReconcileOptions{Prefix: id})
	if err != nil || len(rep.Registered) != 1 || rep.Registered[0].Reason != scheduler.ReasonSecretsChanged ||
		rep.Registered[0].JobVersion != before.Version {
		t.Fatalf("reconcile after a secret change: %+v, %v; want the variable rewritten at version %d", rep, err, before.Version)
	}
	waitRestarted(t, ctx, client, id)
	if rep, err := s.ReconcileWith(ctx, []scheduler.WorkerSpec{spec}, scheduler.ReconcileOptions{Prefix: id}); err != nil || len(rep.Unchanged) != 1 {
		t.Errorf("second reconcile: %+v, %v; want unchanged", rep, err)
	}
	waitHealthy(t, ctx, s, spec.Worker, 1)

	if err := s.Stop(ctx, spec.Worker, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.Variables().Read(scheduler.SecretsPath(id), nil); !errors.Is(err, api.ErrVariablePathNotFound) {
		t.Errorf("variable after the purge: %v, want not found", err)
	}
}

func rawGet(t *testing.T, ctx context.Context, path string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", stacktest.NomadAddr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return string(b)
}

// waitRestarted waits, with blocking queries, for a task of job id to be
// restarted by its template.
func waitRestarted(t *testing.T, ctx context.Context, client *api.Client, id string) {
	t.Helper()
	start := time.Now()
	var index uint64
	for {
		allocs, meta, err := client.Jobs().Allocations(id, false, (&api.QueryOptions{WaitIndex: index}).WithContext(ctx))
		if err != nil {
			t.Fatalf("waiting for the template to restart the task: %v", err)
		}
		index = meta.LastIndex
		for _, a := range allocs {
			for _, st := range a.TaskStates {
				for _, ev := range st.Events {
					if ev.Type == api.TaskRestartSignal {
						t.Logf("task restarted %s after the secret changed: %s", time.Since(start).Round(time.Millisecond), ev.DisplayMessage)
						return
					}
				}
			}
		}
	}
}

// TestSecretsNeedVariables: a Nomad without the Variables API (before
// 1.4) makes Deploy fail with ErrNoVariables instead of registering a job
// whose template would wait for its secrets forever. No such Nomad can be
// built here, so this runs against a FAKE of one: a proxy to the stack's
// Nomad that answers /v1/var/ with 404, as those versions' routers answer
// an unknown route.
func TestSecretsNeedVariables(t *testing.T) {
	real, err := url.Parse(stacktest.Nomad(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(real)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/var/") {
			http.NotFound(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer fake.Close()
	client, err := api.NewClient(&api.Config{Address: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	s, err := scheduler.New(client, filepath.Join(repoRoot, "jobs", "worker.nomad.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	direct, _ := newScheduler(t)
	spec := workerSpec(t, direct) // purged through the real agent
	spec.Secrets = map[string]string{"TRIBUTARY_MYSQL_DSN": "u:p@tcp(127.0.0.1:3306)/db"}
	_, err = s.Deploy(t.Context(), spec)
	if !errors.Is(err, scheduler.ErrNoVariables) || !strings.Contains(err.Error(), "Nomad 1.4 or later") {
		t.Fatalf("Deploy on a Nomad without Variables: %v, want ErrNoVariables naming the version needed", err)
	}
	if _, err := direct.Status(t.Context(), spec.Worker); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("a job was registered without its secrets: %v", err)
	}

	// A worker name Nomad cannot make a variable path of is refused before
	// anything is written.
	spec.Worker = "has.dot"
	if _, err := s.Deploy(t.Context(), spec); !errors.Is(err, scheduler.ErrInvalidSpec) || !strings.Contains(err.Error(), "rename the worker") {
		t.Errorf("Deploy of %s with secrets: %v, want ErrInvalidSpec", spec.Worker, err)
	}
}

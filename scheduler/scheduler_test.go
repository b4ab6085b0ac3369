package scheduler_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// repoRoot is the repository the tests run in (the parent of scheduler/).
var repoRoot string

// artifact is the template function binary, built once and served over
// HTTP for Nomad's artifact getter.
var artifact struct {
	url    string
	sha256 string
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Dir(wd)
	dir, err := os.MkdirTemp("", "scheduler-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "template")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./functions/template")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build the template function: %v\n", err)
		return 1
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sum := sha256.Sum256(data)
	artifact.sha256 = hex.EncodeToString(sum[:])

	srv := httptest.NewServer(http.FileServer(http.Dir(dir))) // listens on 127.0.0.1
	defer srv.Close()
	artifact.url = srv.URL + "/template"
	return m.Run()
}

// newScheduler connects to the stack's Nomad agent (skipping, or failing
// under CI=true, when it is down).
func newScheduler(t *testing.T) (*scheduler.Scheduler, *api.Client) {
	t.Helper()
	addr := stacktest.Nomad(t)
	client, err := api.NewClient(&api.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	s, err := scheduler.New(client, filepath.Join(repoRoot, "jobs", "worker.nomad.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	return s, client
}

// workerSpec returns a spec for a new worker reading one private topic of
// the stack's broker, and purges the worker's job when the test ends.
func workerSpec(t *testing.T, s *scheduler.Scheduler) scheduler.WorkerSpec {
	t.Helper()
	brokers := stacktest.Kafka(t)
	stacktest.Redis(t)
	worker := strings.ReplaceAll(stacktest.Name(t, "w"), "_", "-")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Stop(ctx, worker, true); err != nil {
			t.Errorf("purge worker %s: %v", worker, err)
		}
	})
	return scheduler.WorkerSpec{
		Worker:          worker,
		WorkerID:        "42",
		Instances:       1,
		ArtifactURL:     artifact.url,
		ArtifactSHA256:  artifact.sha256,
		FunctionName:    "template",
		FunctionVersion: "1.0.0",
		ConfigVersion:   "7",
		MinHealthyTime:  time.Second,
		Env: map[string]string{
			"TRIBUTARY_TOPICS_INPUT":      stacktest.Name(t, "in"),
			"TRIBUTARY_KAFKA_BROKERS":     strings.Join(brokers, ","),
			"TRIBUTARY_REDIS_ADDR":        stacktest.RedisAddr(),
			"OTEL_EXPORTER_OTLP_ENDPOINT": stacktest.OTLPEndpoint(),
			"TRIBUTARY_LOG_FORMAT":        "text",
		},
	}
}

func deploy(t *testing.T, ctx context.Context, s *scheduler.Scheduler, spec scheduler.WorkerSpec) scheduler.DeployResult {
	t.Helper()
	res, err := s.Deploy(ctx, spec)
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if res.EvalID == "" || res.JobModifyIndex == 0 {
		t.Fatalf("Deploy returned %+v, want an evaluation and a modify index", res)
	}
	return res
}

func waitHealthy(t *testing.T, ctx context.Context, s *scheduler.Scheduler, worker string, n int) scheduler.WorkerStatus {
	t.Helper()
	start := time.Now()
	st, err := s.WaitHealthy(ctx, worker, n)
	if err != nil {
		t.Fatalf("WaitHealthy(%d): %v\nstatus: %+v", n, err, st)
	}
	t.Logf("%d healthy allocations after %s", n, time.Since(start).Round(time.Millisecond))
	return st
}

func healthyRunning(st scheduler.WorkerStatus) []scheduler.Allocation {
	var out []scheduler.Allocation
	for _, a := range st.Allocations {
		if a.HealthyRunning() {
			out = append(out, a)
		}
	}
	return out
}

func TestDeployRunsHealthyWorker(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	spec := workerSpec(t, s)

	res := deploy(t, ctx, s, spec)
	if res.JobID != scheduler.JobID(spec.Worker) || res.JobVersion != 0 {
		t.Errorf("Deploy = %+v, want job %s version 0", res, scheduler.JobID(spec.Worker))
	}
	waitHealthy(t, ctx, s, spec.Worker, 1)

	st, err := s.Status(ctx, spec.Worker)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "running" || st.Version != res.JobVersion {
		t.Errorf("job status %q version %d, want running version %d", st.Status, st.Version, res.JobVersion)
	}
	wantMeta := map[string]string{
		"tributary_worker":           spec.Worker,
		"tributary_worker_id":        "42",
		"tributary_function":         "template",
		"tributary_function_version": "1.0.0",
		"tributary_config_version":   "7",
	}
	for k, v := range wantMeta {
		if st.Meta[k] != v {
			t.Errorf("meta %s = %q, want %q", k, st.Meta[k], v)
		}
	}
	if got := healthyRunning(st); len(got) != 1 {
		t.Fatalf("%d healthy running allocations, want 1: %+v", len(got), st.Allocations)
	}
	if counts, err := s.HealthyCounts(ctx); err != nil || counts[spec.Worker] != 1 {
		t.Errorf("HealthyCounts()[%s] = %d (%v), want 1", spec.Worker, counts[spec.Worker], err)
	}
	if jobs, err := s.Jobs(ctx); err != nil || jobs[spec.Worker] != (scheduler.JobState{Status: "running", Running: 1, Healthy: 1}) {
		t.Errorf("Jobs()[%s] = %+v (%v), want running with 1 healthy of 1", spec.Worker, jobs[spec.Worker], err)
	}
	a := healthyRunning(st)[0]
	if a.NodeName == "" || a.JobVersion != res.JobVersion || len(a.Events) == 0 {
		t.Errorf("allocation %+v: want a node, version %d and task events", a, res.JobVersion)
	}
	if st.Deployment == nil || st.Deployment.JobVersion != res.JobVersion {
		t.Errorf("deployment %+v, want one for version %d", st.Deployment, res.JobVersion)
	}

	logs, err := s.Logs(ctx, spec.Worker, a.ID, "", true, 4096)
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if !strings.Contains(logs, "/healthz") || len(logs) > 4096 {
		t.Errorf("stderr tail (%d bytes) does not mention /healthz:\n%s", len(logs), logs)
	}
	if _, err := s.Logs(ctx, spec.Worker, "00000000-0000-0000-0000-000000000000", "", true, 4096); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("Logs of an unknown allocation: %v, want ErrNotFound", err)
	}

	// A second Deploy of the same spec changes nothing Nomad would roll.
	again := deploy(t, ctx, s, spec)
	if again.JobVersion != res.JobVersion {
		t.Errorf("redeploying the same spec made version %d, want %d", again.JobVersion, res.JobVersion)
	}
}

func TestScaleUpAndDown(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Second)
	defer cancel()
	spec := workerSpec(t, s)
	deploy(t, ctx, s, spec)
	waitHealthy(t, ctx, s, spec.Worker, 1)

	// The first deployment may still be running: Scale waits it out.
	if err := s.Scale(ctx, spec.Worker, 3, "test: scale up"); err != nil {
		t.Fatalf("Scale to 3: %v", err)
	}
	st := waitHealthy(t, ctx, s, spec.Worker, 3)
	if got := healthyRunning(st); len(got) != 3 {
		t.Fatalf("%d healthy running allocations, want 3: %+v", len(got), st.Allocations)
	}
	if sc, err := s.Scaling(ctx, spec.Worker); err != nil || sc.Count != 3 || sc.Stopped {
		t.Errorf("Scaling after the scale up: %+v, %v", sc, err)
	}
	if _, err := s.Scaling(ctx, "never-deployed-worker"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("Scaling of an unknown worker: %v, want ErrNotFound", err)
	}

	if err := s.Scale(ctx, spec.Worker, 1, "test: scale down"); err != nil {
		t.Fatalf("Scale to 1: %v", err)
	}
	st = waitHealthy(t, ctx, s, spec.Worker, 1)
	running := 0
	for _, a := range st.Allocations {
		if a.DesiredStatus == "run" {
			running++
		}
	}
	if running != 1 {
		t.Errorf("%d allocations meant to run after scaling down, want 1: %+v", running, st.Allocations)
	}
}

func TestDeployWrongChecksumFailsWithReason(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	spec := workerSpec(t, s)
	spec.ArtifactSHA256 = strings.Repeat("0", 64)
	// Nomad fails a deployment at its progress deadline, not at the first
	// unhealthy allocation: keep both deadlines short.
	spec.HealthyDeadline = 10 * time.Second
	spec.ProgressDeadline = 31 * time.Second // Nomad wants it above kill_timeout (30s)
	deploy(t, ctx, s, spec)

	start := time.Now()
	st, err := s.WaitHealthy(ctx, spec.Worker, 1)
	if err == nil {
		t.Fatalf("WaitHealthy succeeded with a wrong checksum: %+v", st)
	}
	t.Logf("failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	if !errors.Is(err, scheduler.ErrDeploymentFailed) {
		t.Errorf("error %v does not wrap ErrDeploymentFailed", err)
	}
	for _, want := range []string{"Failed Artifact Download", "checksum"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestStopPurgeForgetsWorker(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	spec := workerSpec(t, s)
	deploy(t, ctx, s, spec)

	if err := s.Stop(ctx, spec.Worker, true); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := s.Status(ctx, spec.Worker); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("Status after purge: %v, want ErrNotFound", err)
	}
	if jobs, err := s.Jobs(ctx); err != nil {
		t.Errorf("Jobs after purge: %v", err)
	} else if j, ok := jobs[spec.Worker]; ok {
		t.Errorf("Jobs after purge lists %s: %+v", spec.Worker, j)
	}
	if err := s.Stop(ctx, spec.Worker, true); err != nil {
		t.Errorf("second Stop: %v, want nil (Stop is idempotent)", err)
	}
	if err := s.Scale(ctx, spec.Worker, 2, "test"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("Scale after purge: %v, want ErrNotFound", err)
	}
}

package scheduler_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/tributary-etl/tributary/scheduler"
)

// artifactChecksum is the checksum option of the job's only artifact.
func artifactChecksum(job *api.Job) string {
	if len(job.TaskGroups) != 1 || len(job.TaskGroups[0].Tasks) != 1 || len(job.TaskGroups[0].Tasks[0].Artifacts) != 1 {
		return ""
	}
	return job.TaskGroups[0].Tasks[0].Artifacts[0].GetterOptions["checksum"]
}

func TestWrongChecksumVersionFailsAndIsReverted(t *testing.T) {
	t.Parallel()
	s, client := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Second)
	defer cancel()
	spec := workerSpec(t, s)
	spec.HealthyDeadline = 10 * time.Second
	spec.ProgressDeadline = 31 * time.Second // Nomad wants it above kill_timeout (30s)

	v1 := deploy(t, ctx, s, spec)
	waitHealthy(t, ctx, s, spec.Worker, 1)
	// Nomad reverts to the last stable version: v1 becomes stable only when
	// its deployment succeeds (after min_healthy_time), not when its
	// allocation turns healthy. Updating earlier cancels that deployment and
	// leaves nothing to revert to.
	err := s.Watch(ctx, spec.Worker, func(st scheduler.WorkerStatus) bool {
		return st.Deployment == nil || st.Deployment.JobVersion != v1.JobVersion || st.Deployment.Status != "successful"
	})
	if err != nil {
		t.Fatalf("wait for v1's deployment to succeed: %v", err)
	}
	good := jobInfo(t, ctx, client, spec.Worker)
	if want := "sha256:" + artifact.sha256; artifactChecksum(good) != want {
		t.Fatalf("v1 artifact checksum %q, want %q", artifactChecksum(good), want)
	}

	bad := spec
	bad.ArtifactSHA256 = strings.Repeat("0", 64)
	bad.FunctionVersion = "2.0.0-broken"
	v2 := deploy(t, ctx, s, bad)
	if v2.JobVersion <= v1.JobVersion {
		t.Fatalf("the broken version is job version %d, want above %d", v2.JobVersion, v1.JobVersion)
	}

	start := time.Now()
	st, err := s.WaitHealthy(ctx, bad.Worker, 1)
	if err == nil {
		t.Fatalf("WaitHealthy succeeded with a wrong checksum: %+v", st)
	}
	t.Logf("version %d failed after %s: %v", v2.JobVersion, time.Since(start).Round(time.Millisecond), err)
	if !errors.Is(err, scheduler.ErrDeploymentFailed) {
		t.Errorf("error %v does not wrap ErrDeploymentFailed", err)
	}
	for _, want := range []string{"Failed Artifact Download", "checksum"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}

	// Nomad's auto_revert registers the last stable version (v1's spec) as
	// a new job version and rolls it out.
	var reverted scheduler.WorkerStatus
	err = s.Watch(ctx, spec.Worker, func(st scheduler.WorkerStatus) bool {
		reverted = st
		healthy := 0
		for _, a := range st.Allocations {
			if a.JobVersion == st.Version && a.HealthyRunning() {
				healthy++
			}
		}
		t.Logf("%6s: job v%d, deployment %v, %d healthy allocations of it",
			time.Since(start).Round(time.Millisecond), st.Version, deploymentState(st), healthy)
		return !(st.Version > v2.JobVersion && healthy >= 1)
	})
	if err != nil {
		t.Fatalf("watch for the revert: %v\nlast status: %+v", err, reverted)
	}
	t.Logf("reverted to job version %d %s after the failure", reverted.Version, time.Since(start).Round(time.Millisecond))

	job := jobInfo(t, ctx, client, spec.Worker)
	if *job.Version < reverted.Version {
		t.Fatalf("job version %d, older than the reverted one %d", *job.Version, reverted.Version)
	}
	if got, want := artifactChecksum(job), artifactChecksum(good); got != want {
		t.Errorf("reverted job's artifact checksum %q, want v1's %q", got, want)
	}
	for _, k := range []string{scheduler.MetaSpecHash, "tributary_function_version"} {
		if job.Meta[k] != good.Meta[k] {
			t.Errorf("reverted job meta %s = %q, want v1's %q", k, job.Meta[k], good.Meta[k])
		}
	}
	if got := healthyRunning(reverted); len(got) != 1 {
		t.Errorf("%d healthy running allocations after the revert, want 1: %+v", len(got), reverted.Allocations)
	}
	if d := reverted.Deployment; d == nil || d.JobVersion != reverted.Version {
		t.Errorf("deployment %+v, want the reverted version's", d)
	}
}

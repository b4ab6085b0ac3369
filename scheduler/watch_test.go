package scheduler_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/scheduler"
)

func TestWatchSeesDeployTurnHealthy(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	spec := workerSpec(t, s)

	if err := s.Watch(ctx, spec.Worker, func(scheduler.WorkerStatus) bool { return true }); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("Watch of a worker with no job: %v, want ErrNotFound", err)
	}

	res := deploy(t, ctx, s, spec)
	start := time.Now()
	var seen []scheduler.WorkerStatus
	err := s.Watch(ctx, spec.Worker, func(st scheduler.WorkerStatus) bool {
		seen = append(seen, st)
		healthy := 0
		for _, a := range st.Allocations {
			if a.JobVersion == res.JobVersion && a.HealthyRunning() {
				healthy++
			}
		}
		t.Logf("%6s: job %s v%d, deployment %v, %d allocations, %d healthy",
			time.Since(start).Round(time.Millisecond), st.Status, st.Version, deploymentState(st), len(st.Allocations), healthy)
		return healthy < 1
	})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if len(seen) < 2 {
		t.Fatalf("Watch called fn %d times, want the pending state and the healthy one", len(seen))
	}
	first := seen[0]
	if len(healthyRunning(first)) != 0 {
		t.Errorf("first status already had a healthy allocation: %+v", first)
	}
	if first.Deployment != nil && first.Deployment.Status != "running" {
		t.Errorf("first status: deployment %v, want none yet or a running one", deploymentState(first))
	}
	last := seen[len(seen)-1]
	if got := healthyRunning(last); len(got) != 1 {
		t.Errorf("last status has %d healthy allocations, want 1: %+v", len(got), last.Allocations)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Index < seen[i-1].Index {
			t.Errorf("status %d read at index %d, before the previous one (%d)", i, seen[i].Index, seen[i-1].Index)
		}
	}

	// A cancelled context ends Watch with its cause.
	cctx, ccancel := context.WithCancelCause(ctx)
	stop := errors.New("test: stop watching")
	calls := 0
	err = s.Watch(cctx, spec.Worker, func(scheduler.WorkerStatus) bool {
		calls++
		ccancel(stop)
		return true
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Watch with a cancelled context: %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func deploymentState(st scheduler.WorkerStatus) string {
	if st.Deployment == nil {
		return "none"
	}
	return st.Deployment.Status
}

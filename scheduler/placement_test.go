package scheduler_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/scheduler"
)

// A worker asking for more memory than any node has cannot be placed:
// WaitHealthy says so at once, with Nomad's reason, instead of waiting for
// the progress deadline, and Status shows the failure.
func TestDeployUnplaceableFailsWithPlacementReason(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	spec := workerSpec(t, s)
	spec.MemoryMB = 10_000_000
	deploy(t, ctx, s, spec)

	start := time.Now()
	st, err := s.WaitHealthy(ctx, spec.Worker, 1)
	took := time.Since(start)
	if err == nil {
		t.Fatalf("WaitHealthy succeeded with %d MB asked: %+v", spec.MemoryMB, st)
	}
	t.Logf("failed after %s: %v", took.Round(time.Millisecond), err)
	if took > 15*time.Second {
		t.Errorf("WaitHealthy took %s, want the placement failure reported within 15s", took)
	}
	if !errors.Is(err, scheduler.ErrPlacementFailed) || !errors.Is(err, scheduler.ErrDeploymentFailed) {
		t.Errorf("error %v does not wrap ErrPlacementFailed and ErrDeploymentFailed", err)
	}
	for _, want := range []string{`placement failed for group "worker"`, "nodes exhausted", "memory exhausted on"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}

	st, err = s.Status(ctx, spec.Worker)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.PlacementFailures) != 1 || !strings.Contains(st.PlacementFailures[0], "memory exhausted on") {
		t.Errorf("Status placement failures %q, want one about memory exhaustion", st.PlacementFailures)
	}
	if len(st.Allocations) != 0 {
		t.Errorf("allocations %+v, want none", st.Allocations)
	}
}

// A healthy worker has no placement failures.
func TestHealthyWorkerHasNoPlacementFailures(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	spec := workerSpec(t, s)
	deploy(t, ctx, s, spec)
	st := waitHealthy(t, ctx, s, spec.Worker, 1)
	if len(st.PlacementFailures) != 0 {
		t.Errorf("placement failures %q on a healthy worker", st.PlacementFailures)
	}
}

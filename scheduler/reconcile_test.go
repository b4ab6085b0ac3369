package scheduler_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// reconcileWorkers returns specs for n new workers whose job ids share a
// prefix private to the test, and that prefix; their jobs are purged when
// the test ends. Other tests run against the same agent, so the test's
// reconcile passes must only ever see jobs under that prefix.
func reconcileWorkers(t *testing.T, s *scheduler.Scheduler, n int) ([]scheduler.WorkerSpec, string) {
	t.Helper()
	base := strings.ReplaceAll(stacktest.Name(t, "rc"), "_", "-") + "-"
	var specs []scheduler.WorkerSpec
	for i := range n {
		spec := workerSpec(t, s) // its cleanup purges a job never created: harmless
		spec.Worker = base + string(rune('a'+i))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := s.Stop(ctx, spec.Worker, true); err != nil {
				t.Errorf("purge worker %s: %v", spec.Worker, err)
			}
		})
		specs = append(specs, spec)
	}
	return specs, scheduler.JobID(base)
}

func workersOf(acts []scheduler.ReconcileAction) []string {
	var out []string
	for _, a := range acts {
		out = append(out, a.Worker)
	}
	slices.Sort(out)
	return out
}

func reconcile(t *testing.T, ctx context.Context, s *scheduler.Scheduler, desired []scheduler.WorkerSpec, prefix string) scheduler.ReconcileReport {
	t.Helper()
	rep, err := s.ReconcileWith(ctx, desired, scheduler.ReconcileOptions{Prefix: prefix})
	if err != nil {
		t.Fatalf("Reconcile: %v\nreport: %+v", err, rep)
	}
	t.Logf("report: %+v", rep)
	return rep
}

func jobInfo(t *testing.T, ctx context.Context, client *api.Client, worker string) *api.Job {
	t.Helper()
	job, _, err := client.Jobs().Info(scheduler.JobID(worker), (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		t.Fatalf("job of %s: %v", worker, err)
	}
	return job
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	s, client := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Second)
	defer cancel()
	specs, prefix := reconcileWorkers(t, s, 2)
	a, b := specs[0], specs[1]
	both := []string{a.Worker, b.Worker}

	// Missing jobs are registered, with the spec hash in their meta.
	rep := reconcile(t, ctx, s, specs, prefix)
	if got := workersOf(rep.Registered); !slices.Equal(got, both) {
		t.Fatalf("first pass registered %v, want %v", got, both)
	}
	for _, act := range rep.Registered {
		if act.Reason != "job missing" {
			t.Errorf("registered %s because %q, want \"job missing\"", act.Worker, act.Reason)
		}
	}
	if jobInfo(t, ctx, client, a.Worker).Meta[scheduler.MetaSpecHash] == "" {
		t.Errorf("job of %s has no %s meta", a.Worker, scheduler.MetaSpecHash)
	}

	t.Run("no change registers nothing", func(t *testing.T) {
		before := jobInfo(t, ctx, client, a.Worker)
		rep := reconcile(t, ctx, s, specs, prefix)
		if len(rep.Registered)+len(rep.Removed)+len(rep.Failed) != 0 || !slices.Equal(workersOf(rep.Unchanged), both) {
			t.Fatalf("second pass with no change: %+v, want both unchanged", rep)
		}
		after := jobInfo(t, ctx, client, a.Worker)
		if *after.Version != *before.Version || *after.JobModifyIndex != *before.JobModifyIndex {
			t.Errorf("job version %d index %d became version %d index %d", *before.Version, *before.JobModifyIndex, *after.Version, *after.JobModifyIndex)
		}
	})

	t.Run("job stopped out of band comes back", func(t *testing.T) {
		// What `nomad job stop` does: deregister without purge.
		if _, _, err := client.Jobs().Deregister(scheduler.JobID(a.Worker), false, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
			t.Fatal(err)
		}
		if !*jobInfo(t, ctx, client, a.Worker).Stop {
			t.Fatal("job not stopped after deregister")
		}
		rep := reconcile(t, ctx, s, specs, prefix)
		if len(rep.Registered) != 1 || rep.Registered[0].Worker != a.Worker || !strings.Contains(rep.Registered[0].Reason, "stopped") {
			t.Fatalf("registered %+v, want %s because it was stopped", rep.Registered, a.Worker)
		}
		if got := workersOf(rep.Unchanged); !slices.Equal(got, []string{b.Worker}) {
			t.Errorf("unchanged %v, want [%s]", got, b.Worker)
		}
		if *jobInfo(t, ctx, client, a.Worker).Stop {
			t.Error("job still stopped after reconcile")
		}
		waitHealthy(t, ctx, s, a.Worker, 1)
	})

	t.Run("a count set by Scale is not a change", func(t *testing.T) {
		if err := s.Scale(ctx, b.Worker, 2, "test: scale before reconcile"); err != nil {
			t.Fatal(err)
		}
		rep := reconcile(t, ctx, s, specs, prefix)
		if len(rep.Registered) != 0 {
			t.Fatalf("registered %+v after a Scale, want nothing", rep.Registered)
		}
		if n := *jobInfo(t, ctx, client, b.Worker).TaskGroups[0].Count; n != 2 {
			t.Errorf("count %d after reconcile, want 2 (set by Scale)", n)
		}
	})

	t.Run("changed spec is registered and keeps the live count", func(t *testing.T) {
		changed := slices.Clone(specs)
		changed[1].ConfigVersion = "8"
		before := jobInfo(t, ctx, client, b.Worker)
		rep := reconcile(t, ctx, s, changed, prefix)
		if len(rep.Registered) != 1 || rep.Registered[0].Worker != b.Worker || !strings.Contains(rep.Registered[0].Reason, "spec changed") {
			t.Fatalf("registered %+v, want %s because its spec changed", rep.Registered, b.Worker)
		}
		after := jobInfo(t, ctx, client, b.Worker)
		if *after.Version <= *before.Version || after.Meta["tributary_config_version"] != "8" {
			t.Errorf("version %d -> %d, config version %q: want a new version with config version 8", *before.Version, *after.Version, after.Meta["tributary_config_version"])
		}
		if n := *after.TaskGroups[0].Count; n != 2 {
			t.Errorf("count %d after a spec change, want the live count 2", n)
		}
		specs = changed
	})

	t.Run("worker no longer desired is purged", func(t *testing.T) {
		rep := reconcile(t, ctx, s, specs[:1], prefix)
		if got := workersOf(rep.Removed); !slices.Equal(got, []string{b.Worker}) {
			t.Fatalf("removed %v, want [%s]", got, b.Worker)
		}
		if _, err := s.Status(ctx, b.Worker); !errors.Is(err, scheduler.ErrNotFound) {
			t.Errorf("Status of the removed worker: %v, want ErrNotFound", err)
		}
		if _, err := s.Status(ctx, a.Worker); err != nil {
			t.Errorf("Status of the kept worker: %v", err)
		}
	})
}

func TestReconcileRejectsWorkerOutsidePrefix(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t)
	spec := workerSpec(t, s)
	_, err := s.ReconcileWith(t.Context(), []scheduler.WorkerSpec{spec}, scheduler.ReconcileOptions{Prefix: "tributary-nobody-"})
	if !errors.Is(err, scheduler.ErrInvalidSpec) {
		t.Errorf("Reconcile with a worker outside the prefix: %v, want ErrInvalidSpec", err)
	}
}

// Two installations sharing one Nomad and one prefix: a pass with an Owner
// removes only the jobs that owner deployed.
func TestReconcileRemovesOnlyItsOwnersJobs(t *testing.T) {
	t.Parallel()
	s, client := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	specs, prefix := reconcileWorkers(t, s, 3)
	specs[0].Owner, specs[1].Owner = "install-a", "install-b" // specs[2] has no owner
	for _, spec := range specs {
		if _, err := s.Deploy(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	if got := jobInfo(t, ctx, client, specs[0].Worker).Meta[scheduler.MetaOwner]; got != "install-a" {
		t.Fatalf("job meta %s = %q, want install-a", scheduler.MetaOwner, got)
	}
	rep, err := s.ReconcileWith(ctx, nil, scheduler.ReconcileOptions{Prefix: prefix, Owner: "install-a"})
	if err != nil {
		t.Fatal(err)
	}
	if got := workersOf(rep.Removed); !slices.Equal(got, []string{specs[0].Worker}) {
		t.Fatalf("install-a's pass removed %v, want only %s", got, specs[0].Worker)
	}
	for _, spec := range specs[1:] {
		if job := jobInfo(t, ctx, client, spec.Worker); *job.Stop {
			t.Errorf("job of %s (owner %q) was stopped by another owner's pass", spec.Worker, spec.Owner)
		}
	}
}

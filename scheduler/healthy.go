package scheduler

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// HealthyCounts counts, per worker, the allocations of its job that
// Allocation.HealthyRunning calls healthy, for every worker job at once:
// one list of the running allocations (stale reads allowed, no task
// states), however many workers there are. A worker whose job has running
// allocations of which none is healthy is present with 0; a worker with
// none running is absent.
func (s *Scheduler) HealthyCounts(ctx context.Context) (map[string]int, error) {
	counts, err := s.runningCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(counts))
	for worker, c := range counts {
		out[worker] = c.healthy
	}
	return out, nil
}

type runCount struct{ running, healthy int }

// runningCounts lists the running allocations of every worker job once
// and counts them, and the healthy ones among them, per worker.
func (s *Scheduler) runningCounts(ctx context.Context) (map[string]runCount, error) {
	q := qopts(ctx, 0)
	q.AllowStale = true
	q.Filter = fmt.Sprintf("ClientStatus == %q and DesiredStatus == %q", api.AllocClientStatusRunning, api.AllocDesiredStatusRun)
	q.Params = map[string]string{"task_states": "false"}
	stubs, _, err := s.client.Allocations().List(q)
	if err != nil {
		return nil, fmt.Errorf("list running allocations: %w", err)
	}
	out := map[string]runCount{}
	for _, a := range stubs {
		worker, ok := strings.CutPrefix(a.JobID, JobPrefix)
		if !ok {
			continue
		}
		al := Allocation{ClientStatus: a.ClientStatus, DesiredStatus: a.DesiredStatus}
		if a.DeploymentStatus != nil {
			al.Healthy = a.DeploymentStatus.Healthy
		}
		c := out[worker] // zero for the first: a running but unhealthy worker is listed
		c.running++
		if al.HealthyRunning() {
			c.healthy++
		}
		out[worker] = c
	}
	return out, nil
}

// JobState is a worker's job as the list of every worker's jobs shows it.
type JobState struct {
	Status  string // Nomad's job status: pending, running or dead
	Stopped bool   // the job was stopped (desired state), not merely dead
	Running int    // allocations running and meant to run
	Healthy int    // of those, the ones their deployment judged healthy
}

// Jobs reads the job of every worker in two requests, however many
// workers there are: the jobs whose id starts with JobPrefix, and the
// running allocations (as HealthyCounts; stale reads allowed). A worker
// without a job (never deployed, or purged) is absent. For one worker's
// allocations, deployment and placement failures, use Status.
func (s *Scheduler) Jobs(ctx context.Context) (map[string]JobState, error) {
	q := qopts(ctx, 0)
	q.AllowStale, q.Prefix = true, JobPrefix
	jobs, _, err := s.client.Jobs().List(q)
	if err != nil {
		return nil, fmt.Errorf("list worker jobs: %w", err)
	}
	counts, err := s.runningCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]JobState, len(jobs))
	for _, j := range jobs {
		worker, ok := strings.CutPrefix(j.ID, JobPrefix)
		if !ok {
			continue
		}
		c := counts[worker]
		out[worker] = JobState{Status: j.Status, Stopped: j.Stop, Running: c.running, Healthy: c.healthy}
	}
	return out, nil
}

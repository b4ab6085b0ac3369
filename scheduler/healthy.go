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
	q := qopts(ctx, 0)
	q.AllowStale = true
	q.Filter = fmt.Sprintf("ClientStatus == %q and DesiredStatus == %q", api.AllocClientStatusRunning, api.AllocDesiredStatusRun)
	q.Params = map[string]string{"task_states": "false"}
	stubs, _, err := s.client.Allocations().List(q)
	if err != nil {
		return nil, fmt.Errorf("list running allocations: %w", err)
	}
	out := map[string]int{}
	for _, a := range stubs {
		worker, ok := strings.CutPrefix(a.JobID, JobPrefix)
		if !ok {
			continue
		}
		al := Allocation{ClientStatus: a.ClientStatus, DesiredStatus: a.DesiredStatus}
		if a.DeploymentStatus != nil {
			al.Healthy = a.DeploymentStatus.Healthy
		}
		n := out[worker] // 0 for the first: a running but unhealthy worker is listed
		if al.HealthyRunning() {
			n++
		}
		out[worker] = n
	}
	return out, nil
}

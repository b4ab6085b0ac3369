package scheduler

import (
	"context"
	"fmt"
)

// ScaleState is what an autoscaler needs to know of a worker's job before
// deciding: its live count, and whether Nomad would scale it now.
type ScaleState struct {
	Count     int  // the task group count: the instances Scale last set
	Stopped   bool // the job is stopped
	Deploying bool // a deployment is active: Nomad refuses to scale until it ends
}

// Scaling reads the worker's ScaleState. An unknown worker gives an error
// wrapping ErrNotFound.
func (s *Scheduler) Scaling(ctx context.Context, worker string) (ScaleState, error) {
	if err := checkWorker(worker); err != nil {
		return ScaleState{}, err
	}
	jobID := JobID(worker)
	job, _, err := s.client.Jobs().Info(jobID, qopts(ctx, 0))
	if isNotFound(err) {
		return ScaleState{}, fmt.Errorf("worker %s: job %s: %w", worker, jobID, ErrNotFound)
	}
	if err != nil {
		return ScaleState{}, fmt.Errorf("worker %s: %w", worker, err)
	}
	n, ok := groupCount(job)
	if !ok {
		return ScaleState{}, fmt.Errorf("worker %s: job %s has %d task groups, want 1", worker, jobID, len(job.TaskGroups))
	}
	st := ScaleState{Count: n, Stopped: deref(job.Stop)}
	dep, _, err := s.client.Jobs().LatestDeployment(jobID, qopts(ctx, 0))
	if err != nil {
		return st, fmt.Errorf("worker %s: latest deployment: %w", worker, err)
	}
	st.Deploying = dep != nil && active(dep.Status)
	return st, nil
}

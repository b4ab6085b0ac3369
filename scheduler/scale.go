package scheduler

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// errScaleBlocked is the text of Nomad's refusal to scale a job while a
// deployment of it runs.
const errScaleBlocked = "scaling blocked due to active deployment"

// Scale sets the worker's instance count (its task group count); reason is
// recorded in the job's scaling events. If a deployment of the job is
// running, Nomad refuses to scale: Scale then waits, with blocking queries,
// until that deployment ends and retries, for as long as ctx allows. Scale
// returns once Nomad accepted the new count; use WaitHealthy to wait for the
// allocations. An unknown worker gives an error wrapping ErrNotFound.
func (s *Scheduler) Scale(ctx context.Context, worker string, count int, reason string) error {
	if err := checkWorker(worker); err != nil {
		return err
	}
	if count < 0 {
		return fmt.Errorf("%w: scale worker %s to %d", ErrInvalidSpec, worker, count)
	}
	jobID := JobID(worker)
	job, _, err := s.client.Jobs().Info(jobID, qopts(ctx, 0))
	if isNotFound(err) {
		return fmt.Errorf("scale worker %s: job %s: %w", worker, jobID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("scale worker %s: %w", worker, err)
	}
	if len(job.TaskGroups) != 1 || job.TaskGroups[0].Name == nil {
		return fmt.Errorf("scale worker %s: job %s has %d task groups, want 1", worker, jobID, len(job.TaskGroups))
	}
	group := *job.TaskGroups[0].Name

	for {
		_, _, err := s.client.Jobs().Scale(jobID, group, &count, reason, false, nil, wopts(ctx))
		if err == nil {
			return nil
		}
		if !strings.Contains(err.Error(), errScaleBlocked) {
			return fmt.Errorf("scale worker %s to %d: %w", worker, count, err)
		}
		if err := s.waitDeploymentDone(ctx, jobID); err != nil {
			return fmt.Errorf("scale worker %s to %d: wait for the active deployment: %w", worker, count, err)
		}
	}
}

// waitDeploymentDone blocks until the job's latest deployment is no longer
// running (or paused, pending, blocked: anything Nomad counts as active).
func (s *Scheduler) waitDeploymentDone(ctx context.Context, jobID string) error {
	dep, _, err := s.client.Jobs().LatestDeployment(jobID, qopts(ctx, 0))
	if err != nil {
		return err
	}
	if dep == nil {
		return nil
	}
	index := dep.ModifyIndex
	for active(dep.Status) {
		var meta *api.QueryMeta
		dep, meta, err = s.client.Deployments().Info(dep.ID, qopts(ctx, index))
		if err != nil {
			return err
		}
		index = meta.LastIndex
	}
	return nil
}

func active(status string) bool {
	switch status {
	case api.DeploymentStatusRunning, api.DeploymentStatusPaused, api.DeploymentStatusPending,
		api.DeploymentStatusBlocked, api.DeploymentStatusUnblocking:
		return true
	}
	return false
}

// Stop stops the worker's job: Nomad sends every allocation the job's
// kill_signal (SIGTERM) and waits up to its kill_timeout. With purge the job
// and its history are deleted at once, so Status then reports ErrNotFound;
// without, the job stays visible as stopped until Nomad garbage-collects
// it, and keeps its secrets variable; with, the variable is deleted too. Stop returns when Nomad accepted the request, not when the
// allocations have exited. Stop is idempotent: stopping a worker Nomad does
// not know (Nomad answers that with success too) returns nil.
func (s *Scheduler) Stop(ctx context.Context, worker string, purge bool) error {
	if err := checkWorker(worker); err != nil {
		return err
	}
	jobID := JobID(worker)
	_, _, err := s.client.Jobs().DeregisterOpts(jobID, &api.DeregisterOptions{Purge: purge}, wopts(ctx))
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("stop worker %s: %w", worker, err)
	}
	if purge {
		// A stopped job keeps its variable: registered again, it needs it.
		if err := s.deleteSecrets(ctx, jobID); err != nil {
			return fmt.Errorf("stop worker %s: %w", worker, err)
		}
	}
	return nil
}

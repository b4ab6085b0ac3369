package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// ErrPlacementFailed means Nomad could not place allocations of a worker:
// no node has room for them or meets their constraints. Errors wrapping it
// also wrap ErrDeploymentFailed, so callers that only know the latter still
// see a failed rollout; their text carries Nomad's placement metrics (see
// WorkerStatus.PlacementFailures).
var ErrPlacementFailed = errors.New("placement failed")

// placementError wraps both ErrDeploymentFailed and ErrPlacementFailed.
type placementError struct{ msg string }

func (e *placementError) Error() string { return e.msg }

func (e *placementError) Unwrap() []error { return []error{ErrDeploymentFailed, ErrPlacementFailed} }

// WaitHealthy blocks until at least n allocations of the worker's job
// version current at the call are running and healthy, and returns the
// status that showed it. It fails with ErrDeploymentFailed, carrying
// Nomad's reason and the failing allocations' task events (for example
// "Failed Artifact Download: ... checksum mismatch"), when the deployment
// of that version fails or is cancelled. It fails at once, without waiting
// for the progress deadline, with an error wrapping both ErrPlacementFailed
// and ErrDeploymentFailed when fewer than n are healthy and the job's latest
// evaluation could not place allocations (for example `placement failed for
// group "worker": 1 of 1 nodes exhausted (memory exhausted on 1 node)`).
// It fails with ErrNotFound when the job goes away. It waits with blocking
// queries on the job's allocations, evaluations and deployment, bounded
// only by ctx.
func (s *Scheduler) WaitHealthy(ctx context.Context, worker string, n int) (WorkerStatus, error) {
	st, err := s.Status(ctx, worker)
	if err != nil {
		return st, err
	}
	version := st.Version
	var idx waitIndexes
	for {
		dep, err := s.deploymentOf(ctx, st.JobID, version)
		if err != nil {
			return st, fmt.Errorf("wait for worker %s: %w", worker, err)
		}
		if err := failedRollout(st, version, dep); err != nil {
			return st, fmt.Errorf("wait for worker %s: %w", worker, err)
		}
		if healthyAt(st, version) >= n {
			return st, nil
		}
		if len(st.PlacementFailures) > 0 && st.Version == version {
			return st, fmt.Errorf("wait for worker %s: %w", worker, &placementError{
				msg: fmt.Sprintf("%v: job version %d: %s", ErrDeploymentFailed, version, strings.Join(st.PlacementFailures, "; ")),
			})
		}
		var depID string
		if dep != nil {
			depID = dep.ID
		}
		idx, err = s.waitChange(ctx, st.JobID, depID, idx)
		if err != nil {
			return st, fmt.Errorf("wait for worker %s: %w", worker, err)
		}
		if st, err = s.Status(ctx, worker); err != nil {
			return st, err
		}
	}
}

// deploymentOf returns the newest deployment of a job version, nil if there
// is none (yet).
func (s *Scheduler) deploymentOf(ctx context.Context, jobID string, version uint64) (*Deployment, error) {
	deps, _, err := s.client.Jobs().Deployments(jobID, false, qopts(ctx, 0))
	if err != nil {
		return nil, fmt.Errorf("deployments: %w", err)
	}
	var newest *api.Deployment
	for _, d := range deps {
		if d.JobVersion == version && (newest == nil || d.CreateIndex > newest.CreateIndex) {
			newest = d
		}
	}
	if newest == nil {
		return nil, nil
	}
	return toDeployment(newest), nil
}

// healthyAt counts the running, healthy allocations of a job version.
func healthyAt(st WorkerStatus, version uint64) int {
	n := 0
	for _, a := range st.Allocations {
		if a.JobVersion == version && a.HealthyRunning() {
			n++
		}
	}
	return n
}

// failedRollout returns an error with Nomad's reasons when dep, the
// deployment of version, failed or was cancelled, or when a newer version
// replaced version; nil otherwise.
func failedRollout(st WorkerStatus, version uint64, dep *Deployment) error {
	if dep != nil && (dep.Status == api.DeploymentStatusFailed || dep.Status == api.DeploymentStatusCancelled) {
		return fmt.Errorf("%w: job version %d: %s: %s%s", ErrDeploymentFailed, version, dep.Status, dep.Description, failureEvents(st, version))
	}
	if st.Version > version {
		return fmt.Errorf("%w: job version %d was replaced by version %d before it turned healthy", ErrDeploymentFailed, version, st.Version)
	}
	return nil
}

// failureEvents lists the task events that failed allocations of version,
// one per event type, newest allocation first: Nomad's own words for what
// went wrong (messages differ between allocations only by their paths).
func failureEvents(st WorkerStatus, version uint64) string {
	var reasons []string
	seen := map[string]bool{}
	for _, a := range st.Allocations {
		if a.JobVersion != version || a.HealthyRunning() {
			continue
		}
		for _, e := range a.Events {
			if !isFailure(e) {
				continue
			}
			if seen[e.Type] {
				continue
			}
			seen[e.Type] = true
			r := e.Type
			if e.Message != "" {
				r += ": " + e.Message
			}
			reasons = append(reasons, r)
		}
	}
	if len(reasons) == 0 {
		return ""
	}
	return "; " + strings.Join(reasons, "; ")
}

// taskHookFailed is Nomad's event type for a failed task hook; the api
// package has no constant for it.
const taskHookFailed = "Task hook failed"

// failureTypes are the task event types that explain a failure.
var failureTypes = map[string]bool{
	api.TaskArtifactDownloadFailed: true,
	api.TaskDriverFailure:          true,
	api.TaskSetupFailure:           true,
	api.TaskFailedValidation:       true,
	api.TaskNotRestarting:          true,
	api.TaskTerminated:             true,
	taskHookFailed:                 true,
}

func isFailure(e TaskEvent) bool { return e.Fails || failureTypes[e.Type] }

// waitIndexes are the Nomad indexes waitChange last saw.
type waitIndexes struct{ alloc, eval, dep uint64 }

// waitChange blocks until the job's allocations or evaluations change past
// their index in idx, or its deployment depID (when not empty) changes past
// idx.dep, and returns the new indexes. The first call (zero indexes)
// returns at once with current ones.
func (s *Scheduler) waitChange(ctx context.Context, jobID, depID string, idx waitIndexes) (waitIndexes, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		set   func(*waitIndexes, uint64)
		index uint64
		err   error
	}
	results := make(chan result, 3)
	waiting := 0
	watch := func(set func(*waitIndexes, uint64), query func() (*api.QueryMeta, error)) {
		waiting++
		go func() {
			meta, err := query()
			r := result{set: set, err: err}
			if err == nil {
				r.index = meta.LastIndex
			}
			results <- r
		}()
	}
	watch(func(w *waitIndexes, i uint64) { w.alloc = i }, func() (*api.QueryMeta, error) {
		_, meta, err := s.client.Jobs().Allocations(jobID, false, qopts(wctx, idx.alloc))
		return meta, err
	})
	watch(func(w *waitIndexes, i uint64) { w.eval = i }, func() (*api.QueryMeta, error) {
		_, meta, err := s.client.Jobs().Evaluations(jobID, qopts(wctx, idx.eval))
		return meta, err
	})
	if depID != "" {
		watch(func(w *waitIndexes, i uint64) { w.dep = i }, func() (*api.QueryMeta, error) {
			_, meta, err := s.client.Deployments().Info(depID, qopts(wctx, idx.dep))
			return meta, err
		})
	}
	// The first answer decides; the other queries are cancelled and drained
	// (keeping the indexes of those that answered too: the caller reads
	// everything again after this).
	r := <-results
	cancel()
	if r.err != nil {
		for range waiting - 1 {
			<-results
		}
		if ctx.Err() != nil {
			return idx, context.Cause(ctx)
		}
		return idx, r.err
	}
	r.set(&idx, r.index)
	for range waiting - 1 {
		if o := <-results; o.err == nil {
			o.set(&idx, o.index)
		}
	}
	return idx, nil
}

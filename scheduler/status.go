package scheduler

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"
)

// WorkerStatus is a snapshot of a worker's job as Nomad sees it.
type WorkerStatus struct {
	Worker  string
	JobID   string
	Status  string // Nomad's job status: pending, running or dead
	Stopped bool   // the job was stopped (desired state), not merely dead
	Version uint64 // the job's current version
	Meta    map[string]string

	// Deployment is the job's latest deployment, nil before the first.
	Deployment *Deployment
	// Allocations are the job's allocations, newest first, including
	// stopped and failed ones Nomad has not yet garbage-collected.
	Allocations []Allocation
	// PlacementFailures are Nomad's reasons, one per task group, why
	// allocations of the current job could not be placed, in the words of
	// `nomad job status`'s "Placement Failure" section, e.g.
	// `placement failed for group "worker": 1 of 1 nodes exhausted (memory
	// exhausted on 1 node)`. They come from the job's latest completed
	// evaluation while its blocked follow-up waits for room; empty when
	// everything was placed.
	PlacementFailures []string

	// Index is the Nomad index the snapshot was read at.
	Index uint64
}

// Deployment is a rollout of one job version.
type Deployment struct {
	ID          string
	JobVersion  uint64
	Status      string // running, successful, failed, cancelled, ...
	Description string // Nomad's reason, e.g. "Failed due to unhealthy allocations"
}

// Allocation is one instance of a worker.
type Allocation struct {
	ID            string
	Name          string // job.group[index]
	NodeName      string
	JobVersion    uint64
	ClientStatus  string // pending, running, complete, failed, lost
	DesiredStatus string // run, stop, evict
	// Healthy is the deployment's verdict: nil while undecided.
	Healthy  *bool
	Restarts uint64      // summed over the tasks
	Events   []TaskEvent // the most recent last, at most maxEvents per task
	// TaskStates are the tasks' states (pending, running, dead), by task.
	TaskStates map[string]string
}

// TaskEvent is one entry of a task's event log, as `nomad alloc status`
// shows it.
type TaskEvent struct {
	Task    string
	Time    time.Time
	Type    string // e.g. "Failed Artifact Download", "Started", "Terminated"
	Message string // Nomad's DisplayMessage
	Fails   bool   // the event failed the task
}

// maxEvents bounds the events kept per task.
const maxEvents = 10

// HealthyRunning reports whether a is running, meant to run, and was judged
// healthy by its deployment.
func (a Allocation) HealthyRunning() bool {
	return a.ClientStatus == api.AllocClientStatusRunning && a.DesiredStatus == api.AllocDesiredStatusRun &&
		a.Healthy != nil && *a.Healthy
}

// RunningUnverified reports whether a is running and meant to run but no
// deployment has judged its health: one placed or updated in place by a
// rollout or a scale that has not yet run for the group's
// min_healthy_time, or one Nomad rescheduled outside any deployment, which
// never gets a verdict. It does its work; it is just not known healthy, so
// a status must not call it unhealthy either.
func (a Allocation) RunningUnverified() bool {
	return a.ClientStatus == api.AllocClientStatusRunning && a.DesiredStatus == api.AllocDesiredStatusRun && a.Healthy == nil
}

// Status reads the worker's job, its latest deployment, its allocations and
// its evaluations (for placement failures).
// A worker with no job (never deployed, or purged) gives an error wrapping
// ErrNotFound. The reads are not one transaction: an allocation may
// be newer than the job version read.
func (s *Scheduler) Status(ctx context.Context, worker string) (WorkerStatus, error) {
	if err := checkWorker(worker); err != nil {
		return WorkerStatus{}, err
	}
	jobID := JobID(worker)
	job, meta, err := s.client.Jobs().Info(jobID, qopts(ctx, 0))
	if isNotFound(err) {
		return WorkerStatus{}, fmt.Errorf("status of worker %s: job %s: %w", worker, jobID, ErrNotFound)
	}
	if err != nil {
		return WorkerStatus{}, fmt.Errorf("status of worker %s: %w", worker, err)
	}
	st := WorkerStatus{
		Worker:  worker,
		JobID:   jobID,
		Status:  deref(job.Status),
		Stopped: deref(job.Stop),
		Version: deref(job.Version),
		Meta:    job.Meta,
		Index:   meta.LastIndex,
	}

	dep, _, err := s.client.Jobs().LatestDeployment(jobID, qopts(ctx, 0))
	if err != nil {
		return st, fmt.Errorf("status of worker %s: latest deployment: %w", worker, err)
	}
	if dep != nil {
		st.Deployment = toDeployment(dep)
	}

	stubs, ameta, err := s.client.Jobs().Allocations(jobID, false, qopts(ctx, 0))
	if err != nil {
		return st, fmt.Errorf("status of worker %s: allocations: %w", worker, err)
	}
	st.Index = max(st.Index, ameta.LastIndex)
	st.Allocations = toAllocations(stubs)

	evals, emeta, err := s.client.Jobs().Evaluations(jobID, qopts(ctx, 0))
	if err != nil {
		return st, fmt.Errorf("status of worker %s: evaluations: %w", worker, err)
	}
	st.Index = max(st.Index, emeta.LastIndex)
	st.PlacementFailures = placementFailures(evals, deref(job.JobModifyIndex))
	return st, nil
}

func toDeployment(d *api.Deployment) *Deployment {
	return &Deployment{ID: d.ID, JobVersion: d.JobVersion, Status: d.Status, Description: d.StatusDescription}
}

func toAllocations(stubs []*api.AllocationListStub) []Allocation {
	stubs = slices.Clone(stubs)
	slices.SortStableFunc(stubs, func(a, b *api.AllocationListStub) int { return cmp.Compare(b.CreateIndex, a.CreateIndex) })
	out := make([]Allocation, 0, len(stubs))
	for _, a := range stubs {
		al := Allocation{
			ID:            a.ID,
			Name:          a.Name,
			NodeName:      a.NodeName,
			JobVersion:    a.JobVersion,
			ClientStatus:  a.ClientStatus,
			DesiredStatus: a.DesiredStatus,
		}
		if a.DeploymentStatus != nil {
			al.Healthy = a.DeploymentStatus.Healthy
		}
		for _, task := range slices.Sorted(maps.Keys(a.TaskStates)) {
			ts := a.TaskStates[task]
			if ts == nil {
				continue
			}
			al.Restarts += ts.Restarts
			if al.TaskStates == nil {
				al.TaskStates = map[string]string{}
			}
			al.TaskStates[task] = ts.State
			events := ts.Events
			if len(events) > maxEvents {
				events = events[len(events)-maxEvents:]
			}
			for _, e := range events {
				al.Events = append(al.Events, TaskEvent{
					Task:    task,
					Time:    time.Unix(0, e.Time),
					Type:    e.Type,
					Message: e.DisplayMessage,
					Fails:   e.FailsTask,
				})
			}
		}
		out = append(out, al)
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// placementFailures describes, one per task group, the allocations the job's
// latest completed evaluation could not place, when that evaluation is about
// the current job (jobModifyIndex) and a blocked evaluation still waits for
// room (as `nomad job status` decides); nil otherwise. An evaluation that
// placed everything after a failed one clears the failures.
func placementFailures(evals []*api.Evaluation, jobModifyIndex uint64) []string {
	var latest *api.Evaluation
	blocked := false
	for _, e := range evals {
		if e == nil {
			continue
		}
		switch e.Status {
		case api.EvalStatusBlocked:
			blocked = true
		case api.EvalStatusComplete:
			if latest == nil || e.CreateIndex > latest.CreateIndex {
				latest = e
			}
		}
	}
	if latest == nil || !blocked || len(latest.FailedTGAllocs) == 0 {
		return nil
	}
	if latest.JobModifyIndex != 0 && latest.JobModifyIndex < jobModifyIndex {
		return nil // about a job version since replaced
	}
	var out []string
	for _, tg := range slices.Sorted(maps.Keys(latest.FailedTGAllocs)) {
		out = append(out, fmt.Sprintf("placement failed for group %q: %s", tg, describeMetric(latest.FailedTGAllocs[tg])))
	}
	return out
}

// describeMetric says why a task group could not be placed, from the same
// fields (and in much the same words) as Nomad's CLI, e.g. "1 of 1 nodes
// exhausted (memory exhausted on 1 node)" or "constraint
// ${attr.kernel.name} = windows filtered 1 node".
func describeMetric(m *api.AllocationMetric) string {
	if m == nil {
		return "no reason given"
	}
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	if m.NodesEvaluated == 0 {
		add("no nodes were eligible for evaluation")
	}
	for _, dc := range slices.Sorted(maps.Keys(m.NodesAvailable)) {
		if m.NodesAvailable[dc] == 0 {
			add("no nodes are available in datacenter %q", dc)
		}
	}
	for _, class := range slices.Sorted(maps.Keys(m.ClassFiltered)) {
		add("class %q filtered %s", class, nodes(m.ClassFiltered[class]))
	}
	for _, c := range slices.Sorted(maps.Keys(m.ConstraintFiltered)) {
		add("constraint %s filtered %s", c, nodes(m.ConstraintFiltered[c]))
	}
	if m.NodesFiltered > 0 && len(m.ClassFiltered) == 0 && len(m.ConstraintFiltered) == 0 {
		add("%d of %d nodes filtered", m.NodesFiltered, m.NodesEvaluated)
	}
	if m.NodesExhausted > 0 {
		s := fmt.Sprintf("%d of %d nodes exhausted", m.NodesExhausted, m.NodesEvaluated)
		var dims []string
		for _, dim := range slices.Sorted(maps.Keys(m.DimensionExhausted)) {
			dims = append(dims, fmt.Sprintf("%s exhausted on %s", dim, nodes(m.DimensionExhausted[dim])))
		}
		if len(dims) > 0 {
			s += " (" + strings.Join(dims, ", ") + ")"
		}
		parts = append(parts, s)
	}
	for _, class := range slices.Sorted(maps.Keys(m.ClassExhausted)) {
		add("class %q exhausted on %s", class, nodes(m.ClassExhausted[class]))
	}
	for _, q := range m.QuotaExhausted {
		add("quota limit hit %q", q)
	}
	if len(parts) == 0 {
		add("%s evaluated, none could take the allocation", nodes(m.NodesEvaluated))
	}
	return strings.Join(parts, "; ")
}

// nodes is "1 node" or "n nodes".
func nodes(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

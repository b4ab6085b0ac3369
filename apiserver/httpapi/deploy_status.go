package httpapi

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/scheduler"
)

type jobJSON struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Stopped bool   `json:"stopped"`
	Version uint64 `json:"version"`
}

type deploymentJSON struct {
	Status      string `json:"status"`
	Description string `json:"description"`
	JobVersion  uint64 `json:"job_version"`
}

type allocationJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Node         string `json:"node"`
	JobVersion   uint64 `json:"job_version"`
	ClientStatus string `json:"client_status"`
	Healthy      *bool  `json:"healthy"`
	Restarts     uint64 `json:"restarts"`
	TaskState    string `json:"task_state"` // the task's state; "task: state, ..." for several
	LastEvent    string `json:"last_event,omitempty"`
	FailedReason string `json:"failed_reason,omitempty"`
	// StartedAt is when its task last started (its latest "Started" event
	// Nomad still keeps); null before that.
	StartedAt   *time.Time `json:"started_at"`
	LastEventAt *time.Time `json:"last_event_at"`
}

type statusJSON struct {
	Worker            string           `json:"worker"`
	WorkerID          int64            `json:"worker_id"`
	DesiredState      string           `json:"desired_state"`
	Instances         int              `json:"instances"`
	Job               *jobJSON         `json:"job"`
	Deployment        *deploymentJSON  `json:"deployment"`
	Allocations       []allocationJSON `json:"allocations"`
	PlacementFailures []string         `json:"placement_failures"`
	Running           int              `json:"running"` // allocations running and meant to run
	Healthy           int              `json:"healthy"` // of those, the ones their deployment judged healthy
	// Unverified are the running ones no deployment has judged yet (during
	// a rollout or a scale, or rescheduled outside a deployment): they
	// work, but are not known healthy; they are not unhealthy either.
	Unverified int `json:"unverified"`
	Desired    int `json:"desired"`
}

// status reads w's job from Nomad. A worker never deployed (or purged) has
// a null job, and no scheduler status.
func (s *Server) status(ctx context.Context, w apiserver.ConsumerConfig) (statusJSON, *scheduler.WorkerStatus, error) {
	out := statusJSON{Worker: w.ConsumerName, WorkerID: w.ID, DesiredState: w.DesiredState, Instances: w.Instances,
		Allocations: []allocationJSON{}, PlacementFailures: []string{}}
	st, err := s.sched.Status(ctx, w.ConsumerName)
	if errors.Is(err, scheduler.ErrNotFound) {
		return out, nil, nil
	}
	if err != nil {
		return out, nil, nomadError(err)
	}
	out.Job = &jobJSON{st.JobID, st.Status, st.Stopped, st.Version}
	if d := st.Deployment; d != nil {
		out.Deployment = &deploymentJSON{d.Status, d.Description, d.JobVersion}
	}
	if !st.Stopped {
		out.Desired = w.Instances
	}
	out.PlacementFailures = append(out.PlacementFailures, st.PlacementFailures...)
	for _, a := range st.Allocations {
		aj := allocationJSON{ID: a.ID, Name: a.Name, Node: a.NodeName, JobVersion: a.JobVersion,
			ClientStatus: a.ClientStatus, Healthy: a.Healthy, Restarts: a.Restarts, TaskState: taskState(a.TaskStates)}
		if n := len(a.Events); n > 0 {
			last := a.Events[n-1].Time.UTC()
			aj.LastEvent, aj.LastEventAt = a.Events[n-1].Type+": "+a.Events[n-1].Message, &last
			for _, ev := range a.Events {
				if ev.Fails {
					aj.FailedReason = ev.Type + ": " + ev.Message
				}
				if ev.Type == nomadapi.TaskStarted {
					at := ev.Time.UTC()
					aj.StartedAt = &at
				}
			}
		}
		out.Allocations = append(out.Allocations, aj)
		if a.ClientStatus == "running" && a.DesiredStatus == "run" {
			out.Running++
		}
		if a.HealthyRunning() {
			out.Healthy++
		}
		if a.RunningUnverified() {
			out.Unverified++
		}
	}
	return out, &st, nil
}

// taskState is the state of an allocation's only task, or "task: state"
// for each of several.
func taskState(states map[string]string) string {
	if len(states) == 1 {
		for _, st := range states {
			return st
		}
	}
	var parts []string
	for _, task := range slices.Sorted(maps.Keys(states)) {
		parts = append(parts, task+": "+states[task])
	}
	return strings.Join(parts, ", ")
}

func (s *Server) workerStatus(c *gin.Context) {
	if !s.need(c, s.sched != nil, "Nomad") {
		return
	}
	w, ok := s.worker(c)
	if !ok {
		return
	}
	out, _, err := s.status(c.Request.Context(), w)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// pipelineWorkers loads the pipeline named by :id and its workers.
func (s *Server) pipelineWorkers(c *gin.Context) ([]apiserver.ConsumerConfig, bool) {
	if !s.need(c, s.sched != nil, "Nomad") {
		return nil, false
	}
	id, ok := s.pipelineID(c)
	if !ok {
		return nil, false
	}
	if _, err := s.db.Pipeline(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return nil, false
	}
	ws, err := s.db.Workers(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return ws, true
}

// deployPipeline deploys every worker of the pipeline; one worker's
// failure is reported in its entry and does not stop the others. The
// status is 202 when all were accepted, 207 otherwise.
func (s *Server) deployPipeline(c *gin.Context) {
	ws, ok := s.pipelineWorkers(c)
	if !ok {
		return
	}
	ds, err := s.plane.DeployPipeline(c.Request.Context(), ws, actorName(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	out, failed := make([]deployJSON, len(ds)), false
	for i, d := range ds {
		out[i] = toDeployJSON(d)
		failed = failed || d.Err != nil
	}
	c.JSON(map[bool]int{false: http.StatusAccepted, true: http.StatusMultiStatus}[failed], out)
}

func (s *Server) stopPipeline(c *gin.Context) {
	ws, ok := s.pipelineWorkers(c)
	if !ok {
		return
	}
	out := []deployJSON{}
	for _, w := range ws {
		d := deployJSON{Worker: w.ConsumerName, WorkerID: w.ID, JobID: scheduler.JobID(w.ConsumerName)}
		if err := s.plane.Stop(c.Request.Context(), w, actorName(c)); err != nil {
			d.Error = errorMessage(nomadError(err))
		}
		out = append(out, d)
	}
	c.JSON(http.StatusOK, out)
}

// errorMessage is what a client may see of err.
func errorMessage(err error) string {
	if e, ok := errors.AsType[*apiserver.Error](err); ok {
		return e.Message
	}
	return "internal error"
}

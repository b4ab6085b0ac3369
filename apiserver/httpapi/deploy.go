package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/controlplane"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/scheduler"
)

func (s *Server) mountDeploy(v1 *gin.RouterGroup) {
	viewer, editor := s.require(apiserver.RoleViewer), s.require(apiserver.RoleEditor)
	v1.POST("/workers/:id/deploy", editor, s.deployWorker)
	v1.POST("/workers/:id/scale", editor, s.scaleWorker)
	v1.POST("/workers/:id/stop", editor, s.stopWorker)
	v1.GET("/workers/:id/status", viewer, s.workerStatus)
	v1.POST("/pipelines/:id/deploy", editor, s.deployPipeline)
	v1.POST("/pipelines/:id/stop", editor, s.stopPipeline)
	v1.GET("/pipelines/:id/status", viewer, s.pipelineStatus)
}

// nomadError turns a scheduler error into what the client can act on;
// errors that already are *apiserver.Error pass unchanged.
func nomadError(err error) error {
	if _, ok := errors.AsType[*apiserver.Error](err); ok || err == nil {
		return err
	}
	switch {
	case errors.Is(err, scheduler.ErrPlacementFailed), errors.Is(err, scheduler.ErrDeploymentFailed):
		return &apiserver.Error{Code: apiserver.CodeInvalid, Message: err.Error(), Err: err}
	case errors.Is(err, scheduler.ErrInvalidSpec), strings.Contains(err.Error(), "validation failed"):
		// Nomad answers a job it refuses with 500 and its validation errors.
		return &apiserver.Error{Code: apiserver.CodeInvalid, Message: err.Error(), Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &apiserver.Error{Code: apiserver.CodeUnavailable, Message: "Nomad did not answer in time; the reconciler retries", Err: err}
	}
	return &apiserver.Error{Code: apiserver.CodeUnavailable, Message: "Nomad: " + err.Error(), Err: err}
}

type deployJSON struct {
	Worker     string `json:"worker"`
	WorkerID   int64  `json:"worker_id"`
	JobID      string `json:"job_id"`
	JobVersion uint64 `json:"job_version"`
	EvalID     string `json:"eval_id"`
	Warnings   string `json:"warnings,omitempty"`
	Error      string `json:"error,omitempty"` // pipeline deploys: this worker's failure
}

func toDeployJSON(d controlplane.Deployed) deployJSON {
	out := deployJSON{Worker: d.Worker.ConsumerName, WorkerID: d.Worker.ID, JobID: scheduler.JobID(d.Worker.ConsumerName),
		JobVersion: d.JobVersion, EvalID: d.EvalID, Warnings: d.Warnings}
	if d.Err != nil {
		out.Error = errorMessage(nomadError(d.Err))
	}
	return out
}

func (s *Server) deployWorker(c *gin.Context) {
	if !s.need(c, s.sched != nil, "Nomad") {
		return
	}
	w, ok := s.worker(c)
	if !ok {
		return
	}
	out, err := s.plane.Deploy(c.Request.Context(), w, actorName(c))
	if err != nil {
		s.fail(c, nomadError(err))
		return
	}
	c.JSON(http.StatusAccepted, toDeployJSON(out))
}

type scaleInput struct {
	Instances int `json:"instances"`
}

func (s *Server) scaleWorker(c *gin.Context) {
	if !s.need(c, s.sched != nil, "Nomad") {
		return
	}
	w, ok := s.worker(c)
	if !ok {
		return
	}
	var in scaleInput
	if err := s.decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if w.Autoscale.Enabled {
		s.fail(c, refuseManualScale(w))
		return
	}
	if in.Instances < 1 || in.Instances > MaxInstances {
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "instances", "must be between 1 and %d", MaxInstances))
		return
	}
	err := s.plane.Scale(c.Request.Context(), w, in.Instances, actorName(c), events.ActionScale, "scaled through the API")
	if err != nil {
		s.fail(c, nomadError(err))
		return
	}
	w.Instances = in.Instances
	c.JSON(http.StatusOK, toWorkerJSON(w))
}

func (s *Server) stopWorker(c *gin.Context) {
	if !s.need(c, s.sched != nil, "Nomad") {
		return
	}
	w, ok := s.worker(c)
	if !ok {
		return
	}
	if err := s.plane.Stop(c.Request.Context(), w, actorName(c)); err != nil {
		s.fail(c, nomadError(err))
		return
	}
	w.DesiredState = apiserver.DesiredStopped
	c.JSON(http.StatusOK, toWorkerJSON(w))
}

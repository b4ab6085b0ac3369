package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/scheduler"
)

// nomadTimeout bounds one deploy, scale or stop call to Nomad; scaling
// waits for a running deployment to end, within it.
const nomadTimeout = 45 * time.Second

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

// ownerID is this installation's id, read once (see mysql.OwnerID).
func (s *Server) ownerID(ctx context.Context) (string, error) {
	s.ownerOnce.Lock()
	defer s.ownerOnce.Unlock()
	if s.owner == "" {
		id, err := s.db.OwnerID(ctx)
		if err != nil {
			return "", err
		}
		s.owner = id
	}
	return s.owner, nil
}

// jobSettings are the server's settings every worker's job carries.
func (s *Server) jobSettings() mysql.JobSettings {
	return mysql.JobSettings{PublicURL: s.cfg.PublicURL, WorkerMySQLDSN: s.cfg.WorkerMySQLDSN,
		RedisAddr: s.cfg.RedisAddr, WorkerOTLP: s.cfg.WorkerOTLP}
}

// spec is the Nomad job of worker w running function version fn, built by
// mysql.WorkerSpec as the reconciler's specs are, so that a pass finds
// what a deploy registered unchanged.
func (s *Server) spec(ctx context.Context, w apiserver.ConsumerConfig, fn apiserver.Function) (scheduler.WorkerSpec, error) {
	owner, err := s.ownerID(ctx)
	if err != nil {
		return scheduler.WorkerSpec{}, err
	}
	return mysql.WorkerSpec(w, fn, owner, s.jobSettings()), nil
}

// deployable returns w's spec, or a 422 naming what w lacks.
func (s *Server) deployable(ctx context.Context, w apiserver.ConsumerConfig) (scheduler.WorkerSpec, error) {
	if w.FunctionName == "" {
		return scheduler.WorkerSpec{}, apiserver.FieldErrorf(apiserver.CodeInvalid, "function",
			"worker %s has no function: set function and function_version first", w.ConsumerName)
	}
	fn, err := s.db.Function(ctx, w.FunctionName, w.FunctionVersion)
	if apiserver.ErrorCode(err) == apiserver.CodeNotFound {
		return scheduler.WorkerSpec{}, apiserver.FieldErrorf(apiserver.CodeInvalid, "function_version",
			"function %s has no version %q", w.FunctionName, w.FunctionVersion)
	}
	if err != nil {
		return scheduler.WorkerSpec{}, err
	}
	return s.spec(ctx, w, fn)
}

// nomadError turns a scheduler error into what the client can act on.
func nomadError(err error) error {
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

// deploy marks w running and registers its job. The desired state is
// recorded first: if Nomad fails now, or the server stops before it has
// registered the job, the reconciler deploys it later.
func (s *Server) deploy(ctx context.Context, w apiserver.ConsumerConfig) (deployJSON, error) {
	spec, err := s.deployable(ctx, w)
	if err != nil {
		return deployResult(w), err
	}
	s.nomadMu.Lock()
	defer s.nomadMu.Unlock()
	if err := s.db.SetDesiredState(ctx, w.ID, apiserver.DesiredRunning); err != nil {
		return deployResult(w), err
	}
	return s.submit(ctx, w, spec)
}

// submit registers the job of a worker whose desired state is recorded
// (the caller holds nomadMu). A failure wakes the reconciler, which
// retries it.
func (s *Server) submit(ctx context.Context, w apiserver.ConsumerConfig, spec scheduler.WorkerSpec) (deployJSON, error) {
	out := deployResult(w)
	ctx, cancel := context.WithTimeout(ctx, nomadTimeout)
	defer cancel()
	res, err := s.sched.Deploy(ctx, spec)
	if err != nil {
		s.notifyChanged()
		return out, nomadError(err)
	}
	out.JobVersion, out.EvalID, out.Warnings = res.JobVersion, res.EvalID, res.Warnings
	return out, nil
}

func deployResult(w apiserver.ConsumerConfig) deployJSON {
	return deployJSON{Worker: w.ConsumerName, WorkerID: w.ID, JobID: scheduler.JobID(w.ConsumerName)}
}

func (s *Server) deployWorker(c *gin.Context) {
	if !s.need(c, s.sched != nil, "Nomad") {
		return
	}
	w, ok := s.worker(c)
	if !ok {
		return
	}
	out, err := s.deploy(c.Request.Context(), w)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, out)
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
	if in.Instances < 1 || in.Instances > MaxInstances {
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "instances", "must be between 1 and %d", MaxInstances))
		return
	}
	if err := s.db.SetInstances(c.Request.Context(), w.ID, in.Instances); err != nil {
		s.fail(c, err)
		return
	}
	if w.DesiredState == apiserver.DesiredRunning {
		ctx, cancel := context.WithTimeout(c.Request.Context(), nomadTimeout)
		defer cancel()
		err := s.sched.Scale(ctx, w.ConsumerName, in.Instances, "scaled through the Tributary API")
		if err != nil && !errors.Is(err, scheduler.ErrNotFound) { // no job yet: the reconciler registers it at this count
			s.fail(c, nomadError(err))
			return
		}
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
	if err := s.stop(c.Request.Context(), w); err != nil {
		s.fail(c, err)
		return
	}
	w.DesiredState = apiserver.DesiredStopped
	c.JSON(http.StatusOK, toWorkerJSON(w))
}

func (s *Server) stop(ctx context.Context, w apiserver.ConsumerConfig) error {
	s.nomadMu.Lock()
	defer s.nomadMu.Unlock()
	if err := s.db.SetDesiredState(ctx, w.ID, apiserver.DesiredStopped); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, nomadTimeout)
	defer cancel()
	if err := s.sched.Stop(ctx, w.ConsumerName, false); err != nil {
		return nomadError(err)
	}
	return nil
}

package controlplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/scheduler"
)

// NomadTimeout bounds one deploy, scale or stop call to Nomad; scaling
// waits for a running deployment to end, within it.
const NomadTimeout = 45 * time.Second

// LockWait is how long a route waits for the Nomad lock a reconcile pass
// or another route holds before it answers 503.
const LockWait = 30 * time.Second

// Deployed is what Nomad registered for one worker. Err, in a pipeline
// deploy's results, is that worker's failure.
type Deployed struct {
	Worker     apiserver.ConsumerConfig
	JobID      string
	JobVersion uint64
	EvalID     string
	Warnings   string
	Err        error
}

// Spec is the Nomad job of worker w, or a CodeInvalid error naming what w
// lacks (a function version). It is built by mysql.WorkerSpec as the
// reconciler's specs are, so that a pass finds what a deploy registered
// unchanged.
func (p *Plane) Spec(ctx context.Context, w apiserver.ConsumerConfig) (scheduler.WorkerSpec, error) {
	if w.FunctionName == "" {
		return scheduler.WorkerSpec{}, apiserver.FieldErrorf(apiserver.CodeInvalid, "function",
			"worker %s has no function: set function and function_version first", w.ConsumerName)
	}
	fn, err := p.db.Function(ctx, w.FunctionName, w.FunctionVersion)
	if apiserver.ErrorCode(err) == apiserver.CodeNotFound {
		return scheduler.WorkerSpec{}, apiserver.FieldErrorf(apiserver.CodeInvalid, "function_version",
			"function %s has no version %q", w.FunctionName, w.FunctionVersion)
	}
	if err != nil {
		return scheduler.WorkerSpec{}, err
	}
	var runtime apiserver.Function
	if fn.IsPython() {
		if runtime, err = p.db.PythonRuntimeVersion(ctx); err != nil {
			return scheduler.WorkerSpec{}, err
		}
	}
	owner, err := p.ownerID(ctx)
	if err != nil {
		return scheduler.WorkerSpec{}, err
	}
	base, err := p.db.ArtifactBaseURL(ctx, p.cfg.Jobs.PublicURL)
	if err != nil {
		return scheduler.WorkerSpec{}, err
	}
	return mysql.WorkerSpec(w, fn, runtime, owner, base, p.cfg.Jobs), nil
}

// Deploy marks w running and registers its job, for actor. The desired
// state is recorded first: if Nomad fails now, or the server stops before
// it has registered the job, the reconciler deploys it later. A Nomad
// failure is returned wrapped (scheduler's errors) and wakes the
// reconciler.
func (p *Plane) Deploy(ctx context.Context, w apiserver.ConsumerConfig, actor string) (Deployed, error) {
	spec, err := p.Spec(ctx, w)
	if err != nil {
		return Deployed{Worker: w}, err
	}
	unlock, err := p.db.NomadLock(ctx, LockWait)
	if err != nil {
		return Deployed{Worker: w}, err
	}
	defer unlock()
	if err := p.db.SetDesiredState(ctx, w.ID, apiserver.DesiredRunning); err != nil {
		return Deployed{Worker: w}, err
	}
	p.recordDeploy(ctx, w, actor, "deployed through the API")
	return p.submit(ctx, w, spec)
}

// DeployPipeline deploys every worker of ws (a pipeline's, pipelineID);
// one worker's failure is reported in its entry and does not stop the
// others. Every deployable worker is marked running in one statement
// before any job is registered: a server stopped halfway through leaves
// a pipeline the reconciler finishes deploying, never half of one nobody
// wants. The error is for what stopped all of them.
func (p *Plane) DeployPipeline(ctx context.Context, ws []apiserver.ConsumerConfig, actor string) ([]Deployed, error) {
	out := make([]Deployed, len(ws))
	specs := make([]scheduler.WorkerSpec, len(ws))
	var ids []int64
	for i, w := range ws {
		out[i].Worker = w
		spec, err := p.Spec(ctx, w)
		if err != nil {
			out[i].Err = err
			continue
		}
		specs[i], ids = spec, append(ids, w.ID)
	}
	unlock, err := p.db.NomadLock(ctx, LockWait)
	if err != nil {
		return out, err
	}
	defer unlock()
	if err := p.db.SetDesiredStates(ctx, ids, apiserver.DesiredRunning); err != nil {
		return out, err
	}
	for i, w := range ws {
		if out[i].Err != nil {
			continue
		}
		p.recordDeploy(ctx, w, actor, fmt.Sprintf("pipeline %d deployed through the API", w.PipelineID))
		d, err := p.submit(ctx, w, specs[i])
		d.Err = err
		out[i] = d
	}
	return out, nil
}

func (p *Plane) recordDeploy(ctx context.Context, w apiserver.ConsumerConfig, actor, reason string) {
	p.record(ctx, events.Event{Actor: actor, Action: events.ActionDeploy, WorkerID: w.ID, PipelineID: w.PipelineID,
		From: events.JSON(map[string]any{"desired_state": w.DesiredState}),
		To: events.JSON(map[string]any{"desired_state": apiserver.DesiredRunning, "instances": w.Instances,
			"function": w.FunctionName, "function_version": w.FunctionVersion, "config_version": w.ConfigVersion}),
		Reason: reason})
}

// submit registers the job of a worker whose desired state is recorded
// (the caller holds the Nomad lock). A failure wakes the reconciler.
func (p *Plane) submit(ctx context.Context, w apiserver.ConsumerConfig, spec scheduler.WorkerSpec) (Deployed, error) {
	out := Deployed{Worker: w, JobID: scheduler.JobID(w.ConsumerName)}
	ctx, cancel := context.WithTimeout(ctx, NomadTimeout)
	defer cancel()
	res, err := p.sched.Deploy(ctx, spec)
	if err != nil {
		p.Notify()
		return out, err
	}
	out.JobVersion, out.EvalID, out.Warnings = res.JobVersion, res.EvalID, res.Warnings
	return out, nil
}

// Stop marks w stopped and stops its job, for actor.
func (p *Plane) Stop(ctx context.Context, w apiserver.ConsumerConfig, actor string) error {
	unlock, err := p.db.NomadLock(ctx, LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	if err := p.db.SetDesiredState(ctx, w.ID, apiserver.DesiredStopped); err != nil {
		return err
	}
	p.record(ctx, events.Event{Actor: actor, Action: events.ActionStop, WorkerID: w.ID, PipelineID: w.PipelineID,
		From: events.JSON(map[string]any{"desired_state": w.DesiredState}),
		To:   events.JSON(map[string]any{"desired_state": apiserver.DesiredStopped}), Reason: "stopped through the API"})
	ctx, cancel := context.WithTimeout(ctx, NomadTimeout)
	defer cancel()
	return p.sched.Stop(ctx, w.ConsumerName, false)
}

// Scale sets w's instance count to n for actor, with reason for the
// event and Nomad's scaling events. A worker not running only has its
// count recorded; a running one without a job yet (the reconciler
// registers it at this count) is not an error.
func (p *Plane) Scale(ctx context.Context, w apiserver.ConsumerConfig, n int, actor, action, reason string) error {
	unlock, err := p.db.NomadLock(ctx, LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	return p.scaleLocked(ctx, w, n, actor, action, reason)
}

func (p *Plane) scaleLocked(ctx context.Context, w apiserver.ConsumerConfig, n int, actor, action, reason string) error {
	if err := p.db.SetInstances(ctx, w.ID, n); err != nil {
		return err
	}
	p.record(ctx, events.Event{Actor: actor, Action: action, WorkerID: w.ID, PipelineID: w.PipelineID,
		From: events.JSON(map[string]int{"instances": w.Instances}), To: events.JSON(map[string]int{"instances": n}), Reason: reason})
	if w.DesiredState != apiserver.DesiredRunning {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, NomadTimeout)
	defer cancel()
	err := p.sched.Scale(ctx, w.ConsumerName, n, actor+": "+reason)
	if errors.Is(err, scheduler.ErrNotFound) {
		return nil
	}
	return err
}

// Rollback writes config version v of worker id as a new version, for
// actor, and wakes the reconciler, which rolls the job.
func (p *Plane) Rollback(ctx context.Context, id int64, v int, actor string, by *int64) (apiserver.ConsumerConfig, error) {
	before, err := p.db.ConsumerConfig(ctx, id)
	if apiserver.ErrorCode(err) == apiserver.CodeNotFound {
		err = apiserver.Errorf(apiserver.CodeNotFound, "no worker with that id")
	}
	if err != nil {
		return before, err
	}
	w, err := p.db.RollbackWorker(ctx, id, v, by)
	if err != nil {
		return w, err
	}
	p.record(ctx, events.Event{Actor: actor, Action: events.ActionRollback, WorkerID: w.ID, PipelineID: w.PipelineID,
		From:   events.JSON(map[string]any{"config_version": before.ConfigVersion, "function_version": before.FunctionVersion}),
		To:     events.JSON(map[string]any{"config_version": w.ConfigVersion, "function_version": w.FunctionVersion, "settings_of": v}),
		Reason: fmt.Sprintf("rolled back to the settings of config version %d", v)})
	p.Notify()
	return w, nil
}

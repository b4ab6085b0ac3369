package controlplane

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/scheduler"
)

// PassTimeout bounds one reconcile pass.
const PassTimeout = 2 * time.Minute

// reconcilePass makes Nomad match the workers marked running, under the
// Nomad lock, and records each repair. Only jobs carrying this
// installation's owner id are ever removed.
func (p *Plane) reconcilePass(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, PassTimeout)
	defer cancel()
	unlock, err := p.db.NomadLock(ctx, PassTimeout)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("reconcile: take the Nomad lock", "error", err.Error())
		}
		return
	}
	defer unlock()
	specs, err := p.db.Desired(p.cfg.Jobs, p.log).Workers(ctx)
	if err != nil {
		p.log.Error("reconcile: read desired workers", "error", err.Error())
		return
	}
	owner, err := p.ownerID(ctx)
	if err != nil {
		p.log.Error("reconcile: read installation id", "error", err.Error())
		return
	}
	// Owner scopes removal to this installation's jobs under the default
	// tributary- prefix: other jobs, and other installations' workers, are
	// never touched.
	rep, err := p.sched.ReconcileWith(ctx, specs, scheduler.ReconcileOptions{Owner: owner, Log: p.log})
	if err != nil {
		p.log.Warn("reconcile pass had failures", "failed", len(rep.Failed), "error", err.Error())
	}
	ids := map[string]int64{}
	for _, s := range specs {
		ids[s.Worker], _ = strconv.ParseInt(s.WorkerID, 10, 64)
	}
	for _, a := range rep.Registered {
		action := events.ActionReconcileRepair
		if strings.HasPrefix(a.Reason, "spec changed") {
			// The worker's settings (or its cluster's servers) changed:
			// a rolling update, not a repair.
			action = events.ActionRedeploy
		}
		p.record(ctx, events.Event{Actor: events.ActorReconciler, Action: action, WorkerID: ids[a.Worker],
			To: events.JSON(map[string]any{"job": a.JobID, "job_version": a.JobVersion}), Reason: a.Reason})
	}
	for _, a := range rep.Removed {
		p.record(ctx, events.Event{Actor: events.ActorReconciler, Action: events.ActionReconcileRepair,
			From: events.JSON(map[string]any{"job": a.JobID, "worker": a.Worker}), Reason: "job purged: " + a.Reason})
	}
	if n := len(rep.Registered) + len(rep.Removed); n > 0 {
		p.log.Info("reconcile pass", "registered", len(rep.Registered), "removed", len(rep.Removed),
			"unchanged", len(rep.Unchanged), "failed", len(rep.Failed))
	}
}

package controlplane

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/scheduler"
)

// LeaseName is the lease the reconciler and the autoscaler run under.
const LeaseName = "control"

// Config is the control plane's part of the server's configuration.
type Config struct {
	Jobs mysql.JobSettings // what every worker's job carries
	// ReconcileEvery is the period of reconcile passes; 0: only when
	// woken (Notify) and when the lease is taken.
	ReconcileEvery time.Duration
	LeaseTTL       time.Duration // 0: config.DefaultLeaseTTL
	AutoscaleEvery time.Duration // the autoscaler's period; 0: no autoscaling
	Lag            LagReader     // nil: KafkaLag
	Holder         string        // this server's id in the lease; "": unique per process
}

// Plane is the control plane of one API server. Its methods are safe for
// concurrent use; Run must be called once.
type Plane struct {
	db     *mysql.DB
	sched  *scheduler.Scheduler
	events *events.Log
	log    *slog.Logger
	cfg    Config
	lease  *Lease
	lag    LagReader

	changed chan struct{} // wakes this server's reconciler (see Notify)

	ownerMu sync.Mutex
	owner   string // this installation's id, read once
}

// New returns the control plane acting through sched on db's workers.
func New(db *mysql.DB, sched *scheduler.Scheduler, ev *events.Log, log *slog.Logger, cfg Config) *Plane {
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = config.DefaultLeaseTTL
	}
	if cfg.Lag == nil {
		cfg.Lag = KafkaLag
	}
	return &Plane{db: db, sched: sched, events: ev, log: log, cfg: cfg, lag: cfg.Lag,
		lease: NewLease(db.SQL(), LeaseName, cfg.Holder, cfg.LeaseTTL), changed: make(chan struct{}, 1)}
}

// Lease is the lease this server competes for.
func (p *Plane) Lease() *Lease { return p.lease }

// Notify tells the reconciler that the desired workers changed (created,
// updated, deleted, deployed, stopped), so that it runs a pass now rather
// than at its next tick. It never blocks. On a server that does not hold
// the lease it does nothing: the holder's next tick sees the change.
func (p *Plane) Notify() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// Drain reports whether a Notify is pending and consumes it, as the
// reconciler's loop would; callers' tests check with it that a write woke
// the reconciler.
func (p *Plane) Drain() bool {
	select {
	case <-p.changed:
		return true
	default:
		return false
	}
}

// Run competes for the lease until ctx ends, renewing it every third of
// its TTL, and while it holds it runs the reconciler and the autoscaler. It returns ctx's
// error; on return the lease is released so that another server takes
// over at once.
func (p *Plane) Run(ctx context.Context) error {
	if p.sched == nil {
		return errors.New("control plane: no scheduler")
	}
	var (
		cancel context.CancelFunc
		done   chan struct{}
	)
	stopLeading := func(why string) {
		if cancel == nil {
			return
		}
		cancel()
		<-done
		cancel = nil
		p.log.Info("control plane: lease given up", "holder", p.lease.HolderID(), "reason", why)
	}
	defer func() {
		stopLeading("shutting down")
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer rcancel()
		p.lease.Release(rctx)
	}()
	t := time.NewTicker(p.lease.TTL() / 3)
	defer t.Stop()
	for {
		held, err := p.lease.Acquire(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("control plane: renew lease", "error", err.Error())
		}
		switch {
		case held && cancel == nil:
			p.log.Info("control plane: lease taken", "holder", p.lease.HolderID(), "ttl", p.lease.TTL().String())
			cancel, done = p.startLeading(ctx)
		case !held && !p.lease.Held():
			stopLeading("lease lost or expired")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// startLeading runs lead until the returned cancel is called; done is
// closed when it has returned.
func (p *Plane) startLeading(ctx context.Context) (cancel context.CancelFunc, done chan struct{}) {
	ctx, cancel = context.WithCancel(ctx)
	done = make(chan struct{})
	go func() { defer close(done); p.lead(ctx) }()
	return cancel, done
}

// lead runs the once-per-installation loops until ctx ends.
func (p *Plane) lead(ctx context.Context) {
	autoscaled := make(chan struct{})
	go func() { defer close(autoscaled); p.runAutoscaler(ctx) }()
	defer func() { <-autoscaled }()
	var tick <-chan time.Time
	if p.cfg.ReconcileEvery > 0 {
		t := time.NewTicker(p.cfg.ReconcileEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		p.reconcilePass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-p.changed:
		}
	}
}

// record writes e to the event log, logging a failure: the action it
// describes has happened either way.
func (p *Plane) record(ctx context.Context, e events.Event) {
	if err := p.events.Record(context.WithoutCancel(ctx), e); err != nil {
		p.log.Error("record event", "action", e.Action, "worker_id", e.WorkerID, "error", err.Error())
	}
}

// ownerID is this installation's id, read once (see mysql.OwnerID).
func (p *Plane) ownerID(ctx context.Context) (string, error) {
	p.ownerMu.Lock()
	defer p.ownerMu.Unlock()
	if p.owner == "" {
		id, err := p.db.OwnerID(ctx)
		if err != nil {
			return "", err
		}
		p.owner = id
	}
	return p.owner, nil
}

package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/shared/kafkax"
)

// AutoscalePolicy bounds a worker's autoscaling. Workers have none by
// default: only a worker given a policy is autoscaled.
type AutoscalePolicy struct {
	Min, Max int // instance bounds; Min below 1 counts as 1
	// TargetLagPerInstance is the consumer-group lag (messages) one
	// instance may carry; above it, with the lag not falling, the worker
	// scales up. At or below a tenth of it the worker counts as idle.
	TargetLagPerInstance int64
	// Cooldown is the least time between two changes, and how long a
	// worker must stay idle before it scales down.
	Cooldown time.Duration
}

// LagSample is the total lag of a worker's consumer group at one time.
type LagSample struct {
	Time time.Time
	Lag  int64
}

// Decision is what the autoscaler wants: Target equal to the current count
// means no change. Reason says why in words, for logs and scaling events.
type Decision struct {
	Target int
	Reason string
}

// idle is the lag at or below which a worker counts as idle.
func (p AutoscalePolicy) idle() int64 { return p.TargetLagPerInstance / 10 }

// Decide is the autoscaler's policy, free of I/O. From the current count,
// the partitions of the input topics (the most instances that get work; 0
// means unknown, no cap), the recent lag samples (oldest first), and the
// time of the last change, it returns the count the worker should have:
//   - nothing changes within Cooldown of the last change;
//   - a count outside [Min, min(Max, partitions)] is brought inside (the
//     partition cap wins over Min: idle instances help nobody);
//   - with at least two samples, the latest lag above TargetLagPerInstance
//     per instance, and the lag not falling (latest ≥ oldest sample),
//     the worker scales up to ceil(lag / target), at least by one;
//   - when every sample of the last Cooldown is idle and the samples span
//     the whole Cooldown, the worker scales down by half (rounded up), so
//     a burst ends in steps rather than one drop to Min that might bounce
//     back;
//   - otherwise nothing changes.
func Decide(policy AutoscalePolicy, current, partitions int, samples []LagSample, lastChange, now time.Time) Decision {
	lo, hi := max(policy.Min, 1), policy.Max
	if partitions > 0 && partitions < hi {
		hi = partitions
	}
	hi = max(hi, 1)
	lo = min(lo, hi)
	hold := func(format string, args ...any) Decision {
		return Decision{Target: current, Reason: fmt.Sprintf(format, args...)}
	}

	if !lastChange.IsZero() && now.Sub(lastChange) < policy.Cooldown {
		return hold("cooldown: last change %s ago, cooldown %s", now.Sub(lastChange).Round(time.Second), policy.Cooldown)
	}
	if current < lo || current > hi {
		t := min(max(current, lo), hi)
		return Decision{Target: t, Reason: fmt.Sprintf("%d instances outside bounds [%d, %d] (max %d, %d partitions)", current, lo, hi, policy.Max, partitions)}
	}
	if len(samples) == 0 {
		return hold("no lag samples yet")
	}
	first, last := samples[0], samples[len(samples)-1]
	perInstance := last.Lag / int64(max(current, 1))

	if perInstance > policy.TargetLagPerInstance {
		switch {
		case len(samples) < 2:
			return hold("lag %d (%d per instance) above target %d, waiting for a second sample to judge the trend", last.Lag, perInstance, policy.TargetLagPerInstance)
		case last.Lag < first.Lag:
			return hold("lag %d (%d per instance) above target %d but falling (from %d over %s)",
				last.Lag, perInstance, policy.TargetLagPerInstance, first.Lag, last.Time.Sub(first.Time).Round(time.Second))
		case current >= hi:
			return hold("lag %d (%d per instance) above target %d and not falling, but already at the upper bound %d", last.Lag, perInstance, policy.TargetLagPerInstance, hi)
		}
		want := int((last.Lag + policy.TargetLagPerInstance - 1) / max(policy.TargetLagPerInstance, 1))
		t := min(max(want, current+1), hi)
		return Decision{Target: t, Reason: fmt.Sprintf("lag %d (%d per instance) above target %d and not falling (from %d over %s): scale up to %d",
			last.Lag, perInstance, policy.TargetLagPerInstance, first.Lag, last.Time.Sub(first.Time).Round(time.Second), t)}
	}

	if current > lo {
		since := now.Add(-policy.Cooldown)
		if first.Time.After(since) {
			return hold("lag %d within target; samples span %s, less than the cooldown %s needed to scale down", last.Lag, now.Sub(first.Time).Round(time.Second), policy.Cooldown)
		}
		for _, s := range samples {
			if !s.Time.Before(since) && s.Lag > policy.idle() {
				return hold("lag %d within target %d per instance, not idle (≤ %d) for the cooldown %s", last.Lag, policy.TargetLagPerInstance, policy.idle(), policy.Cooldown)
			}
		}
		t := max((current+1)/2, lo)
		return Decision{Target: t, Reason: fmt.Sprintf("lag at most %d for the cooldown %s: scale down to %d", policy.idle(), policy.Cooldown, t)}
	}
	return hold("lag %d (%d per instance) within target %d", last.Lag, perInstance, policy.TargetLagPerInstance)
}

// AutoscalerConfig says which worker to autoscale and how.
type AutoscalerConfig struct {
	Worker string   // the worker (its consumer_name)
	Group  string   // its consumer group; "" means Worker
	Topics []string // its input topics
	Policy AutoscalePolicy
	// Window is how much lag history Decide sees; 0 means the policy's
	// Cooldown plus a minute.
	Window time.Duration
	Log    *slog.Logger // nil means slog.Default()
}

// Autoscaler scales one worker from its consumer-group lag. Tick and Run
// are safe for concurrent use (ticks are serialised); the last change is
// remembered in memory only, so a restarted autoscaler may change the
// count once without waiting out the cooldown.
type Autoscaler struct {
	sched *Scheduler
	kafka *kafka.Client
	cfg   AutoscalerConfig
	now   func() time.Time

	mu         sync.Mutex
	samples    []LagSample
	lastChange time.Time
}

// NewAutoscaler returns an autoscaler for cfg.Worker reading lag through
// client (its Addr the broker).
func NewAutoscaler(s *Scheduler, client *kafka.Client, cfg AutoscalerConfig) (*Autoscaler, error) {
	switch {
	case s == nil || client == nil:
		return nil, errors.New("autoscaler: nil scheduler or Kafka client")
	case len(cfg.Topics) == 0:
		return nil, fmt.Errorf("%w: autoscaler for %s: no input topics", ErrInvalidSpec, cfg.Worker)
	case cfg.Policy.Max < 1 || cfg.Policy.Max < cfg.Policy.Min || cfg.Policy.TargetLagPerInstance < 1:
		return nil, fmt.Errorf("%w: autoscaler for %s: policy %+v", ErrInvalidSpec, cfg.Worker, cfg.Policy)
	}
	if err := checkWorker(cfg.Worker); err != nil {
		return nil, err
	}
	if cfg.Group == "" {
		cfg.Group = cfg.Worker
	}
	if cfg.Window <= 0 {
		cfg.Window = cfg.Policy.Cooldown + time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	cfg.Log = cfg.Log.With("worker", cfg.Worker)
	return &Autoscaler{sched: s, kafka: client, cfg: cfg, now: time.Now}, nil
}

// Tick samples the lag once, decides, and scales when the decision changes
// the count (the reason goes to Nomad's scaling events and the log). A
// stopped or missing job is left alone. Tick returns the decision.
func (a *Autoscaler) Tick(ctx context.Context) (Decision, error) {
	a.mu.Lock()
	defer a.mu.Unlock()

	job, _, err := a.sched.client.Jobs().Info(JobID(a.cfg.Worker), qopts(ctx, 0))
	if isNotFound(err) {
		return Decision{}, fmt.Errorf("autoscale worker %s: %w", a.cfg.Worker, ErrNotFound)
	}
	if err != nil {
		return Decision{}, fmt.Errorf("autoscale worker %s: %w", a.cfg.Worker, err)
	}
	current, ok := groupCount(job)
	if !ok {
		return Decision{}, fmt.Errorf("autoscale worker %s: job has %d task groups, want 1", a.cfg.Worker, len(job.TaskGroups))
	}
	if deref(job.Stop) {
		d := Decision{Target: current, Reason: "job stopped"}
		a.cfg.Log.Info("autoscale: hold", "instances", current, "reason", d.Reason)
		return d, nil
	}

	lags, err := kafkax.GroupLag(ctx, a.kafka, a.cfg.Group, a.cfg.Topics)
	if err != nil {
		return Decision{}, fmt.Errorf("autoscale worker %s: lag: %w", a.cfg.Worker, err)
	}
	var total int64
	perTopic := map[string]int{}
	for _, l := range lags {
		total += l.Lag
		perTopic[l.Topic]++
	}
	// Members share each topic's partitions, so the largest topic bounds
	// how many instances get work.
	partitions := 0
	for _, n := range perTopic {
		partitions = max(partitions, n)
	}

	now := a.now()
	a.samples = append(a.samples, LagSample{Time: now, Lag: total})
	// Keep the window, plus the newest sample older than it, so that the
	// samples can span the whole cooldown.
	cut := 0
	for cut+1 < len(a.samples) && now.Sub(a.samples[cut+1].Time) >= a.cfg.Window {
		cut++
	}
	a.samples = a.samples[cut:]

	d := Decide(a.cfg.Policy, current, partitions, a.samples, a.lastChange, now)
	if d.Target == current {
		a.cfg.Log.Info("autoscale: hold", "instances", current, "lag", total, "partitions", partitions, "reason", d.Reason)
		return d, nil
	}
	a.cfg.Log.Info("autoscale: scale", "instances", current, "target", d.Target, "lag", total, "partitions", partitions, "reason", d.Reason)
	if err := a.sched.Scale(ctx, a.cfg.Worker, d.Target, "autoscaler: "+d.Reason); err != nil {
		return d, fmt.Errorf("autoscale worker %s: %w", a.cfg.Worker, err)
	}
	a.lastChange = a.now()
	return d, nil
}

// Run ticks every interval until ctx ends and returns ctx's cause. A failed
// tick is logged and the next one tries again.
func (a *Autoscaler) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := a.Tick(ctx); err != nil && ctx.Err() == nil {
			a.cfg.Log.Error("autoscale tick failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}

package controlplane

import (
	"context"
	"errors"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/worker"
)

// LagReader reads a consumer group's lag on every partition of its topics
// from the cluster at servers. Topics the cluster does not have are left
// out. Implementations must be safe for concurrent use.
type LagReader interface {
	Lag(ctx context.Context, servers []string, group string, topics []string) ([]PartitionLag, error)
}

// KafkaLag is the LagReader over franz-go's kadm (package kafkaadmin).
var KafkaLag LagReader = kafkaLag{}

type kafkaLag struct{}

func (kafkaLag) Lag(ctx context.Context, servers []string, group string, topics []string) ([]PartitionLag, error) {
	a, err := kafkaadmin.Dial(servers)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	lags, _, err := a.Lag(ctx, group, topics)
	if err != nil {
		return nil, err
	}
	out := make([]PartitionLag, len(lags))
	for i, l := range lags {
		out[i] = PartitionLag{Topic: l.Topic, Partition: l.Partition, Committed: l.Committed, Lag: l.Lag}
	}
	return out, nil
}

// tickTimeout bounds one worker's autoscaling step: reading its lag and
// scaling it (which may wait for a running deployment).
const tickTimeout = NomadTimeout + 15*time.Second

// runAutoscaler decides for every autoscaled running worker every
// cfg.AutoscaleEvery until ctx ends (the lease lost or the server
// stopping). The previous tick's committed offsets, which tell persistent
// lag, live only as long as this call: a new holder starts without them,
// as KEDA does after a restart. The last change, which the cooldown
// counts from, is read from the event log, so a new holder or a restarted
// server does not scale down early.
func (p *Plane) runAutoscaler(ctx context.Context) {
	if p.cfg.AutoscaleEvery <= 0 {
		return
	}
	prev := map[int64]map[partitionKey]int64{}
	t := time.NewTicker(p.cfg.AutoscaleEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ws, err := p.db.Workers(ctx, 0)
		if err != nil {
			p.log.Warn("autoscale: list workers", "error", err.Error())
			continue
		}
		seen := map[int64]bool{}
		for _, w := range ws {
			if !w.Autoscale.Enabled || w.DesiredState != apiserver.DesiredRunning {
				continue
			}
			seen[w.ID] = true
			prev[w.ID] = p.autoscaleWorker(ctx, w, prev[w.ID])
		}
		for id := range prev {
			if !seen[id] {
				delete(prev, id)
			}
		}
	}
}

// autoscaleWorker takes one decision for w and returns the committed
// offsets it saw (prev again when it could not read them).
func (p *Plane) autoscaleWorker(ctx context.Context, w apiserver.ConsumerConfig, prev map[partitionKey]int64) map[partitionKey]int64 {
	ctx, cancel := context.WithTimeout(ctx, tickTimeout)
	defer cancel()
	log := p.log.With("worker", w.ConsumerName)
	// The live count is the truth: a scale whose Nomad call never happened
	// (a server killed in between) must not skew the decision.
	st, err := p.sched.Scaling(ctx, w.ConsumerName)
	switch {
	case errors.Is(err, scheduler.ErrNotFound):
		return prev // the reconciler registers it first
	case err != nil:
		log.Warn("autoscale: read the job", "error", err.Error())
		return prev
	case st.Stopped:
		return prev
	case st.Deploying:
		// Nomad would make a scale wait for the rollout, holding the Nomad
		// lock every deploy needs: decide once it is over.
		log.Debug("autoscale: hold while a deployment runs")
		return prev
	}
	if st.Count != w.Instances {
		log.Info("autoscale: the job's count differs from the stored one; deciding from the job's", "job_count", st.Count, "stored", w.Instances)
		w.Instances = st.Count
	}
	lags, err := p.lag.Lag(ctx, worker.SplitList(w.KafkaBootstrapServer), w.ConsumerName, w.TopicsInput)
	if err != nil {
		log.Warn("autoscale: read lag", "error", err.Error())
		return prev
	}
	perTopic := map[string]int{}
	seen := map[partitionKey]int64{}
	for _, l := range lags {
		perTopic[l.Topic]++
		seen[partitionKey{l.Topic, l.Partition}] = l.Committed
	}
	// Members share each topic's partitions, so the largest topic bounds
	// how many instances get work.
	partitions := 0
	for _, n := range perTopic {
		partitions = max(partitions, n)
	}
	var lastChange time.Time
	if last, ok, err := p.events.Last(ctx, w.ID, events.ActionAutoscale); err != nil {
		log.Warn("autoscale: read the last change", "error", err.Error())
		return prev // without it the cooldown cannot be judged
	} else if ok {
		lastChange = last.At
	}
	d := Decide(w.Autoscale, w.Instances, partitions, lags, prev, lastChange, time.Now())
	if d.Target == w.Instances {
		log.Debug("autoscale: hold", "instances", w.Instances, "reason", d.Reason)
		return seen
	}
	log.Info("autoscale: scale", "instances", w.Instances, "target", d.Target, "reason", d.Reason)
	if err := p.Scale(ctx, w, d.Target, events.ActorAutoscaler, events.ActionAutoscale, d.Reason); err != nil {
		log.Warn("autoscale: scale", "target", d.Target, "error", err.Error())
	}
	return seen
}

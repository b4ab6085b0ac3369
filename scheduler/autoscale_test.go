package scheduler_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/kafkax"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	policy := scheduler.AutoscalePolicy{Min: 1, Max: 3, TargetLagPerInstance: 100, Cooldown: time.Minute}
	at := func(sec int, lag int64) scheduler.LagSample {
		return scheduler.LagSample{Time: t0.Add(time.Duration(sec) * time.Second), Lag: lag}
	}
	now := t0.Add(2 * time.Minute)
	tests := []struct {
		name       string
		policy     scheduler.AutoscalePolicy
		current    int
		partitions int
		samples    []scheduler.LagSample
		lastChange time.Time
		want       int
		reason     string
	}{
		{"rising lag scales up", policy, 1, 4, []scheduler.LagSample{at(100, 200), at(120, 250)}, time.Time{}, 3, "not falling"},
		{"scale up by at least one", policy, 1, 4, []scheduler.LagSample{at(100, 101), at(120, 101)}, time.Time{}, 2, "scale up to 2"},
		{"falling lag holds", policy, 1, 4, []scheduler.LagSample{at(100, 900), at(120, 500)}, time.Time{}, 1, "falling"},
		{"one sample cannot show a trend", policy, 1, 4, []scheduler.LagSample{at(120, 900)}, time.Time{}, 1, "second sample"},
		{"capped by Max", policy, 3, 8, []scheduler.LagSample{at(100, 900), at(120, 900)}, time.Time{}, 3, "upper bound 3"},
		{"capped by partitions", policy, 1, 2, []scheduler.LagSample{at(100, 900), at(120, 900)}, time.Time{}, 2, "scale up to 2"},
		{"cooldown blocks a scale up", policy, 1, 4, []scheduler.LagSample{at(100, 900), at(120, 900)}, now.Add(-30 * time.Second), 1, "cooldown"},
		{"cooldown blocks a scale down", policy, 3, 4, []scheduler.LagSample{at(0, 0), at(110, 0)}, now.Add(-30 * time.Second), 3, "cooldown"},
		{"idle for the cooldown scales down by half", policy, 3, 4, []scheduler.LagSample{at(0, 0), at(60, 5), at(110, 0)}, time.Time{}, 2, "scale down to 2"},
		{"scale down stops at Min", scheduler.AutoscalePolicy{Min: 2, Max: 4, TargetLagPerInstance: 100, Cooldown: time.Minute}, 3, 4, []scheduler.LagSample{at(0, 0), at(110, 0)}, time.Time{}, 2, "scale down to 2"},
		{"samples shorter than the cooldown hold", policy, 3, 4, []scheduler.LagSample{at(90, 0), at(110, 0)}, time.Time{}, 3, "less than the cooldown"},
		{"not idle within the cooldown holds", policy, 3, 4, []scheduler.LagSample{at(0, 0), at(90, 50), at(110, 0)}, time.Time{}, 3, "not idle"},
		{"lag within target holds", policy, 2, 4, []scheduler.LagSample{at(100, 150), at(120, 150)}, time.Time{}, 2, "within target"},
		{"at Min and idle holds", policy, 1, 4, []scheduler.LagSample{at(0, 0), at(110, 0)}, time.Time{}, 1, "within target"},
		{"above Max is brought down", policy, 5, 8, nil, time.Time{}, 3, "outside bounds"},
		{"above the partitions is brought down", policy, 3, 1, nil, time.Time{}, 1, "outside bounds"},
		{"below Min is brought up", scheduler.AutoscalePolicy{Min: 2, Max: 4, TargetLagPerInstance: 100}, 1, 4, nil, time.Time{}, 2, "outside bounds"},
		{"no samples hold", policy, 2, 4, nil, time.Time{}, 2, "no lag samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := scheduler.Decide(tt.policy, tt.current, tt.partitions, tt.samples, tt.lastChange, now)
			if d.Target != tt.want || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("Decide = %+v, want target %d with a reason containing %q", d, tt.want, tt.reason)
			}
			if d.Reason == "" {
				t.Error("no reason")
			}
		})
	}
}

// TestAutoscalerScalesUpAndDown gives a worker a backlog on four
// partitions before it starts, so the first ticks see a high, steady lag
// and scale up to Max; once the worker has drained it and stayed idle for
// the cooldown, ticks scale it back down to Min.
func TestAutoscalerScalesUpAndDown(t *testing.T) {
	t.Parallel()
	s, client := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Second)
	defer cancel()
	spec := workerSpec(t, s)
	brokers := stacktest.Kafka(t)
	topic := spec.Env["TRIBUTARY_TOPICS_INPUT"]

	kc := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	if err := createTopic(ctx, brokers[0], topic, 4); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	w := kafkax.NewWriter(brokers, 10*time.Millisecond)
	w.Topic = topic
	w.Balancer = &kafka.RoundRobin{}
	var msgs []kafka.Message
	for i := range 400 {
		msgs = append(msgs, kafka.Message{Value: fmt.Appendf(nil, `{"content":{"text":"message %d"}}`, i)})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce backlog: %v", err)
	}
	w.Close()

	policy := scheduler.AutoscalePolicy{Min: 1, Max: 3, TargetLagPerInstance: 20, Cooldown: 3 * time.Second}
	as, err := scheduler.NewAutoscaler(s, kc, scheduler.AutoscalerConfig{
		Worker: spec.Worker, Topics: []string{topic}, Policy: policy, Log: nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Ticks before the job exists fail, and so do ticks before it has an
	// allocation: neither affects the test, so deploy first and tick at once.
	deploy(t, ctx, s, spec)

	count := func() int {
		job := jobInfo(t, ctx, client, spec.Worker)
		return *job.TaskGroups[0].Count
	}
	// Two ticks at once: the worker has not started, the lag is steady.
	for range 2 {
		d, err := as.Tick(ctx)
		if err != nil {
			t.Fatalf("Tick: %v", err)
		}
		t.Logf("decision: %+v", d)
	}
	if n := count(); n != 3 {
		t.Fatalf("count %d after a steady backlog of 400 with target 20 per instance, want Max 3", n)
	}
	waitHealthy(t, ctx, s, spec.Worker, 3)

	// Drained and idle for the cooldown: down by half per cooldown, to Min.
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for count() != 1 {
		d, err := as.Tick(ctx)
		if err != nil {
			t.Fatalf("Tick: %v", err)
		}
		if d.Target != 0 && strings.Contains(d.Reason, "scale") {
			t.Logf("decision: %+v", d)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not scaled down to 1 in time (count %d): %v", count(), context.Cause(ctx))
		case <-tick.C:
		}
	}
	lags, err := kafkax.GroupLag(ctx, kc, spec.Worker, []string{topic})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lags {
		if l.Lag != 0 {
			t.Errorf("partition %d lag %d after scaling down, want 0", l.Partition, l.Lag)
		}
	}
}

// createTopic creates topic with the given partitions through the
// cluster's controller.
func createTopic(ctx context.Context, broker, topic string, partitions int) error {
	conn, err := kafka.DialContext(ctx, "tcp", broker)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctrl, err := conn.Controller()
	if err != nil {
		return err
	}
	cc, err := kafka.DialContext(ctx, "tcp", net.JoinHostPort(ctrl.Host, fmt.Sprint(ctrl.Port)))
	if err != nil {
		return err
	}
	defer cc.Close()
	return cc.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1})
}

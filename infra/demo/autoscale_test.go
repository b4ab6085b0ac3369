package demo_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/infra/demo"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// scaleEvent is an autoscale event's change of instances.
type scaleEvent struct {
	event
	From struct{ Instances int } `json:"from"`
	To   struct{ Instances int } `json:"to"`
}

func autoscaleEvents(ctx context.Context, t *testing.T, c *demo.Client, worker int64) []scaleEvent {
	t.Helper()
	var evs []scaleEvent
	if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/events?worker_id=%d", worker), nil, &evs); err != nil {
		t.Fatal(err)
	}
	var out []scaleEvent
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		if evs[i].Action == "autoscale" {
			out = append(out, evs[i])
		}
	}
	return out
}

func describe(evs []scaleEvent) string {
	var s []string
	for _, e := range evs {
		s = append(s, fmt.Sprintf("%d→%d (%s)", e.From.Instances, e.To.Instances, e.Reason))
	}
	return strings.Join(s, "; ")
}

// TestAutoscaleJoinWorkerUpAndDown deploys a two-topic join worker with
// autoscale min 1 / max 3 over a backlog: the autoscaler scales it 1→3 at
// once, and back to 1 once the backlog has drained and the cooldown has
// passed. The API server is killed (SIGKILL) and started again while the
// worker runs at 3: the restarted server, which reads the last change
// from the event log, takes no extra decision. The events show both
// decisions and their reasons, and nothing else.
func TestAutoscaleJoinWorkerUpAndDown(t *testing.T) {
	stacktest.Nomad(t)
	brokers := stacktest.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	const cooldown = 30 * time.Second
	api := newPrivateAPI(t, apiOptions{env: []string{"TRIBUTARY_AUTOSCALE_INTERVAL=1s", "TRIBUTARY_LEASE_TTL=3s"}})
	c := api.admin(ctx)
	name := strings.ReplaceAll(stacktest.Name(t, "autoscale"), "_", "-")
	t.Cleanup(func() { purgeJobs(t, name) })
	left, right, out := name+".left", name+".right", name+".out"
	repo, _ := filepath.Abs("../..")
	cluster, err := demo.EnsureCluster(ctx, c, brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	versions, err := demo.RegisterFunctions(ctx, c, demo.Options{Repo: repo, Functions: []string{"template"}})
	if err != nil {
		t.Fatal(err)
	}
	// One id makes the topics (6 partitions each) before the worker reads
	// them. The backlog comes once the worker's first rollout is over (the
	// autoscaler never decides during one): 120,000 ids, 240,000
	// fragments, produced several times faster than one instance drains
	// them, so the lag stays deep for seconds however fast the worker is.
	// At 100 per instance any lag above 200 asks for the maximum, and the
	// feed's first write alone (1,000 fragments) is more: a tick in the
	// feed's first milliseconds decides as one after it. (Fed before the
	// deploy, a fast worker drained it during the rollout, and the
	// autoscaler saw no lag at all.)
	stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: 1, Rate: 1000}.Run(t, ctx)
	feed := stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: 120000, From: 1, Rate: 60000}
	emitted := stacktest.CheckIDs(ctx, brokers, out, false)

	var w struct {
		ID int64 `json:"id"`
	}
	if err := c.Do(ctx, "POST", "/api/v1/workers", map[string]any{"name": name, "input_topics": []string{left, right},
		"output_topics": []string{out}, "cluster_id": cluster, "function": "template", "function_version": versions["template"],
		"timeout_seconds": 600, "autoscale": map[string]any{"enabled": true, "min": 1, "max": 3, "lag_per_instance": 100,
			"cooldown_seconds": int(cooldown / time.Second)}}, &w); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/workers/%d/deploy", w.ID), nil, nil); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ctx, c, w.ID, 2*time.Minute, "through its first rollout", func(st demo.Status) bool {
		return st.Healthy >= 1 && st.Deployment != nil && st.Deployment.Status == "successful"
	})
	start := time.Now()
	feed.Run(t, ctx)
	waitEvents := func(n int, within time.Duration) []scaleEvent {
		t.Helper()
		var evs []scaleEvent
		for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			if evs = autoscaleEvents(ctx, t, c, w.ID); len(evs) >= n {
				return evs
			}
		}
		t.Fatalf("%d autoscale events within %s, want %d: %s", len(evs), within, n, describe(evs))
		return nil
	}
	up := waitEvents(1, 2*time.Minute)[0]
	upAfter := up.At.Sub(start) // the decision, not when the test saw it
	if up.From.Instances != 1 || up.To.Instances != 3 || up.Actor != "autoscaler" || !strings.Contains(up.Reason, "scale up") {
		t.Fatalf("first decision %s, want 1→3 by the autoscaler", describe(up.asList()))
	}
	// Three instances run before the restart, so that the decision is in
	// Nomad, not only in MySQL.
	waitHealthy(t, ctx, c, w.ID, 3, 2*time.Minute)
	if time.Since(start) > upAfter+cooldown {
		t.Fatal("invalid run: the cooldown had passed before the restart, which then proves nothing")
	}
	api.kill()
	api.start()
	restarted := time.Since(start)

	evs := waitEvents(2, 3*time.Minute)
	down := evs[1]
	if down.From.Instances != 3 || down.To.Instances != 1 || !strings.Contains(down.Reason, "scale down") {
		t.Errorf("second decision %s, want 3→1", describe(evs[1:]))
	}
	if gap := down.At.Sub(up.At); gap < cooldown {
		t.Errorf("scaled down %s after scaling up, within the cooldown %s", gap, cooldown)
	}
	stacktest.WaitFor(t, time.Minute, stacktest.IDs(1+feed.IDs), emitted)
	<-time.After(3 * time.Second) // an observation window of three ticks: no further decision may come
	if evs := autoscaleEvents(ctx, t, c, w.ID); len(evs) != 2 {
		t.Errorf("%d autoscale decisions, want 2: %s", len(evs), describe(evs))
	}
	t.Logf("autoscale: 1→3 %s after the backlog began (%s); server restarted at %s; 3→1 %s after the scale-up (%s); %d ids out",
		upAfter.Round(100*time.Millisecond), up.Reason, restarted.Round(100*time.Millisecond),
		down.At.Sub(up.At).Round(100*time.Millisecond), down.Reason, emitted.Distinct())
}

func (e scaleEvent) asList() []scaleEvent { return []scaleEvent{e} }

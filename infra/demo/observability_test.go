package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/tributary-etl/tributary/infra/demo"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// workerTarget is what Prometheus says of one scraped allocation.
type workerTarget struct {
	alloc, function, version, health, lastError string
}

// workerTargets lists the active tributary-workers targets of worker.
func workerTargets(ctx context.Context, t *testing.T, prom promv1.API, worker string) []workerTarget {
	t.Helper()
	res, err := prom.Targets(ctx)
	if err != nil {
		t.Fatalf("GET /api/v1/targets: %v", err)
	}
	var out []workerTarget
	for _, a := range res.Active {
		if a.Labels["job"] == "tributary-workers" && string(a.Labels["worker"]) == worker {
			out = append(out, workerTarget{alloc: string(a.Labels["alloc"]), function: string(a.Labels["function"]),
				version: string(a.Labels["version"]), health: string(a.Health), lastError: a.LastError})
		}
	}
	return out
}

// runningAllocs lists the ids of the running allocations of the Nomad job
// whose id ends with suffix.
func runningAllocs(t *testing.T, suffix string) []string {
	t.Helper()
	var allocs []struct {
		ID, JobID, ClientStatus string
	}
	r, err := http.Get(stacktest.NomadAddr() + "/v1/allocations?prefix=")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if err := json.NewDecoder(r.Body).Decode(&allocs); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range allocs {
		if strings.HasSuffix(a.JobID, suffix) && a.ClientStatus == "running" {
			ids = append(ids, a.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// upTargets is whether targets are exactly allocs, every one healthy.
func upTargets(targets []workerTarget, allocs []string) bool {
	var got []string
	for _, tg := range targets {
		if tg.health != "up" {
			return false
		}
		got = append(got, tg.alloc)
	}
	slices.Sort(got)
	return len(allocs) > 0 && slices.Equal(got, allocs)
}

// TestPrometheusScrapesEveryAllocation deploys a pipeline and checks that
// the stack's Prometheus, through nomad_sd_configs and the job template's
// service tags, scrapes every allocation of its relay worker, healthy and
// labelled with worker, function, version and alloc; scaled to 2, the
// worker has 2 targets within 30 s.
func TestPrometheusScrapesEveryAllocation(t *testing.T) {
	stacktest.Nomad(t)
	stacktest.Kafka(t)
	pc, err := promapi.NewClient(promapi.Config{Address: stacktest.Prometheus(t)})
	if err != nil {
		t.Fatal(err)
	}
	prom := promv1.NewAPI(pc)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	api := newPrivateAPI(t, apiOptions{})
	c := api.admin(ctx)
	name := strings.ReplaceAll(stacktest.Name(t, "prom"), "_", "-")
	p, _, _, _ := joinPipeline(t, ctx, c, name)
	if err := demo.DeployAndWait(ctx, c, p, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	relay := name + "-relay"

	check := func(want int, within time.Duration) {
		t.Helper()
		start := time.Now()
		var targets []workerTarget
		var allocs []string
		for deadline := start.Add(within); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			targets, allocs = workerTargets(ctx, t, prom, relay), runningAllocs(t, relay)
			if len(allocs) == want && upTargets(targets, allocs) {
				t.Logf("%d healthy targets, one per running allocation, %s after the request", want, time.Since(start).Round(100*time.Millisecond))
				for _, tg := range targets {
					if tg.function != "template" || tg.version == "" {
						t.Errorf("target of alloc %s: function %q version %q, want template and its version", tg.alloc, tg.function, tg.version)
					}
				}
				return
			}
		}
		t.Fatalf("after %s: targets %+v, running allocations %v; want %d healthy targets, one per allocation", within, targets, allocs, want)
	}
	check(1, 60*time.Second)

	if err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/workers/%d/scale", p.WorkerIDs[relay]), map[string]int{"instances": 2}, nil); err != nil {
		t.Fatal(err)
	}
	// Within 30 s of the scale request: Nomad places and starts the second
	// allocation, registers its service, and Prometheus's 5 s discovery
	// refresh and scrape find it.
	check(2, 30*time.Second)

	// The series carry the labels too: the query Grafana and the API use.
	q := fmt.Sprintf(`count by (function) (tributary_consumed_total{worker=%q, alloc!=""})`, relay)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		v, _, _, err := prom.Query(ctx, q, time.Now())
		vec, _ := v.(model.Vector)
		if err == nil && len(vec) == 1 && vec[0].Metric["function"] == "template" && vec[0].Value == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v (%v), want 2 series labelled function=template", q, v, err)
		}
	}
}

// seriesAnswer is GET /api/v1/workers/{id}/series.
type seriesAnswer struct {
	Worker string `json:"worker"`
	Metric string `json:"metric"`
	Unit   string `json:"unit"`
	Query  string `json:"query"`
	Series []struct {
		Labels map[string]string `json:"labels"`
		Points [][2]float64      `json:"points"`
	} `json:"series"`
}

// maxPoint is the largest value of every series, and how many points.
func (s seriesAnswer) maxPoint() (top float64, points int) {
	for _, sr := range s.Series {
		for _, p := range sr.Points {
			top = max(top, p[1])
			points++
		}
	}
	return top, points
}

// TestSeriesOfAWorkerUnderLoad feeds a join worker a backlog and then a
// steady flow, and reads its lag and rate through the API server's series
// endpoint, which asks the stack's Prometheus: both come back as real
// points, the lag above zero while the backlog drains and the rate above
// zero while records flow.
func TestSeriesOfAWorkerUnderLoad(t *testing.T) {
	stacktest.Nomad(t)
	brokers := stacktest.Kafka(t)
	promURL := stacktest.Prometheus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	api := newPrivateAPI(t, apiOptions{env: []string{"TRIBUTARY_PROMETHEUS_URL=" + promURL}})
	c := api.admin(ctx)
	name := strings.ReplaceAll(stacktest.Name(t, "series"), "_", "-")
	p, left, right, out := joinPipeline(t, ctx, c, name)
	emitted := stacktest.CheckIDs(ctx, brokers, out, false)
	// A backlog first, so that the lag has something to show while it
	// drains (the lag gauge and the scrape both run every few seconds),
	// then the deploy, then a steady flow of 30 s for the rate.
	const backlog, steady = 20000, 6000
	stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: backlog, Rate: 20000}.Run(t, ctx)
	if err := demo.DeployAndWait(ctx, c, p, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: steady, From: backlog, Rate: 200}.Run(t, ctx)

	join := p.WorkerIDs[name+"-join"]
	read := func(metric string) seriesAnswer {
		var s seriesAnswer
		if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/workers/%d/series?metric=%s&range=10m&step=5s", join, metric), nil, &s); err != nil {
			t.Fatalf("series %s: %v", metric, err)
		}
		return s
	}
	for _, metric := range []string{"lag", "rate"} {
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(2 * time.Second) {
			s := read(metric)
			top, points := s.maxPoint()
			if top > 0 && points >= 3 {
				t.Logf("%s: %d points, max %.1f %s (query %s)", metric, points, top, s.Unit, s.Query)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("series %s after 2 minutes: %d points, max %v: %+v", metric, points, top, s)
			}
		}
	}
	// The worker's throughput comes from the same Prometheus, per input
	// topic too: the edges into a join have their own rates.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(2 * time.Second) {
		var m struct {
			Throughput struct {
				Source  string             `json:"source"`
				In      float64            `json:"in_per_sec"`
				ByTopic map[string]float64 `json:"in_per_sec_by_topic"`
			} `json:"throughput"`
		}
		if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/workers/%d/metrics", join), nil, &m); err != nil {
			t.Fatal(err)
		}
		tp := m.Throughput
		if tp.Source == "prometheus" && tp.ByTopic[left] > 0 && tp.ByTopic[right] > 0 {
			t.Logf("throughput from Prometheus: %.1f/s in, %.1f/s from %s, %.1f/s from %s", tp.In, tp.ByTopic[left], left, tp.ByTopic[right], right)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("throughput %+v, want source prometheus and a rate on both %s and %s", tp, left, right)
		}
	}
	stacktest.WaitFor(t, 2*time.Minute, stacktest.IDs(backlog+steady), emitted)
}

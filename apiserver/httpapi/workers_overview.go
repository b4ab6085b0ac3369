package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/apiserver/throughput"
	"github.com/tributary-etl/tributary/shared/worker"
)

// workerOverviewJSON is a worker with how it is doing, as the list of
// every worker shows it. The live fields are null when their source was
// not configured or did not answer (the answer's warnings say which).
type workerOverviewJSON struct {
	workerJSON
	PipelineName *string          `json:"pipeline_name"`
	Job          *overviewJobJSON `json:"job"`     // null: no job in Nomad (never deployed, or purged), or Nomad not read
	Running      *int             `json:"running"` // allocations running and meant to run
	Healthy      *int             `json:"healthy"` // of those, judged healthy by their deployment
	Desired      *int             `json:"desired"` // the instances its job wants: 0 when stopped or never deployed
	Lag          *int64           `json:"lag"`     // summed over its input partitions
	InPerSec     *float64         `json:"in_per_sec"`
	OutPerSec    *float64         `json:"out_per_sec"`
}

type overviewJobJSON struct {
	Status  string `json:"status"` // Nomad's: pending, running or dead
	Stopped bool   `json:"stopped"`
}

type overviewJSON struct {
	Workers   []workerOverviewJSON `json:"workers"`
	Warnings  []string             `json:"warnings"`
	SampledAt time.Time            `json:"sampled_at"`
}

// workersOverview answers every worker with its job, instances, lag and
// rates, reading each source once for all of them, concurrently: Nomad's
// list of jobs and of running allocations, each Kafka cluster's end
// offsets and every group's commits, and the throughput reader (one
// Prometheus query; the sampler is asked about running workers only, so
// that opening the list does not start sampling every stopped one).
func (s *Server) workersOverview(c *gin.Context) {
	ctx := c.Request.Context()
	ws, err := s.db.Workers(ctx, 0)
	if err != nil {
		s.fail(c, err)
		return
	}
	pipelines, err := s.db.Pipelines(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	names := map[int64]string{}
	for _, p := range pipelines {
		names[p.ID] = p.Name
	}
	out := overviewJSON{Workers: make([]workerOverviewJSON, len(ws)), Warnings: []string{}, SampledAt: time.Now().UTC()}
	for i, w := range ws {
		out.Workers[i] = workerOverviewJSON{workerJSON: toWorkerJSON(w)}
		if n, ok := names[w.PipelineID]; ok {
			out.Workers[i].PipelineName = &n
		}
	}
	var mu sync.Mutex
	warn := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		out.Warnings = append(out.Warnings, msg)
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.overviewJobs(ctx, ws, out.Workers, warn) })
	wg.Go(func() { s.overviewLags(ctx, ws, out.Workers, warn) })
	wg.Go(func() { s.overviewRates(ctx, ws, out.Workers, warn) })
	wg.Wait()
	slices.Sort(out.Warnings)
	c.JSON(http.StatusOK, out)
}

// Each overview part below writes only its own fields of out, so the
// three run at once without a lock on out.

func (s *Server) overviewJobs(ctx context.Context, ws []apiserver.ConsumerConfig, out []workerOverviewJSON, warn func(string)) {
	if s.sched == nil {
		warn("Nomad is not configured on this server: no jobs or instances")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, sideTimeout)
	defer cancel()
	jobs, err := s.sched.Jobs(ctx)
	if err != nil {
		warn("Nomad: " + err.Error())
		return
	}
	for i, w := range ws {
		running, healthy, desired := 0, 0, 0
		if j, ok := jobs[w.ConsumerName]; ok {
			out[i].Job = &overviewJobJSON{j.Status, j.Stopped}
			running, healthy = j.Running, j.Healthy
			if !j.Stopped {
				desired = w.Instances
			}
		}
		out[i].Running, out[i].Healthy, out[i].Desired = &running, &healthy, &desired
	}
}

// overviewLags asks each cluster once, for every group on it.
func (s *Server) overviewLags(ctx context.Context, ws []apiserver.ConsumerConfig, out []workerOverviewJSON, warn func(string)) {
	clusters := map[string][]int{} // bootstrap servers, sorted: indexes into ws
	for i, w := range ws {
		servers := worker.SplitList(w.KafkaBootstrapServer)
		slices.Sort(servers)
		key := strings.Join(servers, ",")
		clusters[key] = append(clusters[key], i)
	}
	var wg sync.WaitGroup
	for key, idx := range clusters {
		wg.Go(func() {
			groups := map[string][]string{}
			for _, i := range idx {
				groups[ws[i].ConsumerName] = ws[i].TopicsInput
			}
			lags, err := kafkaDo(ctx, s, strings.Split(key, ","), func(kc *kafkaadmin.Admin, ctx context.Context) (map[string]int64, error) {
				return kc.Lags(ctx, groups)
			})
			if err != nil {
				warn("lag: the Kafka cluster at " + key + " did not answer: " + err.Error())
				return
			}
			for _, i := range idx {
				if l, ok := lags[ws[i].ConsumerName]; ok {
					out[i].Lag = &l
				}
			}
		})
	}
	wg.Wait()
}

func (s *Server) overviewRates(ctx context.Context, ws []apiserver.ConsumerConfig, out []workerOverviewJSON, warn func(string)) {
	if s.tput == nil {
		warn("throughput is not measured on this server")
		return
	}
	var targets []throughput.Target
	for _, w := range ws {
		if w.DesiredState == apiserver.DesiredRunning {
			targets = append(targets, throughput.Target{Worker: w.ConsumerName,
				Brokers: worker.SplitList(w.KafkaBootstrapServer), Inputs: w.TopicsInput, Outputs: w.TopicsOutput})
		}
	}
	if len(targets) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, sideTimeout)
	defer cancel()
	all, err := throughput.All(ctx, s.tput, targets)
	if err != nil {
		warn("throughput: " + err.Error())
		return
	}
	for i, w := range ws {
		if tp, ok := all[w.ConsumerName]; ok {
			out[i].InPerSec, out[i].OutPerSec = &tp.InPerSec, &tp.OutPerSec
		}
	}
}

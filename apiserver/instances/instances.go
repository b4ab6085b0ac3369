// Package instances exports, for the API server's /metrics, how many
// instances each deployed worker should run and how many are healthy, so
// that an alert rule can say "a worker below its desired healthy
// instances for N minutes":
//
//	tributary_worker_desired_instances{worker}  the instance count of a worker marked running (MySQL)
//	tributary_worker_healthy_instances{worker}  its allocations running, meant to run and judged
//	                                            healthy by their deployment (scheduler.Allocation.HealthyRunning,
//	                                            the sense of GET /workers/{id}/status)
//	tributary_nomad_up                          1 when the last list of allocations succeeded, else 0
//
// The numbers are read at scrape time, not published by the control
// plane's reconcile pass: every API server serves /metrics, but only the
// lease holder reconciles, every TRIBUTARY_RECONCILE_INTERVAL; gauges it
// published would be missing on the other servers, stale between passes
// and lost with a lease change. A scrape costs one MySQL query and one
// Nomad list of running allocations for every worker at once
// (scheduler.HealthyCounts), bounded by ListTimeout, and the answer is
// kept CacheFor, so Prometheus pairs and curious operators do not
// multiply it. With several API servers each exports the same series;
// rules aggregate them with max by (worker).
//
// While Nomad does not answer, the healthy gauges are left out (a rule
// comparing them finds nothing rather than a false 0) and
// tributary_nomad_up says why.
package instances

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Bounds of a scrape.
const (
	CacheFor    = 10 * time.Second
	ListTimeout = 2 * time.Second
)

// Counter counts each worker's healthy allocations in one call
// (*scheduler.Scheduler).
type Counter interface {
	HealthyCounts(ctx context.Context) (map[string]int, error)
}

// Desired reads each running worker's instance count
// ((*mysql.DB).DesiredInstances).
type Desired func(ctx context.Context) (map[string]int, error)

var (
	desiredDesc = prometheus.NewDesc("tributary_worker_desired_instances",
		"Instances a worker marked running should have.", []string{"worker"}, nil)
	healthyDesc = prometheus.NewDesc("tributary_worker_healthy_instances",
		"A running worker's allocations that are running and healthy in Nomad.", []string{"worker"}, nil)
	nomadUpDesc = prometheus.NewDesc("tributary_nomad_up",
		"1 when Nomad answered the last list of worker allocations, else 0.", nil, nil)
)

// Collector is the prometheus.Collector of the three gauges. It is safe
// for concurrent scrapes; they share one reading per CacheFor.
type Collector struct {
	desired Desired
	healthy Counter
	log     *slog.Logger
	now     func() time.Time

	mu   sync.Mutex
	at   time.Time
	last reading
}

type reading struct {
	desired map[string]int // nil when MySQL did not answer
	healthy map[string]int // nil when Nomad did not answer
}

// New returns the collector over desired and healthy.
func New(desired Desired, healthy Counter, log *slog.Logger) *Collector {
	if log == nil {
		log = slog.Default()
	}
	return &Collector{desired: desired, healthy: healthy, log: log, now: time.Now}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- desiredDesc
	ch <- healthyDesc
	ch <- nomadUpDesc
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	r := c.read()
	up := 0.0
	if r.healthy != nil {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(nomadUpDesc, prometheus.GaugeValue, up)
	for worker, n := range r.desired {
		ch <- prometheus.MustNewConstMetric(desiredDesc, prometheus.GaugeValue, float64(n), worker)
		if r.healthy != nil {
			ch <- prometheus.MustNewConstMetric(healthyDesc, prometheus.GaugeValue, float64(r.healthy[worker]), worker)
		}
	}
}

// read returns the cached reading, or takes a new one when it is older
// than CacheFor. Scrapes arriving meanwhile wait for it.
func (c *Collector) read() reading {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && c.now().Sub(c.at) < CacheFor {
		return c.last
	}
	ctx, cancel := context.WithTimeout(context.Background(), ListTimeout)
	defer cancel()
	var r reading
	var err error
	if r.desired, err = c.desired(ctx); err != nil {
		c.log.Warn("metrics: desired instances", "error", err.Error())
	}
	if r.healthy, err = c.healthy.HealthyCounts(ctx); err != nil {
		c.log.Warn("metrics: healthy instances", "error", err.Error())
	}
	c.at, c.last = c.now(), r
	return r
}

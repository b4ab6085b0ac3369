package alerting

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CollectTimeout bounds the query a scrape of FiringCollector makes.
const CollectTimeout = 2 * time.Second

var firingDesc = prometheus.NewDesc("tributary_alerts_firing",
	"Alerts Alertmanager reported firing and not yet resolved, by alertname.", []string{"alertname"}, nil)

// FiringCollector exports tributary_alerts_firing{alertname} from store,
// counted at every scrape (one indexed query). When the database does not
// answer the scrape carries no such series, and the failure is logged.
type FiringCollector struct {
	store *Store
	log   *slog.Logger
}

// NewFiringCollector returns the collector over store.
func NewFiringCollector(store *Store, log *slog.Logger) *FiringCollector {
	if log == nil {
		log = slog.Default()
	}
	return &FiringCollector{store: store, log: log}
}

// Describe implements prometheus.Collector.
func (c *FiringCollector) Describe(ch chan<- *prometheus.Desc) { ch <- firingDesc }

// Collect implements prometheus.Collector.
func (c *FiringCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), CollectTimeout)
	defer cancel()
	counts, err := c.store.FiringByName(ctx)
	if err != nil {
		c.log.Warn("metrics: count firing alerts", "error", err.Error())
		return
	}
	for name, n := range counts {
		ch <- prometheus.MustNewConstMetric(firingDesc, prometheus.GaugeValue, float64(n), name)
	}
}

package worker

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/shared/kafkax"
)

// durationBuckets are the upper bounds, in seconds, of the histograms of
// one function call and one join-state call: 100 µs to 30 s (the default
// process timeout) in 1-2.5-5 steps. Neighbours differ by 2 to 2.5 times,
// which bounds how far histogram_quantile's interpolation inside a bucket
// can stray, and round bounds let an alert rule count "slower than 250 ms"
// from one bucket.
var durationBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// latencyBuckets are the upper bounds, in seconds, of the end-to-end
// latency histogram: 1 ms (a lightly loaded worker on a local broker) to
// 60 s (a worker working off a backlog; older still is +Inf), in the same
// round 1-2.5-5 steps, with 30 s between 10 s and 60 s.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60}

// metrics are the worker's Prometheus series, all labelled with the worker.
type metrics struct {
	reg            *prometheus.Registry
	consumed       *prometheus.CounterVec        // by input topic
	consumedBy     map[string]prometheus.Counter // consumed, bound once per input topic
	joined         prometheus.Counter
	emitted        prometheus.Counter
	filtered       prometheus.Counter
	duplicates     prometheus.Counter
	expired        prometheus.Counter
	retries        prometheus.Counter
	deadLettered   *prometheus.CounterVec
	processSeconds prometheus.Histogram
	redisSeconds   prometheus.Histogram
	latency        prometheus.Histogram // bound once: observed per acknowledged output record
	pending        prometheus.Gauge
	lag            *prometheus.GaugeVec
	byClass        map[string]prometheus.Counter // deadLettered, bound once per class
}

// countConsumed counts a decided batch's messages against their topics,
// one Add per run of messages from the same topic (a fetch returns them
// in runs). Safe for concurrent use: consumedBy is written only by
// newMetrics.
func (m *metrics) countConsumed(msgs []kafka.Message) {
	for i := 0; i < len(msgs); {
		topic, j := msgs[i].Topic, i+1
		for j < len(msgs) && msgs[j].Topic == topic {
			j++
		}
		c, ok := m.consumedBy[topic]
		if !ok { // not an input topic of the config: cannot happen, but is counted
			c = m.consumed.WithLabelValues(topic)
		}
		c.Add(float64(j - i))
		i = j
	}
}

// deadLetteredBy is the dead-letter counter of class, bound in advance for
// every class the runtime writes. Safe for concurrent use: byClass is
// written only by newMetrics.
func (m *metrics) deadLetteredBy(class string) prometheus.Counter {
	if c, ok := m.byClass[class]; ok {
		return c
	}
	return m.deadLettered.WithLabelValues(class)
}

func newMetrics(w *Worker) *metrics {
	reg := prometheus.NewRegistry()
	labels := prometheus.Labels{"worker": w.cfg.ConsumerName}
	f := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "tributary_" + name, Help: help, ConstLabels: labels})
		reg.MustRegister(c)
		return c
	}
	m := &metrics{
		reg:        reg,
		joined:     f("joined_total", "Aggregates completed by the join."),
		emitted:    f("emitted_total", "Records produced to the output topics."),
		filtered:   f("filtered_total", "Aggregates for which the function returned nothing."),
		duplicates: f("duplicates_total", "Fragments of ids already completed, dropped."),
		expired:    f("expired_total", "Incomplete aggregates expired after the join timeout."),
		retries:    f("process_retries_total", "Retries of failed function calls."),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_dead_lettered_total",
			Help: "Records sent to the dead-letter topic, by error class.", ConstLabels: labels}, []string{"class"}),
		processSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tributary_process_seconds",
			Help: "Duration of one function call.", ConstLabels: labels, Buckets: durationBuckets}),
		redisSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tributary_redis_seconds",
			Help: "Duration of one pipelined join-state call (a whole batch).", ConstLabels: labels, Buckets: durationBuckets}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tributary_latency_seconds",
			Help: "From the Kafka timestamp of the input record that completed an aggregate (the record itself for " +
				"one input topic; for a join the fragment consumed last, which completed it and is normally the newest) " +
				"to the broker's acknowledgement of each output record. Filtered aggregates, dead letters, expiries " +
				"and re-emitted reclaimed joins are not observed.",
			ConstLabels: labels, Buckets: latencyBuckets}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tributary_pending_aggregates",
			Help: "Incomplete aggregates in the join state.", ConstLabels: labels}),
	}
	m.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tributary_consumer_lag",
		Help: "Records of the input partitions not yet committed by the worker's group.", ConstLabels: labels},
		[]string{"topic", "partition"})
	m.consumed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_consumed_total",
		Help: "Messages consumed, by input topic.", ConstLabels: labels}, []string{"topic"})
	m.consumedBy = map[string]prometheus.Counter{}
	for _, t := range w.cfg.TopicsInput {
		m.consumedBy[t] = m.consumed.WithLabelValues(t)
	}
	m.byClass = map[string]prometheus.Counter{}
	for _, c := range []string{ClassNotJSON, ClassMissingKey, ClassBadKey, ClassTooLarge, ClassProcess,
		ClassRejected, ClassPanic, ClassBadOutput, ClassExpired} {
		m.byClass[c] = m.deadLettered.WithLabelValues(c)
	}
	// The consume loop's last turn, the value /healthz judges: read at
	// scrape time, so the loop pays nothing for it.
	lastLoop := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tributary_last_loop_timestamp_seconds",
		Help: "Unix time of the consume loop's last turn (0 before the worker runs); " +
			"time() minus it is how long an instance has been stuck.", ConstLabels: labels},
		func() float64 { return float64(w.lastLoop.Load()) / 1e9 })
	reg.MustRegister(m.consumed, m.deadLettered, m.processSeconds, m.redisSeconds, m.latency, lastLoop, m.pending, m.lag,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics (Prometheus text format), /healthz (200 while
// the consume loop turns, 503 when it has been stuck for a minute) and
// Go's profiles under /debug/pprof/.
func (w *Worker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(w.m.reg, promhttp.HandlerOpts{}))
	// Go's profiler, for an operator asking where a running worker spends
	// its time (go tool pprof http://<addr>/debug/pprof/profile).
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, _ *http.Request) {
		age := time.Since(time.Unix(0, w.lastLoop.Load()))
		rw.Header().Set("Content-Type", "application/json")
		status := http.StatusOK
		if age > time.Minute {
			status = http.StatusServiceUnavailable
		}
		rw.WriteHeader(status)
		_ = json.NewEncoder(rw).Encode(map[string]any{"worker": w.cfg.ConsumerName, "instance": w.cfg.Instance,
			"ok": status == http.StatusOK, "last_loop_seconds_ago": age.Seconds()})
	})
	return mux
}

// ServeHTTP listens on addr until ctx ends. It returns the bound address
// (useful with port 0) once listening.
func (w *Worker) ServeHTTP(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	return ln.Addr().String(), nil
}

// HeartbeatKey is the Redis hash in which an instance reports itself; it
// expires three heartbeat periods after the last refresh.
func HeartbeatKey(worker, instance string) string {
	return "tributary:heartbeat:{" + worker + "}:" + instance
}

func (w *Worker) heartbeats(ctx context.Context) {
	started := time.Now().UTC().Format(time.RFC3339)
	host, _ := os.Hostname()
	t := time.NewTicker(w.cfg.HeartbeatPeriod)
	defer t.Stop()
	for {
		w.beat(ctx, started, host)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *Worker) beat(ctx context.Context, started, host string) {
	key := HeartbeatKey(w.cfg.ConsumerName, w.cfg.Instance)
	lastErr := ""
	if p := w.lastError.Load(); p != nil {
		lastErr = *p
	}
	fields := map[string]any{
		"instance": w.cfg.Instance, "host": host, "version": w.cfg.Version,
		"config_version": w.cfg.ConfigVersion, "started_at": started,
		"updated_at": time.Now().UTC().Format(time.RFC3339Nano),
		"consumed":   counterVecSum(w.m.consumed), "emitted": counterValue(w.m.emitted),
		"joined": counterValue(w.m.joined), "expired": counterValue(w.m.expired),
		"dead_lettered": counterVecSum(w.m.deadLettered), "last_error": lastErr,
	}
	pipe := w.rdb.Pipeline()
	pipe.HSet(ctx, key, fields)
	pipe.Expire(ctx, key, 3*w.cfg.HeartbeatPeriod)
	if _, err := pipe.Exec(ctx); err != nil && ctx.Err() == nil {
		w.log.Warn("heartbeat failed", "err", err)
	}
}

func (w *Worker) removeHeartbeat(ctx context.Context) {
	_ = w.rdb.Del(ctx, HeartbeatKey(w.cfg.ConsumerName, w.cfg.Instance)).Err()
}

// counterVecSum adds up every series of a counter vector.
func counterVecSum(v *prometheus.CounterVec) float64 {
	ch := make(chan prometheus.Metric)
	go func() { v.Collect(ch); close(ch) }()
	sum := 0.0
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) == nil {
			sum += d.GetCounter().GetValue()
		}
	}
	return sum
}

// counterValue reads a counter's current value.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// lagPeriod is how often the group's lag is read from the brokers.
const lagPeriod = 10 * time.Second

// watchLag keeps the consumer-lag gauge current until ctx ends.
func (w *Worker) watchLag(ctx context.Context) {
	client := &kafka.Client{Addr: kafka.TCP(w.cfg.Brokers...), Timeout: 5 * time.Second}
	t := time.NewTicker(lagPeriod)
	defer t.Stop()
	for {
		lags, err := kafkax.GroupLag(ctx, client, w.cfg.ConsumerName, w.cfg.TopicsInput)
		if err == nil {
			for _, l := range lags {
				w.m.lag.WithLabelValues(l.Topic, strconv.Itoa(l.Partition)).Set(float64(l.Lag))
			}
		} else if ctx.Err() == nil {
			w.log.Warn("read consumer lag", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

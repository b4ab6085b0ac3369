package series

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/tributary-etl/tributary/apiserver"
)

// Metric names one of a worker's series.
type Metric string

// The series a worker has.
const (
	MetricLag         Metric = "lag"
	MetricRate        Metric = "rate"
	MetricDeadLetters Metric = "dead_letters"
	MetricExpired     Metric = "expired"
	MetricLatencyP99  Metric = "latency_p99"
)

// Metrics lists every Metric, in the order the API documents them.
var Metrics = []Metric{MetricLag, MetricRate, MetricDeadLetters, MetricExpired, MetricLatencyP99}

// Bounds of a Request.
const (
	DefaultRange     = time.Hour
	MinRange         = time.Minute
	MaxRange         = 7 * 24 * time.Hour
	MinStep          = 5 * time.Second
	MaxPoints        = 11000 // Prometheus refuses a range query with more points per series
	TargetPoints     = 120   // points the default step gives
	MinRateWindow    = time.Minute
	MinLatencyWindow = 5 * time.Minute
)

// Request is one worker's series over a range ending now.
type Request struct {
	Worker string // the worker's consumer name
	Metric Metric
	Range  time.Duration
	Step   time.Duration // whole seconds
}

// ParseRequest reads the query parameters metric, range and step ("" for
// the default; range and step as Prometheus durations such as 90s, 2h or
// 7d, or plain seconds). A bad one is a CodeBadRequest error naming it.
func ParseRequest(worker, metric, rng, step string) (Request, error) {
	r := Request{Worker: worker, Metric: Metric(metric), Range: DefaultRange}
	if _, ok := units[r.Metric]; !ok {
		return r, apiserver.FieldErrorf(apiserver.CodeBadRequest, "metric", "must be one of %v", Metrics)
	}
	if rng != "" {
		d, err := parseDuration(rng)
		if err != nil || d < MinRange || d > MaxRange {
			return r, apiserver.FieldErrorf(apiserver.CodeBadRequest, "range", "must be a duration from 1m to 7d, such as 15m, 6h or 2d")
		}
		r.Range = d
	}
	if step == "" {
		r.Step = max(MinStep, (r.Range+TargetPoints*time.Second-1)/TargetPoints/time.Second*time.Second)
		return r, nil
	}
	d, err := parseDuration(step)
	least := max(MinStep, (r.Range+MaxPoints*time.Second-1)/MaxPoints/time.Second*time.Second)
	switch {
	case err != nil || d%time.Second != 0:
		return r, apiserver.FieldErrorf(apiserver.CodeBadRequest, "step", "must be whole seconds, such as 30s or 5m")
	case d < least:
		return r, apiserver.FieldErrorf(apiserver.CodeBadRequest, "step",
			"must be at least %s over a range of %s: at least %s, and at most %d points", least, r.Range, MinStep, MaxPoints)
	case d > r.Range:
		return r, apiserver.FieldErrorf(apiserver.CodeBadRequest, "step", "must not exceed the range (%s)", r.Range)
	}
	r.Step = d
	return r, nil
}

// parseDuration reads a Prometheus duration ("1h30m", "7d") or seconds.
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > int64(MaxRange/time.Second)*10 {
			return 0, fmt.Errorf("%d seconds is out of range", n)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}

// units says what each metric counts.
var units = map[Metric]string{
	MetricLag: "records", MetricRate: "records/s", MetricDeadLetters: "records/s",
	MetricExpired: "records/s", MetricLatencyP99: "seconds",
}

// Unit is what the values of r's series count.
func (r Request) Unit() string { return units[r.Metric] }

// Query is the PromQL of r (see the package documentation).
func (r Request) Query() string {
	sel := "{worker=" + strconv.Quote(r.Worker) + "}"
	win := "[" + promDuration(max(MinRateWindow, 4*r.Step)) + "]"
	switch r.Metric {
	case MetricLag:
		return "sum by (worker) (max by (worker, topic, partition) (tributary_consumer_lag" + sel + "))"
	case MetricRate:
		return directions(sel, win)
	case MetricDeadLetters:
		return "sum(rate(tributary_dead_lettered_total" + sel + win + "))"
	case MetricExpired:
		return "sum(rate(tributary_expired_total" + sel + win + "))"
	case MetricLatencyP99:
		win = "[" + promDuration(max(MinLatencyWindow, 4*r.Step)) + "]"
		return "histogram_quantile(0.99, sum by (le) (rate(tributary_latency_seconds_bucket" + sel + win + ")))"
	}
	return ""
}

// directions is the records in and out per second of the worker sel
// selects, as two series labelled direction="in" and "out".
func directions(sel, win string) string {
	return `label_replace(sum(rate(tributary_consumed_total` + sel + win + `)), "direction", "in", "", "")` +
		` or label_replace(sum(rate(tributary_emitted_total` + sel + win + `)), "direction", "out", "", "")`
}

// promDuration writes d in whole seconds, as PromQL takes it ("120s").
func promDuration(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) + "s" }

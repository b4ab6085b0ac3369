// Package series reads a worker's history from Prometheus' HTTP API
// (through client_golang's api/prometheus/v1): the series behind
// GET /api/v1/workers/{id}/series and the rates behind a worker's
// throughput.
//
// # What a worker exports
//
// Every instance of a worker serves the runtime's metrics
// (shared/worker/observe.go), each with the const label
// worker="<consumer name>"; Prometheus adds its target labels (function,
// version, alloc, instance) when it scrapes them through Nomad's service
// discovery. The queries select by the worker label only, so they span
// every instance, version and allocation the worker had over the range.
//
// # Queries
//
//   - lag (records): sum by (worker) (max by (worker, topic, partition)
//     (tributary_consumer_lag{worker="W"})). Each instance reports the
//     group's lag on every partition of every input (kafkax.GroupLag reads
//     them all, not only the instance's assignment), so N instances give N
//     copies of each partition's lag, read up to the runtime's lag period
//     apart. Summing them would count the lag N times; max per partition
//     keeps one copy (the worst of the latest readings), then the sum adds
//     the partitions.
//   - rate (records/s): sum(rate(tributary_consumed_total{worker="W"}[w]))
//     labelled direction="in", and the same of tributary_emitted_total
//     labelled direction="out", in one query.
//   - dead_letters, expired (records/s): sum(rate(...[w])) of
//     tributary_dead_lettered_total (every class) and
//     tributary_expired_total.
//   - latency_p99 (seconds): histogram_quantile(0.99, sum by (le)
//     (rate(tributary_latency_seconds_bucket{worker="W"}[w]))), produced to
//     emitted.
//
// The rate window w is max(MinRateWindow, 4×step) (MinLatencyWindow for
// the quantile): rate() needs at least two samples in its window, which
// a minute gives at scrape intervals up to 30 s, and a window narrower
// than the step would skip the samples between two points, so a spike
// could fall between points and never be drawn; 4×step also smooths a
// long range's points into a readable line.
//
// # Range and step
//
// range is 1m to 7d (default 1h); step defaults to range/120 rounded up
// to whole seconds, at least MinStep, and may give at most MaxPoints
// points (Prometheus' own limit). The range ends at now rounded down to
// a multiple of the step, so that two requests in one step answer the
// same points. Points are [unix seconds, value]; samples that are not
// finite numbers (a quantile over no data is NaN) are left out, which
// leaves a gap.
//
// # Failures
//
// A Prometheus that cannot be reached, times out (Timeout), or answers
// 5xx gives an error wrapping ErrUnavailable; the worker name is escaped
// as a PromQL string, so no name can change a query.
package series

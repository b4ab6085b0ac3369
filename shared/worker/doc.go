// Package worker is Tributary's function runtime: the loop that consumes a
// worker's input topics through one consumer group, joins fragments that
// share an id (state in Redis, see package join), calls the function once per
// complete aggregate, and publishes the result to every output topic.
//
// The loop is a pipeline (pipeline.go): the next batch is fetched and
// decided in Redis while earlier ones are processed and written, with at
// most MaxInFlight batches between Redis and Kafka's last acknowledgement.
//
// Delivery is at-least-once with duplicates suppressed in normal operation:
// an offset is committed only once every record at or below it on its
// partition is in Redis and everything the batches up to it produced is
// acknowledged by Kafka (RequireAll); commits are asynchronous and
// coalesced (commit.go). Completed aggregates are confirmed in Redis with
// the next call after their outputs are acknowledged. A process killed at
// any moment re-reads what it had not committed; aggregates it had claimed
// but not confirmed are emitted again by whichever instance sweeps them,
// and so are expiries it had claimed but not published.
//
// Bad input never stops a worker: a message that is not a JSON object, lacks
// the join key, has a key of the wrong type or is too large, and an aggregate
// whose function call fails after its retries (or panics), goes to the
// dead-letter topic with headers naming the worker, the source and the cause.
//
// Every instance serves Prometheus metrics and /healthz (observe.go; each
// series is described in docs/observability.md). tributary_latency_seconds
// runs from the Kafka timestamp of the input record that completed an
// aggregate to the broker's acknowledgement of each of its output records.
package worker

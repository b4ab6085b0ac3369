// Package worker is Tributary's function runtime: the loop that consumes a
// worker's input topics through one consumer group, joins fragments that
// share an id (state in Redis, see package join), calls the function once per
// complete aggregate, and publishes the result to every output topic.
//
// Delivery is at-least-once with duplicates suppressed in normal operation:
// the offsets of a batch are committed only after its fragments are in Redis,
// the outputs of the aggregates it completed are acknowledged by Kafka
// (RequireAll) and those aggregates are confirmed in Redis. A process killed
// at any moment re-reads its uncommitted batch; aggregates it had claimed but
// not confirmed are emitted again by whichever instance sweeps them.
//
// Bad input never stops a worker: a message that is not a JSON object, lacks
// the join key, has a key of the wrong type or is too large, and an aggregate
// whose function call fails after its retries (or panics), goes to the
// dead-letter topic with headers naming the worker, the source and the cause.
package worker

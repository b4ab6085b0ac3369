// Package monitor reads how a worker is doing from what its instances
// publish in Redis (heartbeats, counters, last errors, pending joins).
// Kafka's side of the picture (lag, end offsets, groups) is kafkaadmin's,
// throughput is package throughput's. It holds no state; every read is
// bounded by the caller's context.
package monitor

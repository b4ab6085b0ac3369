// Package monitor reads how a worker is doing from what its instances
// publish in Redis (heartbeats, counters, last errors, pending joins) and
// keeps the throughput samples of Rates. Kafka's side of the picture (lag,
// end offsets, groups) is kafkaadmin's. It holds no state but Rates'
// samples; every read is bounded by the caller's context.
package monitor

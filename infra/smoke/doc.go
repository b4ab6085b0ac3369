// Package smoke holds the smoke tests of the local stack (infra/stack.sh):
// each test makes one real round trip through one service — a MySQL query, a
// Redis round trip, Kafka produce and consume through a consumer group, a
// Nomad job run to completion with raw_exec, and a span sent over OTLP and
// read back from Jaeger's query API.
//
// It also checks the stack's own observability files against the binaries:
// the Grafana dashboard (infra/grafana) and docs/observability.md may name
// only series and labels that a running worker or the API server exports.
package smoke

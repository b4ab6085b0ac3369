package worker

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkRuntime measures, in one run on the local stack (`make
// bench-runtime`), the worker runtime against a reference loop built on the
// same parts, and prints one table. Every scenario runs its
// processes from this test binary in child mode (see TestMain) against the
// stack's broker and Redis, on a backlog of ~200-byte JSON messages produced
// before they start, over topics of 6 partitions:
//
//   - reference: the bare loop of referenceMain, the ceiling of anything
//     built on kafka-go and Redis here;
//   - passthrough: the worker on one input topic (no join state);
//   - join-2, join-3: the worker joining 2 or 3 topics, with 1 instance, and
//     join-2 with 2 and 3 instances in one consumer group.
//
// It drives the worker only through its flags and reads it only through
// /metrics (consumed, emitted, pending aggregates) and /proc, so that it
// runs unchanged on a rewritten runtime. Per scenario it reports:
//
//   - frag/s, joined/s: input messages consumed and outputs emitted per
//     second while the consumed counters go from 10% to 90% of the backlog;
//     ×ref: frag/s over the reference's;
//   - p50/p99: latency from an id's last fragment acknowledged by the broker
//     to its output read, at a steady half of the scenario's own frag/s;
//   - rss: peak resident memory, the largest over the instances;
//   - redis µs/frag: Redis CPU (INFO used_cpu_sys + used_cpu_user) over the
//     drain's span per fragment consumed in it;
//   - redis B/agg: Redis memory per pending aggregate (joins only);
//   - cpu s/1k: CPU seconds per 1,000 outputs over the span, of the worker
//     processes (summed) and of Redis.
//
// Below the table it checks the runtime's speed targets, PASS or MISS. Speed is
// reported, never asserted: the benchmark fails only on errors (an output
// missing, a process failing, a timeout). The figures are noisy: the two
// cores are shared by the processes, the broker, Redis and this binary's
// producer and reader, and Redis may be shared with other tests running at
// the same time, which moves its CPU and memory figures. With
// TRIBUTARY_BENCH_PROFILE_DIR set, every child writes a CPU profile there,
// <scenario>-<instance>.pprof, over its whole life.
func BenchmarkRuntime(b *testing.B) {
	scenarios := []benchScenario{
		// The reference's backlog is larger so that its span lasts seconds.
		{name: "reference", label: "reference", topics: 1, instances: 1, fragments: 600000, reference: true},
		{name: "passthrough", label: "passthrough", topics: 1, instances: 1, fragments: 180000},
		{name: "join-2x1", label: "join-2 ×1", topics: 2, instances: 1, fragments: 180000},
		{name: "join-3x1", label: "join-3 ×1", topics: 3, instances: 1, fragments: 180000},
		{name: "join-2x2", label: "join-2 ×2", topics: 2, instances: 2, fragments: 180000},
		{name: "join-2x3", label: "join-2 ×3", topics: 2, instances: 3, fragments: 180000},
	}
	start := time.Now()
	rows := make([]benchRow, len(scenarios))
	for i, s := range scenarios {
		ok := b.Run(s.name, func(b *testing.B) {
			r := runBenchScenario(b, s)
			r.ratio = 1
			if !s.reference {
				r.ratio = r.fragRate / rows[0].fragRate
			}
			rows[i] = r
			b.ReportMetric(r.fragRate, "frag/s")
			b.ReportMetric(r.joinRate, "joined/s")
			b.ReportMetric(r.ratio, "x-ref")
			b.ReportMetric(r.p50, "p50-ms")
			b.ReportMetric(r.p99, "p99-ms")
			b.ReportMetric(r.redisUsPerFrag, "redis-us/frag")
			b.ReportMetric(r.workerCPUPer1k, "worker-cpu-s/1k")
		})
		if !ok {
			b.FailNow()
		}
		if rows[i].name == "" {
			b.Skipf("%s skipped: the stack's broker or Redis is not running", s.name)
		}
	}
	printBenchTable(os.Stdout, rows)
	fmt.Printf("\none run of %s\n\n", time.Since(start).Round(time.Second))
}

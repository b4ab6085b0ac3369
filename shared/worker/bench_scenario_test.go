package worker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// benchScenario is one row of BenchmarkRuntime's table.
type benchScenario struct {
	name      string // of the sub-benchmark and the profiles
	label     string // in the table
	topics    int    // input topics: 1 passes through, more join
	instances int    // worker processes in one consumer group
	fragments int    // the backlog, in input messages
	reference bool   // the reference loop instead of the worker
}

// benchRow is what one scenario measured; rates are per second over the
// span, CPU and Redis figures over the same span.
type benchRow struct {
	benchScenario
	span                          float64 // seconds from 10% to 90% of the backlog consumed
	fragRate, joinRate            float64 // input messages consumed, outputs emitted
	ratio                         float64 // fragRate / the reference's
	fed, p50, p99                 float64 // the latency run: fragments/s fed; ms
	rssMB                         float64 // peak over the instances
	redisUsPerFrag                float64
	redisBytesPerAgg              float64 // joins only, else 0
	workerCPUPer1k, redisCPUPer1k float64 // CPU seconds per 1,000 outputs
}

// benchMark is the counters and CPU times at one moment of a drain.
type benchMark struct {
	at                  time.Time
	consumed, emitted   float64
	workerCPU, redisCPU float64
}

// runBenchScenario produces the backlog, starts the scenario's processes on
// it, measures the drain, the latency at half the drain's rate and, for
// joins, Redis memory per pending aggregate, then stops them with SIGTERM.
func runBenchScenario(b *testing.B, s benchScenario) benchRow {
	e := newEnv(b)
	var in []string
	for i := range s.topics {
		in = append(in, e.topic(fmt.Sprintf("in%d", i)))
	}
	out := e.topic("out")
	e.createTopics(6, append(in, out)...)
	deleteTopicsAtEnd(b, e, append(in, out)...)

	ids := s.fragments / s.topics
	start := time.Now()
	produceBacklog(e, in, ids)
	fmt.Printf("  %s: %d fragments produced in %.1f s; draining\n", s.label, ids*s.topics, time.Since(start).Seconds())

	var procs benchProcs
	refKeys := "trib:{" + e.name + "-ref}:" // under newEnv's clean-up pattern
	for i := range s.instances {
		name := fmt.Sprintf("%s-%d", s.name, i)
		if s.reference {
			procs = append(procs, startBenchProc(b, "reference", name, "-group", e.name+"-ref",
				"-topic-input", in[0], "-topic-output", out, "-brokers", strings.Join(e.brokers, ","),
				"-redis", e.rdb.Options().Addr, "-key-prefix", refKeys))
			continue
		}
		procs = append(procs, startBenchProc(b, "1", name, "-worker", e.name+"-w", "-instance", name,
			"-topics-input", strings.Join(in, ","), "-topics-output", out, "-brokers", strings.Join(e.brokers, ","),
			// A join timeout longer than the run: pending aggregates stay pending.
			"-redis", e.rdb.Options().Addr, "-session-timeout", "6s", "-timeout", "10m"))
	}

	lo, hi := measureDrain(b, e, procs, float64(ids*s.topics))
	row := benchRow{benchScenario: s, span: hi.at.Sub(lo.at).Seconds()}
	frags, outs := hi.consumed-lo.consumed, hi.emitted-lo.emitted
	row.fragRate, row.joinRate = frags/row.span, outs/row.span
	row.redisUsPerFrag = (hi.redisCPU - lo.redisCPU) * 1e6 / frags
	row.workerCPUPer1k = (hi.workerCPU - lo.workerCPU) * 1000 / outs
	row.redisCPUPer1k = (hi.redisCPU - lo.redisCPU) * 1000 / outs
	fmt.Printf("  %s: %.0f fragments/s from %.0f to %.0f consumed (%.1f s); latency at half that\n",
		s.label, row.fragRate, lo.consumed, hi.consumed, row.span)
	waitFor(b, 2*time.Minute, "the whole backlog consumed", func() bool {
		return procs.sum("tributary_consumed_total") >= float64(ids*s.topics)
	})

	lat := benchLatency(b, e, in, out, ids, row.fragRate/2)
	row.fed, row.p50, row.p99 = lat.fed, lat.p50, lat.p99
	if s.topics > 1 {
		row.redisBytesPerAgg = benchRedisPerAggregate(b, e, in[0], procs)
	}
	row.rssMB = procs.peakRSS(b)
	procs.stop(b)
	if s.reference {
		deleteReferenceKeys(b, e, refKeys, ids+lat.ids)
	}
	return row
}

// measureDrain watches the backlog drain and marks the moments the consumed
// counters (summed over the instances) cross 10% and 90% of it. With several
// instances the span starts only once every one has consumed: they join the
// group one after another and kafka-go stops the whole group at each join,
// so until then the drain is not the group's.
func measureDrain(b *testing.B, e *env, procs benchProcs, total float64) (lo, hi benchMark) {
	b.Helper()
	mark := func(consumed float64) benchMark {
		return benchMark{at: time.Now(), consumed: consumed, emitted: procs.sum("tributary_emitted_total"),
			workerCPU: procs.cpuSeconds(b), redisCPU: redisCPUSeconds(b, e.rdb)}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		procs.alive(b)
		if time.Now().After(deadline) {
			b.Fatalf("backlog of %.0f not consumed within 5 minutes (consumed %.0f)", total, procs.sum("tributary_consumed_total"))
		}
		sum, all := 0.0, true
		for _, p := range procs {
			c := metric(p.addr, "tributary_consumed_total")
			if c < 0 {
				sum = -1
				break
			}
			sum += c
			all = all && c > 0
		}
		switch {
		case sum < 0: // a process not serving /metrics yet
		case lo.at.IsZero() && all && sum >= total/10:
			lo = mark(sum)
		case lo.at.IsZero() && sum >= total*9/10:
			b.Fatalf("invalid run: %.0f of %.0f consumed before every instance was", sum, total)
		case !lo.at.IsZero() && sum >= total*9/10:
			return lo, mark(sum)
		}
		time.Sleep(50 * time.Millisecond) // sampling interval: 1% of a span of 5 s, little load on /metrics
	}
}

// benchPad makes benchFragment's messages 200 bytes with a 6-digit id.
var benchPad = strings.Repeat("x", 165)

// benchFragment is the input message of id on the t-th input topic, keyed
// by id (the reference loop, which decodes nothing, keys its output by it).
func benchFragment(topic, id string, t int) kafka.Message {
	return kafka.Message{Topic: topic, Key: []byte(id),
		Value: []byte(`{"id":"` + id + `","content":{"t` + strconv.Itoa(t) + `":"` + benchPad + `"}}`)}
}

// produceBacklog writes the fragments of ids 0..ids-1 on every input topic,
// an id's fragments next to each other, in slices so that the backlog is
// never all in memory at once.
func produceBacklog(e *env, in []string, ids int) {
	const slice = 50000
	for first := 0; first < ids; first += slice {
		var msgs []kafka.Message
		for id := first; id < min(first+slice, ids); id++ {
			for t := range in {
				msgs = append(msgs, benchFragment(in[t], strconv.Itoa(id), t))
			}
		}
		e.produce(msgs, false)
	}
}

// deleteTopicsAtEnd deletes the scenario's topics when it ends: the stack's
// broker keeps every record on disk, and a run writes millions.
func deleteTopicsAtEnd(b *testing.B, e *env, topics ...string) {
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := &kafka.Client{Addr: kafka.TCP(e.brokers...)}
		if _, err := c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics}); err != nil {
			b.Logf("delete topics %v: %v", topics, err)
		}
	})
}

package worker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

// benchRedisPerAggregate leaves 5,000 aggregates pending (one fragment each,
// on the first input topic) and divides Redis's memory growth by their
// number. The pending gauge is the whole worker's count, refreshed by each
// instance's sweep: it must first read 0 (every id before has joined, and
// the value is not a stale one from the drain), then show the new ones.
func benchRedisPerAggregate(b *testing.B, e *env, in0 string, procs benchProcs) float64 {
	b.Helper()
	const n = 5000
	const pending = "tributary_pending_aggregates"
	waitFor(b, time.Minute, "no aggregate pending", func() bool { return procs.maxGauge(pending) == 0 })
	before := redisInfo(b, e.rdb, "memory", "used_memory")
	consumed := procs.sum("tributary_consumed_total")
	msgs := make([]kafka.Message, 0, n)
	for i := range n {
		msgs = append(msgs, benchFragment(in0, fmt.Sprintf("pending-%d", i), 0))
	}
	e.produce(msgs, false)
	waitFor(b, time.Minute, "the pending fragments consumed", func() bool {
		return procs.sum("tributary_consumed_total") >= consumed+n
	})
	after := redisInfo(b, e.rdb, "memory", "used_memory")
	waitFor(b, time.Minute, fmt.Sprintf("%d aggregates reported pending", n), func() bool { return procs.maxGauge(pending) >= n })
	return (after - before) / n
}

// deleteReferenceKeys deletes the reference loop's keys, prefix + id for
// ids 0..ids-1, by name: newEnv's SCAN may not get through hundreds of
// thousands of them in its time, and keys left to expire would cost Redis
// CPU in the next scenario's span.
func deleteReferenceKeys(b *testing.B, e *env, prefix string, ids int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const slice = 10000
	for first := 0; first < ids; first += slice {
		keys := make([]string, 0, slice)
		for id := first; id < min(first+slice, ids); id++ {
			keys = append(keys, prefix+strconv.Itoa(id))
		}
		if err := e.rdb.Unlink(ctx, keys...).Err(); err != nil {
			b.Fatalf("delete the reference's keys: %v", err)
		}
	}
}

// redisCPUSeconds is the CPU time Redis has used, system plus user.
func redisCPUSeconds(b *testing.B, rdb *redis.Client) float64 {
	return redisInfo(b, rdb, "cpu", "used_cpu_sys", "used_cpu_user")
}

// redisInfo is the sum of numeric fields of one section of INFO, read in
// one call.
func redisInfo(b *testing.B, rdb *redis.Client, section string, fields ...string) float64 {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := rdb.Info(ctx, section).Result()
	if err != nil {
		b.Fatalf("INFO %s: %v", section, err)
	}
	sum := 0.0
	for _, field := range fields {
		found := false
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, field+":"); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatalf("INFO %s: %s: %v", section, field, err)
				}
				sum, found = sum+f, true
			}
		}
		if !found {
			b.Fatalf("no %s in INFO %s", field, section)
		}
	}
	return sum
}

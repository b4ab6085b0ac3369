package join

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// BenchmarkApply2Topics applies batches of 500 fragments, 250 ids over 2
// topics, each batch carrying the confirmations of the previous one, as the
// worker does: each batch creates 250 joins, completes them, and tombstones
// the 250 before. It reports fragments/s of one caller and the Redis CPU
// per fragment (INFO used_cpu_user + used_cpu_sys), which other clients of
// the same Redis inflate.
func BenchmarkApply2Topics(b *testing.B) {
	const perBatch = 500
	s, rdb := newTestStore(b, Options{Topics: []string{"a", "b"}})
	ctx := context.Background()
	value := []byte(`{"id":"00000000","content":{"text":"` + string(make200('x')) + `"}}`)
	batches := make([]Batch, b.N)
	for n := range batches {
		batch := Batch{Fragments: make([]Fragment, 0, perBatch)}
		for _, topic := range []string{"a", "b"} {
			for i := range perBatch / 2 {
				batch.Fragments = append(batch.Fragments, Fragment{ID: fmt.Sprintf("%d-%d", n, i), Topic: topic, Value: value,
					TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
			}
		}
		if n > 0 {
			for _, f := range batches[n-1].Fragments[:perBatch/2] {
				batch.Confirm = append(batch.Confirm, f.ID)
			}
		}
		batches[n] = batch
	}
	cpu0 := redisCPU(b, rdb)
	b.ResetTimer()
	start := time.Now()
	for n := range b.N {
		res, err := s.Apply(ctx, batches[n], t0)
		if err != nil {
			b.Fatal(err)
		}
		if res[perBatch-1].Status != Completed {
			b.Fatalf("last fragment: %v", res[perBatch-1].Status)
		}
	}
	b.ReportMetric(float64(b.N*perBatch)/time.Since(start).Seconds(), "fragments/s")
	b.ReportMetric((redisCPU(b, rdb)-cpu0)*1e6/float64(b.N*perBatch), "redis-µs/fragment")
}

// redisCPU is the Redis server's CPU seconds so far.
func redisCPU(b *testing.B, rdb *redis.Client) float64 {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for _, line := range strings.Split(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total
}

// BenchmarkMemoryPerPending measures the Redis memory of pending aggregates
// holding one ~250-byte fragment each: MEMORY USAGE of every aggregate hash
// plus the buckets' pending sets, divided by the number of aggregates.
func BenchmarkMemoryPerPending(b *testing.B) {
	const aggregates = 5000
	value := []byte(`{"id":"00000000","content":{"text":"` + string(make200('x')) + `"}}`)
	s, rdb := newTestStore(b, Options{Topics: []string{"a", "b"}})
	ctx := context.Background()
	frags := make([]Fragment, aggregates)
	for i := range frags {
		frags[i] = Fragment{ID: fmt.Sprintf("id-%08d", i), Topic: "a", Value: value,
			TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
	}
	for i := 0; i < len(frags); i += 500 {
		if _, err := s.Add(ctx, frags[i:i+500], t0); err != nil {
			b.Fatal(err)
		}
	}
	keys := scanKeys(b, rdb, s)
	b.ResetTimer()
	var total int64
	for range b.N {
		pipe := rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(keys))
		for i, k := range keys {
			cmds[i] = pipe.MemoryUsage(ctx, k, 0) // 0 samples: every element, exact
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		total = 0
		for _, c := range cmds {
			total += c.Val()
		}
	}
	b.ReportMetric(float64(total)/aggregates, "bytes/aggregate")
	b.ReportMetric(float64(len(value)+len(frags[0].TraceParent)), "payload-bytes")
}

func make200(c byte) []byte {
	b := make([]byte, 200)
	for i := range b {
		b[i] = c
	}
	return b
}

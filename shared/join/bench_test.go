package join

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// BenchmarkAdd2Topics adds batches of 500 fragments, 250 ids over 2 topics,
// so each batch creates 250 aggregates and completes them.
func BenchmarkAdd2Topics(b *testing.B) {
	const perBatch = 500
	s, _ := newTestStore(b, Options{Topics: []string{"a", "b"}})
	ctx := context.Background()
	value := []byte(`{"id":"00000000","content":{"text":"` + string(make200('x')) + `"}}`)
	batches := make([][]Fragment, b.N)
	for n := range batches {
		batch := make([]Fragment, 0, perBatch)
		for _, topic := range []string{"a", "b"} {
			for i := range perBatch / 2 {
				batch = append(batch, Fragment{ID: fmt.Sprintf("%d-%d", n, i), Topic: topic, Value: value,
					TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
			}
		}
		batches[n] = batch
	}
	b.ResetTimer()
	start := time.Now()
	for n := range b.N {
		res, err := s.Add(ctx, batches[n], t0)
		if err != nil {
			b.Fatal(err)
		}
		if res[perBatch-1].Status != Completed {
			b.Fatalf("last fragment: %v", res[perBatch-1].Status)
		}
	}
	b.ReportMetric(float64(b.N*perBatch)/time.Since(start).Seconds(), "fragments/s")
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

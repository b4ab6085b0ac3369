package worker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// benchLatencyRun is what benchLatency measured.
type benchLatencyRun struct {
	ids      int     // fed, from backlogIDs on
	fed      float64 // fragments/s really fed
	p50, p99 float64 // ms
}

// benchLatency first reads the output topic from its start until every
// backlog id (0..backlogIDs-1) is there: that is the drain's check, a
// missing output fails the benchmark. Then it feeds new ids at fragsPerSec
// for a few seconds and measures the time from an id's last fragment
// acknowledged by the broker to its output read here. The first second of
// the feed is left out: the processes had been idle.
func benchLatency(b *testing.B, e *env, in []string, out string, backlogIDs int, fragsPerSec float64) benchLatencyRun {
	b.Helper()
	const feedFor, warmUp = 6 * time.Second, time.Second
	idsPerSec := fragsPerSec / float64(len(in))
	maxIDs := int(idsPerSec*feedFor.Seconds()) + 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	epoch := time.Now()
	outs := readBenchOutputs(ctx, e, out, epoch, backlogIDs, maxIDs)
	waitFor(b, 2*time.Minute, fmt.Sprintf("all %d backlog ids on the output topic", backlogIDs),
		func() bool { return outs.count(&outs.nBacklog) == backlogIDs })

	// kafka-go allocates BatchSize messages for every batch: keep it near
	// what a tick sends to one partition.
	w := &kafka.Writer{Addr: kafka.TCP(e.brokers...), RequiredAcks: kafka.RequireAll, BatchSize: 256,
		BatchTimeout: time.Millisecond}
	defer w.Close()
	sentAt := make([]time.Duration, 0, maxIDs) // by id - backlogIDs: when its fragments were acknowledged
	start := time.Since(epoch)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	// Each tick sends the ids due by then, so a slow write is caught up on
	// the next tick and the rate holds.
	for now := start; now-start < feedFor; now = (<-tick.C).Sub(epoch) {
		next := backlogIDs + len(sentAt)
		due := min(int((now-start).Seconds()*idsPerSec), maxIDs) - len(sentAt)
		if due <= 0 {
			continue
		}
		msgs := make([]kafka.Message, 0, due*len(in))
		for id := next; id < next+due; id++ {
			for t := range in {
				msgs = append(msgs, benchFragment(in[t], strconv.Itoa(id), t))
			}
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			b.Fatalf("latency feed: %v", err)
		}
		acked := time.Since(epoch)
		for range due {
			sentAt = append(sentAt, acked)
		}
	}
	fed := float64(len(sentAt)*len(in)) / (time.Since(epoch) - start).Seconds()
	waitFor(b, time.Minute, fmt.Sprintf("the outputs of all %d ids fed", len(sentAt)),
		func() bool { return outs.count(&outs.nGot) == len(sentAt) })

	outs.mu.Lock()
	defer outs.mu.Unlock()
	var lat []float64
	for i, at := range sentAt {
		if at-start >= warmUp {
			lat = append(lat, float64((outs.got[i]-at).Microseconds())/1000)
		}
	}
	if len(lat) == 0 {
		b.Fatalf("latency run: no ids fed after the first second (%.0f fragments/s asked)", fragsPerSec)
	}
	slices.Sort(lat)
	return benchLatencyRun{ids: len(sentAt), fed: fed, p50: lat[len(lat)/2], p99: lat[len(lat)*99/100]}
}

// benchOutputs is what readBenchOutputs has read. Times are durations since
// an epoch, which hold no pointer: the garbage collector of this process,
// which shares the cores with what it measures, skips them.
type benchOutputs struct {
	mu       sync.Mutex
	backlog  []bool          // by id: its output was read
	got      []time.Duration // by id - len(backlog): when its output was first read
	nBacklog int             // true entries of backlog
	nGot     int             // non-zero entries of got
}

func (o *benchOutputs) count(n *int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return *n
}

// readBenchOutputs reads topic out from its start until ctx ends, keyed by
// decimal ids: 0..backlogIDs-1 are the backlog's, the next maxIDs the
// latency run's.
func readBenchOutputs(ctx context.Context, e *env, out string, epoch time.Time, backlogIDs, maxIDs int) *benchOutputs {
	o := &benchOutputs{backlog: make([]bool, backlogIDs), got: make([]time.Duration, maxIDs)}
	// MaxWait is long on purpose: kafka-go sends a fetch wait of 3/4 of it
	// and times the connection out at all of it, so with a short one a reply
	// a few ms late closes the connection, and the partition is read again
	// only after a 100 ms backoff (seen here with 10 ms: p99 of 125 ms with
	// nothing but this reader between producer and consumer). The broker
	// answers a waiting fetch as soon as data arrives, so a long wait costs
	// nothing.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: e.brokers, GroupID: out + "-lat", GroupTopics: []string{out},
		StartOffset: kafka.FirstOffset, MaxWait: 500 * time.Millisecond, SessionTimeout: 6 * time.Second})
	go func() {
		defer r.Close()
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				return // the run is over
			}
			now := time.Since(epoch)
			id, err := strconv.Atoi(string(m.Key))
			if err != nil {
				continue
			}
			o.mu.Lock()
			switch i := id - backlogIDs; {
			case id < backlogIDs && !o.backlog[id]:
				o.backlog[id] = true
				o.nBacklog++
			case i >= 0 && i < maxIDs && o.got[i] == 0: // a duplicate keeps the first time
				o.got[i] = now
				o.nGot++
			}
			o.mu.Unlock()
		}
	}()
	return o
}

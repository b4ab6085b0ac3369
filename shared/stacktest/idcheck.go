package stacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// IDCheck reads a topic from its first offset and counts, per id, the
// records that carry it: the checker of the fault scenarios, which compare
// every id produced with every id emitted.
//
// It keeps reading through broker restarts and rebalances: a read error is
// retried until the context ends. It commits nothing, so it never fails on
// an unreachable coordinator; a record it reads again after rejoining (same
// partition, offset already counted) is not counted twice, so every
// duplicate it reports is a record some worker really emitted twice.
type IDCheck struct {
	mu    sync.Mutex
	seen  map[string]int
	next  map[int]int64 // per partition, the offset after the last one counted
	times []time.Time   // each record's timestamp, set when it was produced
}

// CheckIDs starts an IDCheck on topic until ctx ends. With byValue the id is
// the "id" field of the record's JSON value (dead letters); otherwise it is
// the record key (a worker's output).
func CheckIDs(ctx context.Context, brokers []string, topic string, byValue bool) *IDCheck {
	c := &IDCheck{seen: map[string]int{}, next: map[int]int64{}}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: fmt.Sprintf("%s-idcheck-%d", topic, time.Now().UnixNano()),
		GroupTopics: []string{topic}, StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond,
		SessionTimeout: 6 * time.Second, WatchPartitionChanges: true})
	go func() {
		defer r.Close()
		for ctx.Err() == nil {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				time.Sleep(100 * time.Millisecond) // the broker is away; the reader reconnects
				continue
			}
			id := string(m.Key)
			if byValue {
				var v struct {
					ID string `json:"id"`
				}
				_ = json.Unmarshal(m.Value, &v) // a value without an id counts under ""
				id = v.ID
			}
			c.mu.Lock()
			if m.Offset < c.next[m.Partition] {
				c.mu.Unlock()
				continue // read again after a rejoin: counted already
			}
			c.next[m.Partition] = m.Offset + 1
			c.seen[id]++
			c.times = append(c.times, m.Time)
			c.mu.Unlock()
		}
	}()
	return c
}

// Count is how many records carry id.
func (c *IDCheck) Count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[id]
}

// Distinct is how many different ids have been seen.
func (c *IDCheck) Distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// FirstAfter is the production time of the first record produced after t,
// zero if there is none yet. Record timestamps are the producer's clock (the
// worker's, on this machine), so a slow checker does not inflate it.
func (c *IDCheck) FirstAfter(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first time.Time
	for _, at := range c.times {
		if at.After(t) && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first
}

// Times are the production times of every record counted, in the order
// they were read.
func (c *IDCheck) Times() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.times...)
}

// Tally compares ids with what has been seen: lost are ids never seen,
// duplicates the records beyond the first for each id.
func (c *IDCheck) Tally(ids []string) (lost, duplicates int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		switch n := c.seen[id]; {
		case n == 0:
			lost++
		case n > 1:
			duplicates += n - 1
		}
	}
	return lost, duplicates
}

// WaitFor waits until every id has been seen in one of the checks, or the
// timeout passes, then lingers a little to catch duplicates still in flight.
// It logs progress every 20 s.
func WaitFor(t testing.TB, timeout time.Duration, ids []string, checks ...*IDCheck) {
	t.Helper()
	start := time.Now()
	lastLog := start
	for {
		done := 0
		for _, id := range ids {
			for _, c := range checks {
				if c.Count(id) > 0 {
					done++
					break
				}
			}
		}
		if done == len(ids) || time.Since(start) > timeout {
			break
		}
		if time.Since(lastLog) > 20*time.Second {
			t.Logf("waiting: %d of %d ids out after %s", done, len(ids), time.Since(start).Round(time.Second))
			lastLog = time.Now()
		}
		time.Sleep(250 * time.Millisecond) // poll interval, bounded by timeout
	}
	time.Sleep(3 * time.Second)
}

// IDs is "id-0" … "id-<n-1>", the ids the fault scenarios produce.
func IDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("id-%d", i)
	}
	return out
}

// JoinFeed is the steady input of the fault scenarios: ids "id-0" … at a
// fixed rate, each id as a fragment on Left and one on Right, which a join
// worker merges into one output record.
type JoinFeed struct {
	Brokers     []string
	Left, Right string
	IDs         int // how many ids
	From        int // the first id is "id-<From>"
	Rate        int // ids per second
	// RightLag delays each id's right fragment by this many ids, so that
	// about RightLag joins are pending at any moment (0: both together).
	RightLag int
	// Tick, when set, is called after each batch with the time since the
	// feed started: the place to inject a fault.
	Tick func(elapsed time.Duration)
}

// Run produces the feed and returns when every fragment is acknowledged.
// Like any client, it retries a failed write while the broker is away,
// until ctx ends (then the test fails).
func (f JoinFeed) Run(t testing.TB, ctx context.Context) {
	t.Helper()
	// A batch is about 20 ms of the feed (at least 20 ids, at most 500):
	// each write waits for its acknowledgements, so a fixed small batch
	// would cap the rate at a few thousand ids a second.
	batch := min(max(f.Rate/50, 20), 500)
	w := &kafka.Writer{Addr: kafka.TCP(f.Brokers...), Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: 2 * time.Millisecond, BatchSize: 2 * batch, AllowAutoTopicCreation: true}
	defer w.Close()
	start := time.Now()
	for i := 0; i < f.IDs+f.RightLag; i += batch {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(f.Rate))))
		var msgs []kafka.Message
		for j := i; j < i+batch; j++ {
			if j < f.IDs {
				key := fmt.Sprintf("id-%d", f.From+j)
				msgs = append(msgs, kafka.Message{Topic: f.Left, Key: []byte(key), Value: fmt.Appendf(nil, `{"id":%q,"content":{"text":"left %d"}}`, key, j)})
			}
			if k := j - f.RightLag; k >= 0 && k < f.IDs {
				key := fmt.Sprintf("id-%d", f.From+k)
				msgs = append(msgs, kafka.Message{Topic: f.Right, Key: []byte(key), Value: fmt.Appendf(nil, `{"id":%q,"content":{"title":"right"}}`, key)})
			}
		}
		for err := w.WriteMessages(ctx, msgs...); err != nil; err = w.WriteMessages(ctx, msgs...) {
			if ctx.Err() != nil {
				t.Fatalf("produce the feed: %v", err)
			}
			time.Sleep(200 * time.Millisecond) // retry while the broker is away
		}
		if f.Tick != nil {
			f.Tick(time.Since(start))
		}
	}
}

// Consume reads topic from its start through a fresh consumer group until
// it has n records, or fails the test after timeout; with extra, it keeps
// reading for that long after n to catch records beyond n.
func Consume(t testing.TB, brokers []string, topic string, n int, timeout, extra time.Duration) []kafka.Message {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: topic + "-check-" + fmt.Sprint(time.Now().UnixNano()),
		GroupTopics: []string{topic}, StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond,
		SessionTimeout: 6 * time.Second})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []kafka.Message
	for len(out) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("consume %s: got %d of %d records: %v", topic, len(out), n, err)
		}
		out = append(out, m)
	}
	if extra > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), extra)
		defer cancel()
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				break
			}
			out = append(out, m)
		}
	}
	return out
}

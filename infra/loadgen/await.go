package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// awaiter reads a pipeline's output topic from its end (as it was before
// anything was produced) and notes when each of this run's documents comes
// out, to report end-to-end latencies.
type awaiter struct {
	prefix  string
	readers []*kafka.Reader
	mu      sync.Mutex
	sentAt  []time.Time // by document number
	outAt   map[int]time.Time
	arrived chan struct{}
}

func newAwaiter(ctx context.Context, brokers []string, topic, prefix string) (*awaiter, error) {
	conn, err := kafka.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		return nil, err
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		return nil, err
	}
	a := &awaiter{prefix: prefix, outAt: map[int]time.Time{}, arrived: make(chan struct{}, 1)}
	for _, p := range parts {
		// The broker answers a waiting fetch as soon as data arrives, so a
		// long wait costs nothing; a short one does: kafka-go drops the
		// connection when a reply is a few ms late and reads the partition
		// again only after a 100 ms backoff, which the latencies would show.
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p.ID, MaxWait: 500 * time.Millisecond})
		if err := r.SetOffset(kafka.LastOffset); err != nil {
			return nil, err
		}
		a.readers = append(a.readers, r)
		go a.read(ctx, r)
	}
	return a, nil
}

// sent records that the next n documents were written at t.
func (a *awaiter) sent(t time.Time, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range n {
		a.sentAt = append(a.sentAt, t)
	}
}

func (a *awaiter) read(ctx context.Context, r *kafka.Reader) {
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return
		}
		var doc struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(m.Value, &doc) != nil || !strings.HasPrefix(doc.ID, a.prefix) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(doc.ID, a.prefix))
		if err != nil {
			continue
		}
		a.mu.Lock()
		if _, dup := a.outAt[n]; !dup {
			a.outAt[n] = time.Now()
		}
		a.mu.Unlock()
		select {
		case a.arrived <- struct{}{}:
		default:
		}
	}
}

// wait blocks until all n documents came out, then prints the latencies.
func (a *awaiter) wait(ctx context.Context, n int, out io.Writer) error {
	for {
		a.mu.Lock()
		got := len(a.outAt)
		a.mu.Unlock()
		if got >= n {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d documents came out before the deadline", got, n)
		case <-a.arrived:
		case <-time.After(time.Second):
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	lat := make([]time.Duration, 0, n)
	for i, at := range a.outAt {
		if i < len(a.sentAt) {
			lat = append(lat, at.Sub(a.sentAt[i]))
		}
	}
	slices.Sort(lat)
	fmt.Fprintf(out, "all %d documents came out: latency p50 %s, p99 %s, max %s\n", n,
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	return nil
}

func (a *awaiter) close() {
	for _, r := range a.readers {
		r.Close()
	}
}

package worker

import (
	"context"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// tracker decides what may be committed. Batches are added in the order
// they were fetched and finish in any order; a partition's offset may be
// committed once every batch up to the one that holds it has finished, so
// nothing at or below a committed offset is still waiting for Redis or for
// Kafka's acknowledgement. Safe for concurrent use.
type tracker struct {
	mu       sync.Mutex
	queue    []*batch            // added, not yet released, in order
	finished map[*batch]bool     // finished, still behind an unfinished batch
	offsets  map[partition]int64 // released, not yet committed: the highest offset
	wake     chan struct{}       // signalled when offsets has something
	closed   bool
}

type partition struct {
	topic string
	id    int
}

func newTracker() *tracker {
	return &tracker{finished: map[*batch]bool{}, offsets: map[partition]int64{}, wake: make(chan struct{}, 1)}
}

func (t *tracker) add(b *batch) {
	t.mu.Lock()
	t.queue = append(t.queue, b)
	t.mu.Unlock()
}

// done marks b finished and releases the finished batches at the head.
func (t *tracker) done(b *batch) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.finished[b] = true
	released := false
	for len(t.queue) > 0 && t.finished[t.queue[0]] {
		head := t.queue[0]
		delete(t.finished, head)
		t.queue[0] = nil
		t.queue = t.queue[1:]
		for _, m := range head.msgs {
			p := partition{m.Topic, m.Partition}
			if o, ok := t.offsets[p]; !ok || m.Offset > o {
				t.offsets[p] = m.Offset
			}
			released = true
		}
	}
	if released {
		t.signal()
	}
}

// take returns the offsets to commit and forgets them.
func (t *tracker) take() map[partition]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.offsets
	t.offsets = map[partition]int64{}
	return out
}

// putBack merges offsets whose commit failed back in.
func (t *tracker) putBack(offsets map[partition]int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for p, o := range offsets {
		if cur, ok := t.offsets[p]; !ok || o > cur {
			t.offsets[p] = o
		}
	}
}

// close makes the commit loop commit what is released and return.
func (t *tracker) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.signal()
}

func (t *tracker) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

func (t *tracker) signal() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// commitLoop commits released offsets: one commit at a time, at most one
// per CommitInterval, each covering everything released meanwhile, so
// commits coalesce under load instead of loading the group coordinator
// with one request per batch. A failed commit is retried with the next one; a commit refused
// because the group rebalanced is harmless, the new owner reads those
// messages again and the join state turns them into duplicates. It returns
// after the tracker is closed and a last commit is tried, or when ctx ends.
func (w *Worker) commitLoop(ctx context.Context) {
	var last time.Time
	for {
		select {
		case <-w.commits.wake:
		case <-ctx.Done():
			return
		}
		closed := w.commits.isClosed()
		if wait := w.cfg.CommitInterval - time.Since(last); wait > 0 && !closed {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return
			}
			closed = w.commits.isClosed()
		}
		last = time.Now()
		offsets := w.commits.take()
		if len(offsets) > 0 {
			msgs := make([]kafka.Message, 0, len(offsets))
			for p, o := range offsets {
				msgs = append(msgs, kafka.Message{Topic: p.topic, Partition: p.id, Offset: o})
			}
			if err := w.reader.CommitMessages(ctx, msgs...); err != nil {
				w.fail("commit", err)
				w.commits.putBack(offsets)
				if !closed {
					time.AfterFunc(500*time.Millisecond, w.commits.signal)
				}
			}
		}
		if closed {
			return
		}
	}
}

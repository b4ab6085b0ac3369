package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Record is one Kafka record as an operator reads or sends it.
type Record struct {
	Topic     string
	Partition int32 // on Produce: -1 lets the key choose
	Offset    int64
	Key       []byte
	Value     []byte
	Timestamp time.Time
	Headers   []Header // in the record's order; a key may repeat
}

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// Bounds is the range of offsets a partition holds: Start is the oldest
// record still kept, End the offset the next record will get.
type Bounds struct {
	Partition int32
	Start     int64
	End       int64
}

// ErrUnknownTopic is a topic the cluster does not have.
var ErrUnknownTopic = errors.New("no such topic")

// TopicBounds is the range of offsets of every partition of topic, by
// partition. A topic the cluster does not have is ErrUnknownTopic.
func (a *Admin) TopicBounds(ctx context.Context, topic string) ([]Bounds, error) {
	known, _, err := a.existing(ctx, []string{topic})
	if err != nil {
		return nil, err
	}
	if len(known) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnknownTopic, topic)
	}
	starts, err := a.adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, unreachable(err)
	}
	ends, err := a.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, unreachable(err)
	}
	var out []Bounds
	for p, s := range starts[topic] {
		e, ok := ends.Lookup(topic, p)
		switch {
		case s.Err != nil:
			return nil, unreachable(fmt.Errorf("start offset of %s/%d: %w", topic, p, s.Err))
		case !ok || e.Err != nil:
			return nil, unreachable(fmt.Errorf("end offset of %s/%d: %w", topic, p, e.Err))
		}
		out = append(out, Bounds{Partition: p, Start: s.Offset, End: e.Offset})
	}
	slices.SortFunc(out, func(a, b Bounds) int { return int(a.Partition - b.Partition) })
	return out, nil
}

// fetchWait bounds how long one fetch waits for records the broker does
// not have yet; Read never asks for those, so it only matters at the end.
const fetchWait = 200 * time.Millisecond

// idleWait is how long Read waits for more records once it had an answer.
const idleWait = time.Second

// Read returns the records of topic's partition from offset from, in
// offset order, up to limit of them and never at or past end (the high
// watermark the caller read): it never waits for records not yet written.
// Offsets may be skipped (compaction, transaction markers); when nothing
// comes for idleWait after a first answer, it returns what it has.
func (a *Admin) Read(ctx context.Context, topic string, partition int32, from, end int64, limit int) ([]Record, error) {
	out := []Record{}
	err := a.read(ctx, topic, partition, from, end, limit, func(r *kgo.Record) { out = append(out, fromKgo(r)) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// read is Read handing each record to each instead of keeping it.
func (a *Admin) read(ctx context.Context, topic string, partition int32, from, end int64, limit int, each func(*kgo.Record)) error {
	if from >= end || limit <= 0 {
		return nil
	}
	cl, err := kgo.NewClient(append(options(a.seeds), kgo.FetchMaxWait(fetchWait),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(from)}}))...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	n := 0
	for first := true; n < limit; first = false {
		// After the first answer the partition is known to be readable: a
		// poll that brings nothing within idleWait means the offsets left
		// below end hold no records (transaction markers), not a slow
		// broker.
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if !first {
			pctx, cancel = context.WithTimeout(ctx, idleWait)
		}
		fs := cl.PollRecords(pctx, limit-n)
		idle := pctx.Err() != nil
		cancel()
		if err := ctx.Err(); err != nil {
			return unreachable(err)
		}
		if idle && fs.NumRecords() == 0 {
			break
		}
		var failed error
		fs.EachError(func(_ string, _ int32, err error) { failed = err })
		if failed != nil {
			return unreachable(failed)
		}
		done := false
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= end || n >= limit {
				done = true
				return
			}
			each(r)
			n++
			done = done || r.Offset == end-1
		})
		if done {
			break
		}
	}
	return nil
}

func fromKgo(r *kgo.Record) Record {
	rec := Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
	for _, h := range r.Headers {
		rec.Headers = append(rec.Headers, Header{Key: h.Key, Value: h.Value})
	}
	return rec
}

// Produce sends recs and waits until every one is acknowledged by all
// in-sync replicas, returning their partitions and offsets in order. A
// zero Timestamp is the time of sending. A
// record with a Partition the topic has goes there; others go by key.
// On error some records may have been written: the error says which.
func (a *Admin) Produce(ctx context.Context, recs []Record) ([]Record, error) {
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		kr := &kgo.Record{Topic: r.Topic, Partition: r.Partition, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		krs[i] = kr
	}
	res := a.cl.ProduceSync(ctx, krs...)
	out := make([]Record, len(recs))
	var errs []error
	for i, pr := range res {
		out[i] = recs[i]
		if pr.Err != nil {
			if errors.Is(pr.Err, kerr.UnknownTopicOrPartition) {
				pr.Err = fmt.Errorf("%w: %s", ErrUnknownTopic, recs[i].Topic)
			}
			errs = append(errs, fmt.Errorf("record %d to %s: %w", i, recs[i].Topic, pr.Err))
			out[i].Offset = -1
			continue
		}
		out[i].Partition, out[i].Offset, out[i].Timestamp = pr.Record.Partition, pr.Record.Offset, pr.Record.Timestamp
	}
	return out, errors.Join(errs...)
}

// keepPartition sends a record to the partition it names when its topic
// has that partition, and otherwise as fallback would (by key hash, the
// Java client's murmur2): a redriven message goes back to the partition
// it came from, keeping its order relative to its id's other messages.
type keepPartition struct{ fallback kgo.Partitioner }

func (p keepPartition) ForTopic(topic string) kgo.TopicPartitioner {
	return keepTopicPartition{p.fallback.ForTopic(topic)}
}

type keepTopicPartition struct{ fallback kgo.TopicPartitioner }

func (p keepTopicPartition) RequiresConsistency(r *kgo.Record) bool {
	return r.Partition >= 0 || p.fallback.RequiresConsistency(r)
}

func (p keepTopicPartition) Partition(r *kgo.Record, n int) int {
	if r.Partition >= 0 && int(r.Partition) < n {
		return int(r.Partition)
	}
	return p.fallback.Partition(r, n)
}

func (p keepTopicPartition) OnNewBatch() {
	if nb, ok := p.fallback.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}

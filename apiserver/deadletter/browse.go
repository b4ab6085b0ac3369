package deadletter

import (
	"context"
	"fmt"

	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
)

// Kafka is what this package needs of a cluster; *kafkaadmin.Admin is one.
type Kafka interface {
	ClusterID(ctx context.Context) (string, error)
	TopicBounds(ctx context.Context, topic string) ([]kafkaadmin.Bounds, error)
	Read(ctx context.Context, topic string, partition int32, from, end int64, limit int) ([]kafkaadmin.Record, error)
	Produce(ctx context.Context, recs []kafkaadmin.Record) ([]kafkaadmin.Record, error)
}

var _ Kafka = (*kafkaadmin.Admin)(nil)

// Page limits.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Cursor is a position in a dead-letter topic.
type Cursor struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
}

// PartitionRange is the range of offsets one partition holds now.
type PartitionRange struct {
	Partition int32 `json:"partition"`
	Start     int64 `json:"start"` // oldest record kept
	End       int64 `json:"end"`   // next offset to be written
}

// Page is one page of a dead-letter topic.
type Page struct {
	Topic      string           `json:"topic"`
	Partitions []PartitionRange `json:"partitions"`
	Letters    []Letter         `json:"letters"`
	Next       *Cursor          `json:"next"` // null: nothing after this page yet
}

// Browse reads up to limit records of topic from cursor from on, through
// its partition and on into the following ones, each annotated with its
// redrive when the ledger has one (ledger may be nil). A topic the cluster
// does not have yet is an empty page: nothing was dead-lettered.
func Browse(ctx context.Context, kc Kafka, ledger Ledger, topic string, from Cursor, limit int) (Page, error) {
	page := Page{Topic: topic, Partitions: []PartitionRange{}, Letters: []Letter{}}
	bounds, err := kc.TopicBounds(ctx, topic)
	if isUnknownTopic(err) {
		return page, nil
	}
	if err != nil {
		return page, err
	}
	for _, b := range bounds {
		page.Partitions = append(page.Partitions, PartitionRange{b.Partition, b.Start, b.End})
	}
	var cluster string
	if ledger != nil {
		if cluster, err = kc.ClusterID(ctx); err != nil {
			return page, err
		}
	}
	for _, b := range bounds {
		if b.Partition < from.Partition {
			continue
		}
		start := b.Start
		if b.Partition == from.Partition {
			start = max(start, from.Offset)
		}
		if start >= b.End {
			continue
		}
		if len(page.Letters) == limit {
			page.Next = &Cursor{b.Partition, start}
			break
		}
		recs, err := kc.Read(ctx, topic, b.Partition, start, b.End, limit-len(page.Letters))
		if err != nil {
			return page, fmt.Errorf("read %s/%d: %w", topic, b.Partition, err)
		}
		letters := make([]Letter, len(recs))
		for i, r := range recs {
			letters[i] = Decode(r)
		}
		if ledger != nil && len(letters) > 0 {
			if err := annotate(ctx, ledger, cluster, topic, letters); err != nil {
				return page, err
			}
		}
		page.Letters = append(page.Letters, letters...)
		if n := len(recs); n > 0 && recs[n-1].Offset+1 < b.End && len(page.Letters) == limit {
			page.Next = &Cursor{b.Partition, recs[n-1].Offset + 1}
			break
		}
	}
	return page, nil
}

// annotate sets Redriven on the letters (of one partition, in offset
// order) the ledger says were sent.
func annotate(ctx context.Context, ledger Ledger, cluster, topic string, letters []Letter) error {
	sent, err := ledger.Sent(ctx, cluster, topic, letters[0].Partition, letters[0].Offset, letters[len(letters)-1].Offset)
	if err != nil {
		return fmt.Errorf("redrive ledger: %w", err)
	}
	for i := range letters {
		if e, ok := sent[letters[i].Offset]; ok {
			letters[i].Redriven = &Redriven{e.Target.Topic, e.Target.Partition, e.Target.Offset, e.Actor, e.SentAt}
		}
	}
	return nil
}

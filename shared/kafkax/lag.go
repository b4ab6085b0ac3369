package kafkax

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// PartitionLag is a consumer group's position on one partition.
type PartitionLag struct {
	Topic     string
	Partition int
	// Committed is the group's committed offset, -1 when it has none.
	Committed int64
	// End is the partition's high watermark (the next offset to be written).
	End int64
	// Lag is End minus Committed, or End when nothing is committed (the
	// group would start from the beginning).
	Lag int64
}

// GroupLag reads the committed offsets of group and the high watermarks of
// every partition of topics, and returns the lag per partition. A group that
// never committed counts as lagging by the whole partition; both kfake's
// GroupIdNotFound answer and Kafka's -1 offset mean "nothing committed".
func GroupLag(ctx context.Context, client *kafka.Client, group string, topics []string) ([]PartitionLag, error) {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("metadata of %v: %w", topics, err)
	}
	parts := map[string][]int{}
	ends := map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		if t.Error != nil {
			return nil, fmt.Errorf("topic %s: %w", t.Name, t.Error)
		}
		for _, p := range t.Partitions {
			parts[t.Name] = append(parts[t.Name], p.ID)
			ends[t.Name] = append(ends[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: ends})
	if err != nil {
		return nil, fmt.Errorf("list offsets: %w", err)
	}
	committed := map[string]map[int]int64{}
	of, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: parts})
	switch {
	case err != nil:
		return nil, fmt.Errorf("offsets of group %s: %w", group, err)
	case of.Error != nil && !errors.Is(of.Error, kafka.GroupIdNotFound):
		return nil, fmt.Errorf("offsets of group %s: %w", group, of.Error)
	}
	if of.Error == nil {
		for t, ps := range of.Topics {
			committed[t] = map[int]int64{}
			for _, p := range ps {
				if p.Error == nil {
					committed[t][p.Partition] = p.CommittedOffset
				}
			}
		}
	}
	var out []PartitionLag
	for _, t := range topics {
		for _, p := range lo.Topics[t] {
			if p.Error != nil {
				return nil, fmt.Errorf("end offset of %s/%d: %w", t, p.Partition, p.Error)
			}
			c, ok := committed[t][p.Partition]
			if !ok {
				c = -1
			}
			l := PartitionLag{Topic: t, Partition: p.Partition, Committed: c, End: p.LastOffset, Lag: p.LastOffset}
			if c >= 0 {
				l.Lag = max(p.LastOffset-c, 0)
			}
			out = append(out, l)
		}
	}
	return out, nil
}

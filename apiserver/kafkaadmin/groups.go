package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/shared/kafkax"
)

// GroupLag is kafkax.GroupLag against servers. Topics the cluster does
// not know yet (no record was ever written) are left out rather than
// failing the whole answer.
func GroupLag(ctx context.Context, servers []string, group string, topics []string) ([]kafkax.PartitionLag, error) {
	c, done := client(servers)
	defer done()
	known, err := existing(ctx, c, topics)
	if err != nil || len(known) == 0 {
		return []kafkax.PartitionLag{}, err
	}
	lag, err := kafkax.GroupLag(ctx, c, group, known)
	if err != nil {
		return nil, unreachable(err)
	}
	return lag, nil
}

// EndOffsets returns, per topic, the sum of its partitions' high
// watermarks: how many records were ever written to it. Unknown topics
// count 0.
func EndOffsets(ctx context.Context, servers []string, topics []string) (map[string]int64, error) {
	c, done := client(servers)
	defer done()
	out := map[string]int64{}
	meta, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, unreachable(err)
	}
	req := map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		if t.Error != nil {
			continue // not created yet
		}
		for _, p := range t.Partitions {
			req[t.Name] = append(req[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	if len(req) == 0 {
		return out, nil
	}
	lo, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return nil, unreachable(err)
	}
	for t, ps := range lo.Topics {
		for _, p := range ps {
			if p.Error == nil {
				out[t] += p.LastOffset
			}
		}
	}
	return out, nil
}

// existing keeps the topics the cluster has.
func existing(ctx context.Context, c *kafka.Client, topics []string) ([]string, error) {
	meta, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, unreachable(err)
	}
	var out []string
	for _, t := range meta.Topics {
		if t.Error == nil {
			out = append(out, t.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Group is a consumer group with its lag on each topic it committed to.
type Group struct {
	ID     string       `json:"id"`
	Topics []GroupTopic `json:"topics"`
	Lag    int64        `json:"lag"` // summed over Topics
}

// GroupTopic is a group's position on one topic, summed over partitions.
type GroupTopic struct {
	Topic      string `json:"topic"`
	Partitions int    `json:"partitions"`
	Committed  int64  `json:"committed"`
	End        int64  `json:"end"`
	Lag        int64  `json:"lag"`
}

// Groups lists the cluster's consumer groups and, for each, the topics it
// committed offsets on with their lag.
func Groups(ctx context.Context, servers []string) ([]Group, error) {
	c, done := client(servers)
	defer done()
	lg, err := c.ListGroups(ctx, &kafka.ListGroupsRequest{})
	if err != nil {
		return nil, unreachable(err)
	}
	if lg.Error != nil {
		return nil, fmt.Errorf("list groups: %w", lg.Error)
	}
	out := []Group{}
	for _, g := range lg.Groups {
		group := Group{ID: g.GroupID, Topics: []GroupTopic{}}
		of, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: g.GroupID})
		if err != nil {
			return nil, unreachable(err)
		}
		if of.Error != nil && !errors.Is(of.Error, kafka.GroupIdNotFound) {
			return nil, fmt.Errorf("offsets of group %s: %w", g.GroupID, of.Error)
		}
		var topics []string
		for t := range of.Topics {
			topics = append(topics, t)
		}
		slices.Sort(topics)
		if len(topics) > 0 {
			lag, err := kafkax.GroupLag(ctx, c, g.GroupID, topics)
			if err != nil {
				return nil, unreachable(err)
			}
			group.Topics = sumByTopic(lag)
		}
		for _, t := range group.Topics {
			group.Lag += t.Lag
		}
		out = append(out, group)
	}
	slices.SortFunc(out, func(a, b Group) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func sumByTopic(lag []kafkax.PartitionLag) []GroupTopic {
	var out []GroupTopic
	for _, l := range lag {
		if n := len(out); n == 0 || out[n-1].Topic != l.Topic {
			out = append(out, GroupTopic{Topic: l.Topic})
		}
		t := &out[len(out)-1]
		t.Partitions++
		t.Committed += max(l.Committed, 0)
		t.End += l.End
		t.Lag += l.Lag
	}
	return out
}

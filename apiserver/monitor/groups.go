package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/segmentio/kafka-go"
)

// Group is a consumer group of a cluster with its lag on each topic it
// committed offsets on.
type Group struct {
	ID      string       `json:"id"`
	State   string       `json:"state"`   // as the coordinator says: Stable, Empty, PreparingRebalance, ...
	Members int          `json:"members"` // consumers currently in the group
	Topics  []GroupTopic `json:"topics"`
	Lag     int64        `json:"lag"` // summed over Topics
}

// GroupTopic is a group's position on one topic, summed over the topic's
// partitions. A partition the group never committed on lags by its whole
// high watermark.
type GroupTopic struct {
	Topic      string `json:"topic"`
	Partitions int    `json:"partitions"`
	Committed  int64  `json:"committed"`
	End        int64  `json:"end"`
	Lag        int64  `json:"lag"`
}

// Groups lists the cluster's consumer groups, by id, with their state,
// members and lag per topic: ListGroups, one DescribeGroups, one
// OffsetFetch per group, then the high watermarks of every topic any group
// committed on in one ListOffsets.
func Groups(ctx context.Context, c *kafka.Client) ([]Group, error) {
	// kafka-go broadcasts ListGroups to the brokers it knows from metadata;
	// when it cannot get metadata it broadcasts to none and answers an
	// empty list without an error. Ask for metadata first to tell the two
	// apart.
	if _, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{}}); err != nil {
		return nil, unreachable(err)
	}
	lg, err := c.ListGroups(ctx, &kafka.ListGroupsRequest{})
	if err != nil {
		return nil, unreachable(err)
	}
	if lg.Error != nil {
		return nil, unreachable(fmt.Errorf("list groups: %w", lg.Error))
	}
	ids := make([]string, 0, len(lg.Groups))
	for _, g := range lg.Groups {
		ids = append(ids, g.GroupID)
	}
	slices.Sort(ids)
	out := make([]Group, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	described, err := describe(ctx, c, ids)
	if err != nil {
		return nil, err
	}
	committed := map[string]map[string]map[int]int64{} // group → topic → partition → offset
	topics := map[string]bool{}
	for _, id := range ids {
		if committed[id], err = offsets(ctx, c, id); err != nil {
			return nil, err
		}
		for t := range committed[id] {
			topics[t] = true
		}
	}
	ends, err := partitionEnds(ctx, c, topics)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		g := described[id]
		g.ID, g.Topics = id, groupTopics(committed[id], ends)
		for _, t := range g.Topics {
			g.Lag += t.Lag
		}
		out = append(out, g)
	}
	return out, nil
}

func describe(ctx context.Context, c *kafka.Client, ids []string) (map[string]Group, error) {
	dg, err := c.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: ids})
	if err != nil {
		return nil, unreachable(err)
	}
	out := map[string]Group{}
	for _, g := range dg.Groups {
		if g.Error == nil {
			out[g.GroupID] = Group{State: g.GroupState, Members: len(g.Members)}
		}
	}
	return out, nil
}

// offsets is every offset group committed, by topic and partition.
func offsets(ctx context.Context, c *kafka.Client, group string) (map[string]map[int]int64, error) {
	of, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group}) // no topics: all of them
	if err != nil {
		return nil, unreachable(err)
	}
	out := map[string]map[int]int64{}
	if of.Error != nil {
		if errors.Is(of.Error, kafka.GroupIdNotFound) {
			return out, nil // gone between ListGroups and now
		}
		return nil, unreachable(fmt.Errorf("offsets of group %s: %w", group, of.Error))
	}
	for t, ps := range of.Topics {
		for _, p := range ps {
			if p.Error == nil && p.CommittedOffset >= 0 {
				if out[t] == nil {
					out[t] = map[int]int64{}
				}
				out[t][p.Partition] = p.CommittedOffset
			}
		}
	}
	return out, nil
}

// partitionEnds is the high watermark of every partition of topics, by
// topic and partition; deleted topics are left out.
func partitionEnds(ctx context.Context, c *kafka.Client, topics map[string]bool) (map[string]map[int]int64, error) {
	out := map[string]map[int]int64{}
	if len(topics) == 0 {
		return out, nil
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	meta, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
	if err != nil {
		return nil, unreachable(err)
	}
	req := map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			if t.Error == nil {
				req[t.Name] = append(req[t.Name], kafka.LastOffsetOf(p.ID))
			}
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
		out[t] = map[int]int64{}
		for _, p := range ps {
			if p.Error != nil {
				return nil, unreachable(fmt.Errorf("end offset of %s/%d: %w", t, p.Partition, p.Error))
			}
			out[t][p.Partition] = p.LastOffset
		}
	}
	return out, nil
}

// groupTopics sums a group's committed offsets and lag per topic, over
// every partition of the topic (not only those it committed on).
func groupTopics(committed, ends map[string]map[int]int64) []GroupTopic {
	out := []GroupTopic{}
	for t, cs := range committed {
		gt := GroupTopic{Topic: t}
		for p, end := range ends[t] {
			gt.Partitions++
			gt.End += end
			if c, ok := cs[p]; ok {
				gt.Committed += c
				gt.Lag += max(end-c, 0)
			} else {
				gt.Lag += end
			}
		}
		out = append(out, gt)
	}
	slices.SortFunc(out, func(a, b GroupTopic) int { return strings.Compare(a.Topic, b.Topic) })
	return out
}

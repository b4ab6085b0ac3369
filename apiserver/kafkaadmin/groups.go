package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Group is a consumer group of a cluster with its members and its lag on
// each topic it committed offsets on or its members are assigned.
type Group struct {
	ID        string       `json:"id"`
	State     string       `json:"state"`     // as the coordinator says: Stable, Empty, PreparingRebalance, ...
	Members   int          `json:"members"`   // consumers currently in the group
	Consumers []Member     `json:"consumers"` // those members, by member id
	Topics    []GroupTopic `json:"topics"`
	Lag       int64        `json:"lag"` // summed over Topics
}

// Member is one consumer in a group, with the partitions the group's
// leader assigned it.
type Member struct {
	ID          string       `json:"id"`
	ClientID    string       `json:"client_id"`
	Host        string       `json:"host"`
	Assignments []Assignment `json:"assignments"` // by topic
}

// Assignment is the partitions of one topic a member consumes.
type Assignment struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

// GroupTopic is a group's position on one topic, summed over the topic's
// partitions, and on each of them. A partition the group never committed
// on lags by its whole high watermark.
type GroupTopic struct {
	Topic       string              `json:"topic"`
	Partitions  int                 `json:"partitions"`
	Committed   int64               `json:"committed"`
	End         int64               `json:"end"`
	Lag         int64               `json:"lag"`
	ByPartition []PartitionPosition `json:"by_partition"` // by partition
}

// PartitionPosition is a group's position on one partition.
type PartitionPosition struct {
	Partition int32 `json:"partition"`
	Committed int64 `json:"committed"` // -1: nothing committed
	End       int64 `json:"end"`       // the partition's high watermark
	Lag       int64 `json:"lag"`
}

// Groups lists the cluster's consumer groups, by id, with their state,
// members and lag per topic.
func (a *Admin) Groups(ctx context.Context) ([]Group, error) {
	listed, err := a.adm.ListGroups(ctx)
	if err != nil {
		return nil, unreachable(err)
	}
	ids := listed.Groups() // sorted
	out := make([]Group, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	described, err := a.adm.DescribeGroups(ctx, ids...)
	if err != nil {
		return nil, unreachable(err)
	}
	committed := map[string]kadm.Offsets{}
	var topics []string
	for _, id := range ids {
		if committed[id], err = a.committed(ctx, id); err != nil {
			return nil, err
		}
		// The topics its members are assigned count too, committed on or
		// not: a group that has read nothing yet lags by all there is.
		if d, ok := described[id]; ok && d.Err == nil {
			for _, m := range members(d) {
				for _, as := range m.Assignments {
					if _, ok := committed[id][as.Topic]; !ok {
						committed[id][as.Topic] = map[int32]kadm.Offset{}
					}
				}
			}
		}
		for t := range committed[id] {
			topics = append(topics, t)
		}
	}
	ends, err := a.partitionEnds(ctx, topics)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		g := Group{ID: id, Consumers: []Member{}}
		if d, ok := described[id]; ok && d.Err == nil {
			g.State, g.Members, g.Consumers = d.State, len(d.Members), members(d)
		}
		g.Topics = groupTopics(committed[id], ends)
		for _, t := range g.Topics {
			g.Lag += t.Lag
		}
		out = append(out, g)
	}
	return out, nil
}

// Describe is one group's state and members. A group the coordinator does
// not know is "Dead" with no members, as Kafka describes it.
func (a *Admin) Describe(ctx context.Context, group string) (Group, error) {
	described, err := a.adm.DescribeGroups(ctx, group)
	if err != nil {
		return Group{}, unreachable(err)
	}
	d, ok := described[group]
	switch {
	case ok && errors.Is(d.Err, kerr.GroupIDNotFound): // newer protocol versions say so
		return Group{ID: group, State: "Dead", Consumers: []Member{}, Topics: []GroupTopic{}}, nil
	case !ok:
		return Group{}, unreachable(fmt.Errorf("describe group %s: no answer for it", group))
	case d.Err != nil:
		return Group{}, unreachable(fmt.Errorf("describe group %s: %w", group, d.Err))
	}
	return Group{ID: group, State: d.State, Members: len(d.Members), Consumers: members(d), Topics: []GroupTopic{}}, nil
}

func members(d kadm.DescribedGroup) []Member {
	out := make([]Member, 0, len(d.Members))
	for _, m := range d.Members {
		mb := Member{ID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost, Assignments: []Assignment{}}
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range c.Topics {
				mb.Assignments = append(mb.Assignments, Assignment{Topic: t.Topic, Partitions: slices.Sorted(slices.Values(t.Partitions))})
			}
			slices.SortFunc(mb.Assignments, func(a, b Assignment) int { return strings.Compare(a.Topic, b.Topic) })
		}
		out = append(out, mb)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// partitionEnds is the high watermark of every partition of topics;
// deleted topics are left out.
func (a *Admin) partitionEnds(ctx context.Context, topics []string) (kadm.ListedOffsets, error) {
	known, _, err := a.existing(ctx, topics)
	if err != nil || len(known) == 0 {
		return kadm.ListedOffsets{}, err
	}
	ends, err := a.adm.ListEndOffsets(ctx, known...)
	if err != nil {
		return nil, unreachable(err)
	}
	if err := ends.Error(); err != nil {
		return nil, unreachable(err)
	}
	return ends, nil
}

// groupTopics sums a group's committed offsets and lag per topic, over
// every partition of the topic (not only those it committed on).
func groupTopics(committed kadm.Offsets, ends kadm.ListedOffsets) []GroupTopic {
	out := []GroupTopic{}
	for t, cs := range committed {
		gt := GroupTopic{Topic: t, ByPartition: []PartitionPosition{}}
		for p, end := range ends[t] {
			pp := PartitionPosition{Partition: p, Committed: -1, End: end.Offset, Lag: end.Offset}
			if c, ok := cs[p]; ok && c.At >= 0 {
				pp.Committed, pp.Lag = c.At, max(end.Offset-c.At, 0)
				gt.Committed += c.At
			}
			gt.Partitions++
			gt.End += end.Offset
			gt.Lag += pp.Lag
			gt.ByPartition = append(gt.ByPartition, pp)
		}
		slices.SortFunc(gt.ByPartition, func(a, b PartitionPosition) int { return int(a.Partition - b.Partition) })
		out = append(out, gt)
	}
	slices.SortFunc(out, func(a, b GroupTopic) int { return strings.Compare(a.Topic, b.Topic) })
	return out
}

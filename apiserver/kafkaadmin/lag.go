package kafkaadmin

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
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

// Lag is the lag of group on each partition of topics, ordered by topic
// then partition. Topics the cluster does not have yet (nothing was ever
// written to them) are left out and returned in missing rather than
// failing the whole answer.
func (a *Admin) Lag(ctx context.Context, group string, topics []string) (lag []PartitionLag, missing []string, err error) {
	known, missing, err := a.existing(ctx, topics)
	if err != nil || len(known) == 0 {
		return []PartitionLag{}, missing, err
	}
	ends, err := a.adm.ListEndOffsets(ctx, known...)
	if err != nil {
		return nil, nil, unreachable(err)
	}
	committed, err := a.committed(ctx, group)
	if err != nil {
		return nil, nil, err
	}
	lag = []PartitionLag{}
	var failed error
	ends.Each(func(lo kadm.ListedOffset) {
		if lo.Err != nil {
			failed = lo.Err
			return
		}
		l := PartitionLag{Topic: lo.Topic, Partition: int(lo.Partition), Committed: -1, End: lo.Offset, Lag: lo.Offset}
		if c, ok := committed.Lookup(lo.Topic, lo.Partition); ok && c.At >= 0 {
			l.Committed, l.Lag = c.At, max(lo.Offset-c.At, 0)
		}
		lag = append(lag, l)
	})
	if failed != nil {
		return nil, nil, unreachable(failed)
	}
	slices.SortFunc(lag, func(a, b PartitionLag) int {
		if a.Topic != b.Topic {
			return strings.Compare(a.Topic, b.Topic)
		}
		return a.Partition - b.Partition
	})
	return lag, missing, nil
}

// committed is every offset group committed. A group the coordinator does
// not know has committed nothing: kfake answers OffsetFetch for it with
// GroupIdNotFound (69) where Kafka answers -1 offsets.
func (a *Admin) committed(ctx context.Context, group string) (kadm.Offsets, error) {
	rs, err := a.adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return kadm.Offsets{}, nil
	}
	if err != nil {
		return nil, unreachable(err)
	}
	out := kadm.Offsets{}
	rs.Each(func(r kadm.OffsetResponse) {
		if r.Err == nil {
			out.Add(r.Offset)
		}
	})
	return out, nil
}

// EndOffsets returns, per topic, the sum of its partitions' high
// watermarks: how many records were ever written to it. Topics the cluster
// does not have count 0.
func (a *Admin) EndOffsets(ctx context.Context, topics []string) (map[string]int64, error) {
	out := map[string]int64{}
	known, _, err := a.existing(ctx, topics)
	if err != nil || len(known) == 0 {
		return out, err
	}
	ends, err := a.adm.ListEndOffsets(ctx, known...)
	if err != nil {
		return nil, unreachable(err)
	}
	if err := ends.Error(); err != nil {
		return nil, unreachable(err)
	}
	ends.Each(func(lo kadm.ListedOffset) { out[lo.Topic] += lo.Offset })
	return out, nil
}

// existing splits topics into those the cluster has and those it has not,
// each sorted. Asking for named topics never auto-creates them.
func (a *Admin) existing(ctx context.Context, topics []string) (known, missing []string, err error) {
	if len(topics) == 0 {
		return nil, nil, nil
	}
	tds, err := a.adm.ListTopicsWithInternal(ctx, slices.Compact(slices.Sorted(slices.Values(topics)))...)
	if err != nil {
		return nil, nil, unreachable(err)
	}
	for _, td := range tds.Sorted() {
		if td.Err == nil {
			known = append(known, td.Topic)
		} else {
			missing = append(missing, td.Topic)
		}
	}
	return known, missing, nil
}

// Lags is the total lag of each of many groups on its own topics, as Lag
// counts it (a partition without a commit lags by its high watermark), in
// three requests to the cluster however many groups there are: the
// topics, their end offsets, and every group's commits. Topics the
// cluster does not have count 0. A group whose commits could not be read
// is left out of the answer; an unreachable cluster fails it.
func (a *Admin) Lags(ctx context.Context, groups map[string][]string) (map[string]int64, error) {
	out := make(map[string]int64, len(groups))
	var topics, ids []string
	for g, ts := range groups {
		ids = append(ids, g)
		topics = append(topics, ts...)
	}
	if len(ids) == 0 {
		return out, nil
	}
	ends, err := a.partitionEnds(ctx, topics)
	if err != nil {
		return nil, err
	}
	fetched := a.adm.FetchManyOffsets(ctx, ids...)
	if fetched.AllFailed() && !errors.Is(fetched.Error(), kerr.GroupIDNotFound) {
		return nil, unreachable(fetched.Error())
	}
	for g, ts := range groups {
		r, ok := fetched[g]
		if !ok || r.Err != nil && !errors.Is(r.Err, kerr.GroupIDNotFound) {
			continue // not answered for this group: unknown, not zero
		}
		var lag int64
		for _, t := range slices.Compact(slices.Sorted(slices.Values(ts))) {
			for p, end := range ends[t] {
				if c, ok := r.Fetched.Lookup(t, p); ok && c.Err == nil && c.At >= 0 {
					lag += max(end.Offset-c.At, 0)
				} else {
					lag += end.Offset
				}
			}
		}
		out[g] = lag
	}
	return out, nil
}

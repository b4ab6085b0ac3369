package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// Offset is a position on one partition: the offset of the next record to
// read there.
type Offset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

// Earliest is the oldest offset still kept on every partition of topics.
func (a *Admin) Earliest(ctx context.Context, topics []string) ([]Offset, error) {
	return a.listed(ctx, topics, func(ts ...string) (kadm.ListedOffsets, error) { return a.adm.ListStartOffsets(ctx, ts...) })
}

// Latest is the high watermark of every partition of topics.
func (a *Admin) Latest(ctx context.Context, topics []string) ([]Offset, error) {
	return a.listed(ctx, topics, func(ts ...string) (kadm.ListedOffsets, error) { return a.adm.ListEndOffsets(ctx, ts...) })
}

// After is, on every partition of topics, the offset of the first record
// whose timestamp is at or after t, or the high watermark when none is.
// Record timestamps are milliseconds: a record of t's millisecond counts
// as after t even when it was written a little before.
func (a *Admin) After(ctx context.Context, t time.Time, topics []string) ([]Offset, error) {
	return a.listed(ctx, topics, func(ts ...string) (kadm.ListedOffsets, error) {
		return a.adm.ListOffsetsAfterMilli(ctx, t.UnixMilli(), ts...)
	})
}

// listed runs list on topics, every one of which must exist (a reset
// must not silently skip a topic), and sorts its answer.
func (a *Admin) listed(ctx context.Context, topics []string, list func(...string) (kadm.ListedOffsets, error)) ([]Offset, error) {
	known, missing, err := a.existing(ctx, topics)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnknownTopic, strings.Join(missing, ", "))
	}
	if len(known) == 0 {
		return []Offset{}, nil
	}
	lo, err := list(known...)
	if err != nil {
		return nil, unreachable(err)
	}
	if err := lo.Error(); err != nil {
		return nil, unreachable(err)
	}
	var out []Offset
	lo.Each(func(l kadm.ListedOffset) { out = append(out, Offset{l.Topic, l.Partition, l.Offset}) })
	sortOffsets(out)
	return out, nil
}

// Committed is group's committed offset on every partition of topics that
// has one.
func (a *Admin) Committed(ctx context.Context, group string, topics []string) ([]Offset, error) {
	os, err := a.committed(ctx, group)
	if err != nil {
		return nil, err
	}
	out := []Offset{}
	for _, t := range topics {
		for p, o := range os[t] {
			if o.At >= 0 {
				out = append(out, Offset{t, p, o.At})
			}
		}
	}
	sortOffsets(out)
	return out, nil
}

// Commit sets group's committed offsets to offs, as an administrator does
// (no generation): the coordinator accepts it only while the group has no
// members, so a running consumer never has its position moved under it.
func (a *Admin) Commit(ctx context.Context, group string, offs []Offset) error {
	os := kadm.Offsets{}
	for _, o := range offs {
		os.Add(kadm.Offset{Topic: o.Topic, Partition: o.Partition, At: o.Offset, LeaderEpoch: -1})
	}
	res, err := a.adm.CommitOffsets(ctx, group, os)
	if err != nil {
		return unreachable(err)
	}
	var errs []error
	res.EachError(func(r kadm.OffsetResponse) {
		errs = append(errs, fmt.Errorf("commit %s/%d: %w", r.Topic, r.Partition, r.Err))
	})
	return errors.Join(errs...)
}

func sortOffsets(os []Offset) {
	slices.SortFunc(os, func(a, b Offset) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
}

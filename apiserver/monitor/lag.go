// Package monitor reads how a worker is doing from where the workers leave
// traces of it: its consumer group's committed offsets and the topics' high
// watermarks in Kafka (lag, throughput), and the heartbeats, counters, last
// errors and pending joins its instances publish in Redis. It holds no
// state but the throughput samples of Rates; every read is bounded by the
// caller's context.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/shared/kafkax"
)

// ErrUnreachable wraps every failure to get an answer from a Kafka cluster
// (dial, timeout, protocol), so that callers can answer 503.
var ErrUnreachable = errors.New("kafka cluster unreachable")

func unreachable(err error) error { return fmt.Errorf("%w: %w", ErrUnreachable, err) }

// Dial returns a kafka-go client of servers with its own transport, and the
// function that closes the transport's connections. A private transport
// keeps one cluster's dead brokers from holding a pool other calls share.
func Dial(servers []string) (*kafka.Client, func()) {
	tr := &kafka.Transport{DialTimeout: 5 * time.Second, ClientID: "tributary-apiserver-monitor"}
	return &kafka.Client{Addr: kafka.TCP(servers...), Transport: tr}, tr.CloseIdleConnections
}

// Lag is the lag of group on each partition of topics (kafkax.GroupLag,
// ordered by topic then partition). Topics the cluster does not have yet
// (nothing was ever written to them) are left out and returned in missing
// rather than failing the whole answer.
func Lag(ctx context.Context, c *kafka.Client, group string, topics []string) (lag []kafkax.PartitionLag, missing []string, err error) {
	known, missing, err := existing(ctx, c, topics)
	if err != nil {
		return nil, nil, err
	}
	if len(known) == 0 {
		return []kafkax.PartitionLag{}, missing, nil
	}
	lag, err = kafkax.GroupLag(ctx, c, group, known)
	if err != nil {
		return nil, nil, unreachable(err)
	}
	slices.SortStableFunc(lag, func(a, b kafkax.PartitionLag) int {
		if a.Topic != b.Topic {
			return strings.Compare(a.Topic, b.Topic)
		}
		return a.Partition - b.Partition
	})
	return lag, missing, nil
}

// EndOffsets returns, per topic, the sum of its partitions' high
// watermarks: how many records were ever written to it. Topics the cluster
// does not have count 0.
func EndOffsets(ctx context.Context, c *kafka.Client, topics []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(topics) == 0 {
		return out, nil
	}
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
			if p.Error != nil {
				return nil, unreachable(fmt.Errorf("end offset of %s/%d: %w", t, p.Partition, p.Error))
			}
			out[t] += p.LastOffset
		}
	}
	return out, nil
}

// existing splits topics into those the cluster has and those it has not.
// Asking for named topics never auto-creates them with kafka-go's
// MetadataRequest (AllowAutoTopicCreation is false).
func existing(ctx context.Context, c *kafka.Client, topics []string) (known, missing []string, err error) {
	if len(topics) == 0 {
		return nil, nil, nil
	}
	meta, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, nil, unreachable(err)
	}
	for _, t := range meta.Topics {
		if t.Error == nil {
			known = append(known, t.Name)
		} else {
			missing = append(missing, t.Name)
		}
	}
	slices.Sort(known)
	slices.Sort(missing)
	return known, missing, nil
}

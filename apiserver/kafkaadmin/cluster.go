package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Broker is one broker as the cluster advertises it.
type Broker struct {
	ID   int    `json:"id"`
	Host string `json:"host"`
	Port int    `json:"port"`
	Rack string `json:"rack,omitempty"`
}

// Check is the outcome of a connectivity check. OK is false when the
// cluster could not be reached or answered with an error; Error says why.
type Check struct {
	OK         bool     `json:"ok"`
	Brokers    []Broker `json:"brokers"`
	Controller *Broker  `json:"controller"`
	Error      string   `json:"error,omitempty"`
	LatencyMS  int64    `json:"latency_ms"`
}

// Partition is one partition of a topic with its high watermark (the
// offset the next record will get).
type Partition struct {
	ID            int   `json:"id"`
	Leader        int   `json:"leader"`
	HighWatermark int64 `json:"high_watermark"`
}

// Topic is one topic, partitions ordered by id.
type Topic struct {
	Name           string      `json:"name"`
	Internal       bool        `json:"internal"`
	PartitionCount int         `json:"partition_count"`
	Partitions     []Partition `json:"partitions"`
}

// ErrTopicExists is returned by CreateTopic when the name is taken.
var ErrTopicExists = errors.New("topic already exists")

// InvalidError is the cluster refusing a topic's settings; Field is
// "name", "partitions" or "replication_factor".
type InvalidError struct {
	Field string
	Err   error
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

// Check reads the cluster's metadata. It never fails: an unreachable
// cluster is a Check with OK false.
func (a *Admin) Check(ctx context.Context) Check {
	start := time.Now()
	md, err := a.adm.BrokerMetadata(ctx)
	res := Check{Brokers: []Broker{}, LatencyMS: time.Since(start).Milliseconds()}
	if err != nil {
		res.Error = err.Error()
		if ctx.Err() != nil {
			res.Error = "no answer within the timeout: " + res.Error
		}
		return res
	}
	res.OK = true
	for _, b := range md.Brokers {
		br := Broker{ID: int(b.NodeID), Host: b.Host, Port: int(b.Port)}
		if b.Rack != nil {
			br.Rack = *b.Rack
		}
		res.Brokers = append(res.Brokers, br)
		if b.NodeID == md.Controller {
			ctl := br
			res.Controller = &ctl
		}
	}
	slices.SortFunc(res.Brokers, func(a, b Broker) int { return a.ID - b.ID })
	return res
}

// Topics lists every topic with its partitions' high watermarks, by name.
func (a *Admin) Topics(ctx context.Context) ([]Topic, error) {
	// No topics asks for all of them; kadm never asks to auto-create one.
	tds, err := a.adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, unreachable(err)
	}
	out := make([]Topic, 0, len(tds))
	if len(tds) == 0 {
		return out, nil
	}
	ends, err := a.adm.ListEndOffsets(ctx, tds.Names()...)
	if err != nil {
		return nil, unreachable(err)
	}
	for _, td := range tds.Sorted() {
		if td.Err != nil {
			return nil, fmt.Errorf("metadata of topic %q: %w", td.Topic, td.Err)
		}
		t := Topic{Name: td.Topic, Internal: td.IsInternal, PartitionCount: len(td.Partitions), Partitions: []Partition{}}
		for _, pd := range td.Partitions.Sorted() {
			lo, ok := ends.Lookup(td.Topic, pd.Partition)
			switch {
			case !ok:
				return nil, fmt.Errorf("no offset for %s/%d", td.Topic, pd.Partition)
			case lo.Err != nil:
				return nil, fmt.Errorf("offset of %s/%d: %w", td.Topic, pd.Partition, lo.Err)
			}
			t.Partitions = append(t.Partitions, Partition{ID: int(pd.Partition), Leader: int(pd.Leader), HighWatermark: lo.Offset})
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Topic) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// CreateTopic creates a topic. It returns ErrTopicExists when the name is
// taken, an *InvalidError when the cluster refuses the settings, and an
// error wrapping ErrUnreachable when the cluster does not answer.
func (a *Admin) CreateTopic(ctx context.Context, name string, partitions, replication int) error {
	res, err := a.adm.CreateTopics(ctx, int32(partitions), int16(replication), nil, name)
	if err != nil {
		return unreachable(err)
	}
	r, ok := res[name]
	if !ok {
		return unreachable(fmt.Errorf("create topic %q: no answer for it", name))
	}
	switch err := r.Err; {
	case err == nil:
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		return ErrTopicExists
	case errors.Is(err, kerr.InvalidReplicationFactor):
		return &InvalidError{"replication_factor", err}
	case errors.Is(err, kerr.InvalidPartitions):
		return &InvalidError{"partitions", err}
	case errors.Is(err, kerr.InvalidTopicException):
		return &InvalidError{"name", err}
	default:
		return fmt.Errorf("create topic %q: %w", name, err)
	}
}

// ClusterID is the id the cluster reports for itself, or, when it reports
// none, its bootstrap servers: what tells two clusters with the same topic
// names apart.
func (a *Admin) ClusterID(ctx context.Context) (string, error) {
	md, err := a.adm.BrokerMetadata(ctx)
	if err != nil {
		return "", unreachable(err)
	}
	if md.Cluster != "" {
		return md.Cluster, nil
	}
	return strings.Join(a.seeds, ","), nil
}

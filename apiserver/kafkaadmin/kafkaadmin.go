// Package kafkaadmin answers the API server's questions about a Kafka
// cluster (is it reachable, which topics, how far has each partition been
// written) and creates topics, through kafka-go's Client. Every call dials
// afresh with its own transport, so one cluster's dead brokers never hold a
// pool another call shares; the caller bounds each call with ctx.
package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
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

// ErrUnreachable wraps every failure to talk to the cluster (dial, timeout,
// protocol), as opposed to the cluster refusing a request.
var ErrUnreachable = errors.New("kafka cluster unreachable")

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

func client(servers []string) (*kafka.Client, func()) {
	tr := &kafka.Transport{DialTimeout: 5 * time.Second, ClientID: "tributary-apiserver"}
	return &kafka.Client{Addr: kafka.TCP(servers...), Transport: tr}, tr.CloseIdleConnections
}

func unreachable(err error) error { return fmt.Errorf("%w: %w", ErrUnreachable, err) }

// CheckCluster dials servers and reads the cluster's metadata. It never
// fails: an unreachable cluster is a Check with OK false.
func CheckCluster(ctx context.Context, servers []string) Check {
	c, done := client(servers)
	defer done()
	start := time.Now()
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{}})
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
		res.Brokers = append(res.Brokers, broker(b))
	}
	slices.SortFunc(res.Brokers, func(a, b Broker) int { return a.ID - b.ID })
	if md.Controller.Host != "" {
		ctl := broker(md.Controller)
		res.Controller = &ctl
	}
	return res
}

func broker(b kafka.Broker) Broker { return Broker{b.ID, b.Host, b.Port, b.Rack} }

// Topics lists every topic with its partitions' high watermarks, by name.
func Topics(ctx context.Context, servers []string) ([]Topic, error) {
	c, done := client(servers)
	defer done()
	// Nil topics asks for all of them; it never auto-creates one.
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return nil, unreachable(err)
	}
	req := map[string][]kafka.OffsetRequest{}
	out := make([]Topic, 0, len(md.Topics))
	for _, t := range md.Topics {
		if t.Error != nil {
			return nil, fmt.Errorf("metadata of topic %q: %w", t.Name, t.Error)
		}
		topic := Topic{Name: t.Name, Internal: t.Internal, PartitionCount: len(t.Partitions), Partitions: []Partition{}}
		for _, p := range t.Partitions {
			topic.Partitions = append(topic.Partitions, Partition{ID: p.ID, Leader: p.Leader.ID})
			req[t.Name] = append(req[t.Name], kafka.LastOffsetOf(p.ID))
		}
		slices.SortFunc(topic.Partitions, func(a, b Partition) int { return a.ID - b.ID })
		out = append(out, topic)
	}
	slices.SortFunc(out, func(a, b Topic) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	if len(req) == 0 {
		return out, nil
	}
	offs, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return nil, unreachable(err)
	}
	for i := range out {
		hw := map[int]kafka.PartitionOffsets{}
		for _, po := range offs.Topics[out[i].Name] {
			hw[po.Partition] = po
		}
		for j := range out[i].Partitions {
			po, ok := hw[out[i].Partitions[j].ID]
			if !ok {
				return nil, fmt.Errorf("no offset for %s/%d", out[i].Name, out[i].Partitions[j].ID)
			}
			if po.Error != nil {
				return nil, fmt.Errorf("offset of %s/%d: %w", out[i].Name, po.Partition, po.Error)
			}
			out[i].Partitions[j].HighWatermark = po.LastOffset
		}
	}
	return out, nil
}

// CreateTopic creates a topic. It returns ErrTopicExists when the name is
// taken, an *InvalidError when the cluster refuses the settings, and an
// error wrapping ErrUnreachable when the cluster does not answer.
func CreateTopic(ctx context.Context, servers []string, name string, partitions, replication int) error {
	c, done := client(servers)
	defer done()
	res, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: name, NumPartitions: partitions, ReplicationFactor: replication}}})
	if err != nil {
		return unreachable(err)
	}
	switch err := res.Errors[name]; {
	case err == nil:
		return nil
	case errors.Is(err, kafka.TopicAlreadyExists):
		return ErrTopicExists
	case errors.Is(err, kafka.InvalidReplicationFactor):
		return &InvalidError{"replication_factor", err}
	case errors.Is(err, kafka.InvalidPartitionNumber):
		return &InvalidError{"partitions", err}
	case errors.Is(err, kafka.InvalidTopic):
		return &InvalidError{"name", err}
	default:
		return fmt.Errorf("create topic %q: %w", name, err)
	}
}

// ValidServer validates one bootstrap server: a non-empty host and a port
// in 1..65535. It returns the reason when it is not one.
func ValidServer(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return "must be host:port"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "must have a port between 1 and 65535"
	}
	return ""
}

package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/shared/join"
	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// mnProduce writes n records to each listed partition of topic.
func mnProduce(t *testing.T, brokers []string, topic string, perPartition map[int]int) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &partitionOf{}, BatchSize: 1000, BatchTimeout: time.Millisecond, AllowAutoTopicCreation: true}
	defer w.Close()
	var msgs []kafka.Message
	for p, n := range perPartition {
		for i := range n {
			msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprint(p)), Value: []byte(fmt.Sprintf(`{"id":"%d-%d"}`, p, i))})
		}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// partitionOf sends a message to the partition its key names.
type partitionOf struct{}

func (partitionOf) Balance(m kafka.Message, partitions ...int) int {
	var p int
	fmt.Sscan(string(m.Key), &p)
	return p
}

// mnCommit commits offset per partition of topic for group, as a consumer
// that has read that far would.
func mnCommit(t *testing.T, brokers []string, group, topic string, offsets map[int]int64) {
	t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	req := &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1, Topics: map[string][]kafka.OffsetCommit{}}
	for p, o := range offsets {
		req.Topics[topic] = append(req.Topics[topic], kafka.OffsetCommit{Partition: p, Offset: o})
	}
	resp, err := c.OffsetCommit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range resp.Topics {
		for _, p := range ps {
			if p.Error != nil {
				t.Fatalf("commit partition %d: %v", p.Partition, p.Error)
			}
		}
	}
}

// brokerLag computes lag per partition straight from the broker: high
// watermarks by ListOffsets minus the group's committed offsets by
// OffsetFetch, without the code under test.
func brokerLag(t *testing.T, brokers []string, group, topic string, partitions int) map[int]int64 {
	t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	ctx := context.Background()
	var reqs []kafka.OffsetRequest
	var ids []int
	for p := range partitions {
		reqs, ids = append(reqs, kafka.LastOffsetOf(p)), append(ids, p)
	}
	lo, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		t.Fatal(err)
	}
	of, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err != nil {
		t.Fatal(err)
	}
	committed := map[int]int64{}
	for _, p := range of.Topics[topic] {
		committed[p.Partition] = p.CommittedOffset
	}
	out := map[int]int64{}
	for _, p := range lo.Topics[topic] {
		out[p.Partition] = p.LastOffset - max(committed[p.Partition], 0)
	}
	return out
}

func TestWorkerMetricsLagEqualsTheBrokers(t *testing.T) {
	brokers := stacktest.Kfake(t, 3)
	rdb, _ := stacktest.Redis(t)
	e := newEnvOpts(t, []Option{WithRedis(rdb)}).withUsers()
	name := stacktest.Name(t, "lag")
	in, other, out := name+".in", name+".other", name+".out"
	w := e.wkCreate(fmt.Sprintf(`{"name":%q,"input_topics":[%q,%q],"output_topics":[%q],"kafka_bootstrap_server":%q}`,
		name, in, other, out, strings.Join(brokers, ",")))

	mnProduce(t, brokers, in, map[int]int{0: 10, 1: 7, 2: 4})
	mnProduce(t, brokers, other, map[int]int{0: 1, 1: 1, 2: 1})
	mnCommit(t, brokers, name, in, map[int]int64{0: 3, 1: 7}) // partition 2: nothing committed

	var m metricsJSON
	path := fmt.Sprintf("/api/v1/workers/%d/metrics", w.ID)
	e.do("GET", path, e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&m)
	want := brokerLag(t, brokers, name, in, 3)
	if want[0] != 7 || want[1] != 0 || want[2] != 4 {
		t.Fatalf("the test's own lag computation is off: %v", want)
	}
	var total int64
	seen := 0
	for _, p := range m.Lag.Partitions {
		if p.Topic != in {
			continue
		}
		seen++
		if p.Lag != want[p.Partition] {
			t.Errorf("partition %d: API lag %d, broker lag %d", p.Partition, p.Lag, want[p.Partition])
		}
		total += p.Lag
	}
	if seen != 3 || m.Lag.ByTopic[in] != total || m.Lag.ByTopic[other] != 3 || m.Lag.Total != total+3 {
		t.Fatalf("lag %+v; want 3 partitions of %s totalling %d plus 3 of %s", m.Lag, in, total, other)
	}
	if m.Throughput.WindowSeconds != 0 {
		t.Errorf("first sample has a window: %+v", m.Throughput)
	}

	// The worker moves on and writes output: the rates move.
	time.Sleep(1100 * time.Millisecond)
	mnCommit(t, brokers, name, in, map[int]int64{0: 10, 1: 7, 2: 4})
	mnProduce(t, brokers, out, map[int]int{0: 5})
	e.do("GET", path, e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&m)
	if m.Throughput.WindowSeconds < 1 || m.Throughput.InPerSec <= 0 || m.Throughput.OutPerSec <= 0 {
		t.Fatalf("throughput after progress %+v", m.Throughput)
	}
	if m.Lag.ByTopic[in] != 0 {
		t.Errorf("lag of %s after committing everything: %d", in, m.Lag.ByTopic[in])
	}

	// The cluster's groups show the same group and lag.
	var cl clusterJSON
	e.do("POST", "/api/v1/clusters", e.tokens[apiserver.RoleEditor], fmt.Sprintf(`{"name":"kf","bootstrap_servers":[%q]}`, brokers[0])).want(http.StatusCreated).decode(&cl)
	var groups []struct {
		ID     string `json:"id"`
		Lag    int64  `json:"lag"`
		Topics []struct {
			Topic string `json:"topic"`
			Lag   int64  `json:"lag"`
		} `json:"topics"`
	}
	e.do("GET", fmt.Sprintf("/api/v1/clusters/%d/groups", cl.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&groups)
	if len(groups) != 1 || groups[0].ID != name || len(groups[0].Topics) != 1 || groups[0].Topics[0].Topic != in || groups[0].Lag != 0 {
		t.Fatalf("groups %+v", groups)
	}
}

func TestWorkerMetricsHeartbeatsAndPending(t *testing.T) {
	brokers := stacktest.Kfake(t, 1)
	rdb, _ := stacktest.Redis(t)
	e := newEnvOpts(t, []Option{WithRedis(rdb)}).withUsers()
	name := stacktest.Name(t, "hb")
	w := e.wkCreate(fmt.Sprintf(`{"name":%q,"input_topics":["a","b"],"kafka_bootstrap_server":%q}`, name, brokers[0]))
	ctx := context.Background()
	now := time.Now().UTC()
	for i, inst := range []string{"alloc-1", "alloc-2"} {
		key := worker.HeartbeatKey(name, inst)
		t.Cleanup(func() { rdb.Del(context.Background(), key) })
		fields := map[string]any{"instance": inst, "host": "h", "version": "1.0.0", "config_version": "1",
			"started_at": now.Format(time.RFC3339), "updated_at": now.Format(time.RFC3339Nano),
			"consumed": 100, "emitted": 90, "joined": 90, "expired": i + 1, "dead_lettered": 2 * (i + 1), "last_error": ""}
		if i == 1 {
			fields["last_error"] = "process: content.text is not a string"
		}
		if err := rdb.HSet(ctx, key, fields).Err(); err != nil {
			t.Fatal(err)
		}
	}
	store, err := join.New(rdb, join.Options{Worker: name, Topics: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Add(ctx, []join.Fragment{{ID: "x1", Topic: "a", Value: []byte(`{"id":"x1"}`)},
		{ID: "x2", Topic: "a", Value: []byte(`{"id":"x2"}`)}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stacktest.DeleteKeys(context.Background(), rdb, "trib:{"+name+":*") })

	var m metricsJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d/metrics", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&m)
	if m.Instances.Heartbeats != 2 || m.Expired != 3 || m.DeadLettered != 6 {
		t.Fatalf("instances %+v expired %v dead-lettered %v", m.Instances, m.Expired, m.DeadLettered)
	}
	if m.PendingAggregates == nil || *m.PendingAggregates != 2 {
		t.Fatalf("pending %v, want 2", m.PendingAggregates)
	}
	if len(m.Errors) != 1 || m.Errors[0].Instance != "alloc-2" || !strings.Contains(m.Errors[0].Message, "not a string") {
		t.Fatalf("errors %+v", m.Errors)
	}
	// No Nomad configured: said, not failed.
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "Nomad") {
		t.Errorf("warnings %v", m.Warnings)
	}

	// A cluster that does not answer: 503 within the Kafka timeout.
	dead := e.wkCreate(fmt.Sprintf(`{"name":%q,"input_topics":["a"],"kafka_bootstrap_server":"127.0.0.1:1"}`, name+"-dead"))
	got := e.do("GET", fmt.Sprintf("/api/v1/workers/%d/metrics", dead.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusServiceUnavailable).errorOf()
	if !strings.Contains(got.Message, "Kafka") {
		t.Errorf("unreachable cluster: %q", got.Message)
	}
}

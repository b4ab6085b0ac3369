package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/throughput"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/join"
	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// mnWorker inserts a worker row the way the runtime's table holds it,
// without going through the workers routes, and returns its id.
func mnWorker(e *env, name string, inputs, outputs []string, bootstrap string) int64 {
	e.t.Helper()
	in, _ := json.Marshal(inputs)
	out, _ := json.Marshal(outputs)
	res, err := e.sql.Exec(`INSERT INTO consumer_configs (consumer_name, topics_input, topics_output, kafka_bootstrap_server)
		VALUES (?, ?, ?, ?)`, name, in, out, bootstrap)
	if err != nil {
		e.t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return id
}

// mnProduce writes counts[p] records to partition p of topic.
func mnProduce(t *testing.T, brokers []string, topic string, counts map[int]int) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: mnKeyIsPartition{},
		BatchTimeout: time.Millisecond, AllowAutoTopicCreation: true}
	defer w.Close()
	var msgs []kafka.Message
	for p, n := range counts {
		for i := range n {
			msgs = append(msgs, kafka.Message{Key: []byte(strconv.Itoa(p)), Value: fmt.Appendf(nil, `{"id":"%d-%d"}`, p, i)})
		}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// mnKeyIsPartition sends a record to the partition its key names.
type mnKeyIsPartition struct{}

func (mnKeyIsPartition) Balance(m kafka.Message, _ ...int) int {
	p, _ := strconv.Atoi(string(m.Key))
	return p
}

// mnConsume reads n records of topic in consumer group group, committing
// each after reading it as a worker does, then leaves the group.
func mnConsume(t *testing.T, brokers []string, group, topic string, n int) {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: group, Topic: topic,
		MaxWait: 50 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond, SessionTimeout: time.Second})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
}

// mnBrokerLag computes the lag of group on each partition of topic from
// the broker, without the code under test: the leader's last offset on a
// plain connection minus the offset OffsetFetch returns (none counts as 0).
func mnBrokerLag(t *testing.T, brokers []string, group, topic string, partitions int) map[int]int64 {
	t.Helper()
	ctx := context.Background()
	ids := make([]int, partitions)
	for p := range ids {
		ids[p] = p
	}
	of, err := (&kafka.Client{Addr: kafka.TCP(brokers...)}).OffsetFetch(ctx,
		&kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err != nil {
		t.Fatal(err)
	}
	committed := map[int]int64{}
	for _, p := range of.Topics[topic] {
		committed[p.Partition] = max(p.CommittedOffset, 0)
	}
	out := map[int]int64{}
	for _, p := range ids {
		conn, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, p)
		if err != nil {
			t.Fatal(err)
		}
		last, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[p] = last - committed[p]
	}
	return out
}

// mnMetrics reads a worker's metrics as a viewer.
func mnMetrics(e *env, id int64) metricsJSON {
	e.t.Helper()
	var m metricsJSON
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d/metrics", id), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&m)
	return m
}

// mnCheckLag fails unless the API's lag of topic equals the broker's, per
// partition, and the totals add up.
func mnCheckLag(t *testing.T, m metricsJSON, topic string, want map[int]int64) {
	t.Helper()
	var sum, total int64
	seen := 0
	for _, p := range m.Lag.Partitions {
		total += p.Lag
		if p.Topic != topic {
			continue
		}
		seen++
		sum += p.Lag
		if p.Lag != want[p.Partition] || p.HighWatermark-max(p.Committed, 0) != p.Lag {
			t.Errorf("partition %d: API %+v, broker lag %d", p.Partition, p, want[p.Partition])
		}
	}
	if seen != len(want) || m.Lag.ByTopic[topic] != sum || m.Lag.Total != total {
		t.Errorf("lag %+v: want %d partitions of %s, by_topic and total adding up", m.Lag, len(want), topic)
	}
}

func mnSum(lag map[int]int64) (n int64) {
	for _, l := range lag {
		n += l
	}
	return n
}

func mnNear(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

func TestMonitoringLagEqualsTheBroker(t *testing.T) {
	brokers := stacktest.Kfake(t, 3)
	rdb, _ := stacktest.Redis(t)
	e := newEnvOpts(t, []Option{WithRedis(rdb)}).withUsers()
	name := stacktest.Name(t, "lag")
	in, never, out := name+".in", name+".never", name+".out"
	id := mnWorker(e, name, []string{in, never}, []string{out}, strings.Join(brokers, ","))

	mnProduce(t, brokers, in, map[int]int{0: 10, 1: 7, 2: 4})
	mnConsume(t, brokers, name, in, 8)
	want := mnBrokerLag(t, brokers, name, in, 3)
	if mnSum(want) != 21-8 {
		t.Fatalf("the test's own lag %v should total 13 after consuming 8 of 21", want)
	}
	m := mnMetrics(e, id)
	mnCheckLag(t, m, in, want)
	if m.Lag.Total != 13 || m.Worker != name {
		t.Errorf("worker %q total %d, want 13", m.Worker, m.Lag.Total)
	}
	if tp := m.Throughput; tp.InPerSec != 0 || tp.OutPerSec != 0 || tp.WindowSeconds != 0 || tp.Source != throughput.SourceSampler {
		t.Errorf("first call: %+v, want zeros and no window from the sampler", m.Throughput)
	}
	// The sampler reads the offsets on its own clock: wait for a second
	// reading before the worker moves.
	mnThroughputUntil(e, id, "a window", func(tp throughput.Throughput) bool { return tp.WindowSeconds > 0 })
	if !mnWarned(m, never) {
		t.Errorf("warnings %v should name %s, never written", m.Warnings, never)
	}

	// The worker moves on and writes output: the rates are the deltas over
	// the sampler's window, whoever asks.
	mnConsume(t, brokers, name, in, 6)
	mnProduce(t, brokers, out, map[int]int{0: 4, 2: 1})
	m = mnMetrics(e, id)
	want = mnBrokerLag(t, brokers, name, in, 3)
	mnCheckLag(t, m, in, want)
	tp := mnThroughputUntil(e, id, "6 in and 5 out over the window", func(tp throughput.Throughput) bool {
		return tp.WindowSeconds > 0 && mnNear(tp.InPerSec*tp.WindowSeconds, 6) && mnNear(tp.OutPerSec*tp.WindowSeconds, 5)
	})
	if !mnNear(tp.InPerSecByTopic[in]*tp.WindowSeconds, 6) || tp.InPerSecByTopic[never] != 0 {
		t.Errorf("throughput of %s %+v, want 6 over the window", in, tp.InPerSecByTopic)
	}

	// The cluster's groups show the same group and lag.
	var cl clusterJSON
	e.do("POST", "/api/v1/clusters", e.tokens[apiserver.RoleEditor],
		fmt.Sprintf(`{"name":"kf","bootstrap_servers":[%q]}`, brokers[0])).want(http.StatusCreated).decode(&cl)
	var groups []struct {
		ID     string `json:"id"`
		State  string `json:"state"`
		Lag    int64  `json:"lag"`
		Topics []struct {
			Topic      string `json:"topic"`
			Partitions int    `json:"partitions"`
			Lag        int64  `json:"lag"`
		} `json:"topics"`
	}
	e.do("GET", fmt.Sprintf("/api/v1/clusters/%d/groups", cl.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&groups)
	if len(groups) != 1 || groups[0].ID != name || groups[0].Lag != mnSum(want) || len(groups[0].Topics) != 1 ||
		groups[0].Topics[0].Topic != in || groups[0].Topics[0].Partitions != 3 || groups[0].State == "" {
		t.Fatalf("groups %+v, want %s lagging %d on %s", groups, name, mnSum(want), in)
	}
}

// mnThroughputUntil polls the worker's metrics until ok accepts their
// throughput, for at most 20 s, and returns it.
func mnThroughputUntil(e *env, id int64, what string, ok func(throughput.Throughput) bool) throughput.Throughput {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := mnMetrics(e, id)
		if ok(m.Throughput) {
			return m.Throughput
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("throughput never showed %s: %+v", what, m.Throughput)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

func mnWarned(m metricsJSON, s string) bool {
	for _, w := range m.Warnings {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

// mnBeat writes a heartbeat with the commands and fields of the runtime's
// own (unexported) beat in shared/worker: HSET and EXPIRE in a pipeline.
func mnBeat(t *testing.T, rdb redis.UniversalClient, name, instance string, expired, deadLettered int, lastErr string) {
	t.Helper()
	ctx := context.Background()
	key := worker.HeartbeatKey(name, instance)
	pipe := rdb.Pipeline()
	pipe.HSet(ctx, key, map[string]any{"instance": instance, "host": "h", "version": "1.0.0", "config_version": 1,
		"started_at": time.Now().UTC().Format(time.RFC3339), "updated_at": time.Now().UTC().Format(time.RFC3339Nano),
		"consumed": 100.0, "emitted": 90.0, "joined": 90.0, "expired": float64(expired),
		"dead_lettered": float64(deadLettered), "last_error": lastErr})
	pipe.Expire(ctx, key, 15*time.Second)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Del(context.Background(), key) })
}

func TestMonitoringHeartbeatsPendingAndDeadLetters(t *testing.T) {
	brokers := stacktest.Kfake(t, 1)
	rdb, _ := stacktest.Redis(t)
	sched := mnScheduler(t)
	e := newEnvOpts(t, []Option{WithRedis(rdb), WithScheduler(sched)}).withUsers()
	name := stacktest.Name(t, "hb")
	inputs := []string{name + ".a", name + ".b"}
	id := mnWorker(e, name, inputs, nil, brokers[0])
	mnBeat(t, rdb, name, "alloc-1", 1, 2, "")
	mnBeat(t, rdb, name, "alloc-2", 2, 4, "process: content.text is not a string")
	mnBeat(t, rdb, name+"-other", "alloc-3", 50, 50, "not ours")
	mnProduce(t, brokers, name+".dlq", map[int]int{0: 3})

	ctx := context.Background()
	store, err := join.New(rdb, join.Options{Worker: name, Topics: inputs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stacktest.DeleteKeys(context.Background(), rdb, "trib:{"+name+":*") })
	if _, err := store.Add(ctx, []join.Fragment{{ID: "x1", Topic: inputs[0], Value: []byte(`{"id":"x1"}`)},
		{ID: "x2", Topic: inputs[1], Value: []byte(`{"id":"x2"}`)}}, time.Now()); err != nil {
		t.Fatal(err)
	}

	m := mnMetrics(e, id)
	in := m.Instances
	if in.Heartbeats == nil || *in.Heartbeats != 2 || len(in.Alive) != 2 || in.Alive[0].Instance != "alloc-1" || in.Alive[1].Consumed != 100 {
		t.Fatalf("instances %+v", in)
	}
	if m.Expired == nil || *m.Expired != 3 || m.DeadLettered == nil || *m.DeadLettered != 6 {
		t.Errorf("expired %v dead-lettered %v, want 3 and 6", m.Expired, m.DeadLettered)
	}
	if m.DeadLetterTopic.Topic != name+".dlq" || m.DeadLetterTopic.Records != 3 {
		t.Errorf("dead-letter topic %+v, want 3 records in %s.dlq", m.DeadLetterTopic, name)
	}
	if m.PendingAggregates == nil || *m.PendingAggregates != 2 {
		t.Errorf("pending %v, want 2", m.PendingAggregates)
	}
	if len(m.Errors) != 1 || m.Errors[0].Instance != "alloc-2" || !strings.Contains(m.Errors[0].Message, "not a string") {
		t.Errorf("errors %+v", m.Errors)
	}
	// Nomad answers: never deployed, so nothing runs and nothing is wanted.
	if in.AllocationsRunning == nil || *in.AllocationsRunning != 0 || in.AllocationsDesired == nil || *in.AllocationsDesired != 0 {
		t.Errorf("allocations %v/%v, want 0/0", in.AllocationsRunning, in.AllocationsDesired)
	}
	if mnWarned(m, "Nomad") || mnWarned(m, "Redis") {
		t.Errorf("warnings %v", m.Warnings)
	}
}

// TestMonitoringDegraded: without Redis or Nomad the rest still answers,
// their sections null and a warning saying why; a dead cluster is a 503.
func TestMonitoringDegraded(t *testing.T) {
	brokers := stacktest.Kfake(t, 1)
	e := newEnv(t, func(c *config.Config) { c.KafkaTimeout = 2 * time.Second }).withUsers()
	id := mnWorker(e, "alone", []string{"a", "b"}, []string{"c"}, brokers[0])
	mnProduce(t, brokers, "a", map[int]int{0: 4})
	var raw map[string]json.RawMessage
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d/metrics", id), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&raw)
	var inst map[string]json.RawMessage
	json.Unmarshal(raw["instances"], &inst)
	for _, v := range []json.RawMessage{raw["pending_aggregates"], raw["expired"], raw["dead_lettered"], raw["errors"],
		inst["heartbeats"], inst["alive"], inst["allocations_running"], inst["allocations_desired"]} {
		if string(v) != "null" {
			t.Errorf("%s in %s / %s, want null", v, raw, inst)
		}
	}
	m := mnMetrics(e, id)
	if m.Lag.Total != 4 || !mnWarned(m, "Redis is not configured") || !mnWarned(m, "Nomad is not configured") {
		t.Errorf("lag %d warnings %v", m.Lag.Total, m.Warnings)
	}

	dead := mnWorker(e, "dead", []string{"a"}, nil, "127.0.0.1:1")
	got := e.do("GET", fmt.Sprintf("/api/v1/workers/%d/metrics", dead), e.tokens[apiserver.RoleViewer], "").want(http.StatusServiceUnavailable).errorOf()
	if !strings.Contains(got.Message, "Kafka cluster did not answer") {
		t.Errorf("dead cluster: %q", got.Message)
	}
	var cl clusterJSON
	e.do("POST", "/api/v1/clusters", e.tokens[apiserver.RoleEditor], `{"name":"dead","bootstrap_servers":["127.0.0.1:1"]}`).want(http.StatusCreated).decode(&cl)
	e.do("GET", fmt.Sprintf("/api/v1/clusters/%d/groups", cl.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusServiceUnavailable)

	for _, path := range []string{"/api/v1/workers/999/metrics", "/api/v1/workers/x/metrics", "/api/v1/clusters/999/groups"} {
		e.do("GET", path, e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)
	}
	e.do("GET", fmt.Sprintf("/api/v1/workers/%d/metrics", id), "", "").want(http.StatusUnauthorized)
}

// mnScheduler is a scheduler on the stack's Nomad.
func mnScheduler(t *testing.T) *scheduler.Scheduler {
	t.Helper()
	nc, err := nomad.NewClient(&nomad.Config{Address: stacktest.Nomad(t)})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(nc, "../../jobs/worker.nomad.hcl")
	if err != nil {
		t.Fatal(err)
	}
	return sched
}

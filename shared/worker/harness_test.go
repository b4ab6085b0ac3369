package worker

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

// env is one test's slice of the stack: brokers, a Redis client and a
// unique name stem for topics, groups and keys.
type env struct {
	t       testing.TB
	brokers []string
	rdb     *redis.Client
	name    string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	brokers := stacktest.Kafka(t)
	rdb, prefix := stacktest.Redis(t)
	e := &env{t: t, brokers: brokers, rdb: rdb, name: strings.ReplaceAll(prefix, "_", "-")}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = stacktest.DeleteKeys(ctx, rdb, "trib:{"+e.name+"*")
		_, _ = stacktest.DeleteKeys(ctx, rdb, "tributary:heartbeat:{"+e.name+"*")
	})
	return e
}

func (e *env) topic(suffix string) string { return e.name + "." + suffix }

// scanKeys lists the keys of type typ matching pattern.
func (e *env) scanKeys(pattern, typ string) []string {
	e.t.Helper()
	ctx := context.Background()
	var keys []string
	iter := e.rdb.ScanType(ctx, 0, pattern, 10000, typ).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		e.t.Fatal(err)
	}
	return keys
}

// createTopics creates topics with the given partition count.
func (e *env) createTopics(partitions int, topics ...string) {
	e.t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(e.brokers...)}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: 1})
	}
	resp, err := c.CreateTopics(context.Background(), req)
	if err != nil {
		e.t.Fatalf("create topics: %v", err)
	}
	for t, err := range resp.Errors {
		if err != nil {
			e.t.Fatalf("create topic %s: %v", t, err)
		}
	}
}

// config is a worker config over the env's brokers and Redis.
func (e *env) config(name string, in, out []string) Config {
	return Config{ConsumerName: e.name + "-" + name, TopicsInput: in, TopicsOutput: out, Brokers: e.brokers,
		RedisAddr: e.rdb.Options().Addr, Instance: name, SessionTimeout: 6 * time.Second,
		HeartbeatPeriod: time.Second}
}

// start runs a worker until the test ends (or stop is called) and returns it.
func (e *env) start(cfg Config, f Function, tp trace.TracerProvider) (*Worker, func()) {
	e.t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr})
	w, err := New(cfg, f, rdb, tp, testLogger(e.t))
	if err != nil {
		e.t.Fatalf("new worker: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("worker %s: %v", cfg.ConsumerName, err)
			}
			rdb.Close()
		})
	}
	e.t.Cleanup(stop)
	return w, stop
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// partitionBalancer sends each message to the partition it names.
type partitionBalancer struct{}

func (partitionBalancer) Balance(m kafka.Message, partitions ...int) int { return m.Partition }

// produce writes msgs, each to its Topic and, when partitioned is true, its
// Partition; it waits for every acknowledgement.
func (e *env) produce(msgs []kafka.Message, partitioned bool) {
	e.t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(e.brokers...), RequiredAcks: kafka.RequireAll, BatchSize: 1000,
		BatchTimeout: 2 * time.Millisecond, AllowAutoTopicCreation: true}
	if partitioned {
		w.Balancer = partitionBalancer{}
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < len(msgs); i += 5000 {
		batch := msgs[i:min(i+5000, len(msgs))]
		if err := w.WriteMessages(ctx, batch...); err != nil {
			e.t.Fatalf("produce: %v", err)
		}
	}
}

// consume is stacktest.Consume on the env's broker.
func (e *env) consume(topic string, n int, timeout, extra time.Duration) []kafka.Message {
	e.t.Helper()
	return stacktest.Consume(e.t, e.brokers, topic, n, timeout, extra)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

func decodeObject(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("output %q is not a JSON object: %v", b, err)
	}
	return m
}

// passthrough is the identity function.
var passthrough = Function{Process: func(_ context.Context, in Input) ([]Record, error) {
	return []Record{{Value: in.Value}}, nil
}}

// single is a Function of the message alone that returns one record, or
// none when f returns nil.
func single(f func(ctx context.Context, msg json.RawMessage) (json.RawMessage, error)) Function {
	return Function{Process: func(ctx context.Context, in Input) ([]Record, error) {
		out, err := f(ctx, in.Value)
		if out == nil || err != nil {
			return nil, err
		}
		return []Record{{Value: out}}, nil
	}}
}

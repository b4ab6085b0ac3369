package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// Bad input of every kind goes to the dead-letter topic with its reason; the
// worker keeps consuming and its offsets reach the end of the partitions.
func TestBadInputIsDeadLettered(t *testing.T) {
	e := newEnv(t)
	in1, in2, out, dlq := e.topic("p"), e.topic("q"), e.topic("out"), e.topic("dlq")
	e.createTopics(1, in1, in2, out, dlq)
	cfg := e.config("bad", []string{in1, in2}, []string{out})
	cfg.DeadLetter = dlq
	cfg.MaxMessageBytes = 256
	cfg.RetryBackoff = 10 * time.Millisecond
	var calls atomic.Int64
	e.start(cfg, single(func(_ context.Context, msg json.RawMessage) (json.RawMessage, error) {
		calls.Add(1)
		var v struct{ ID string }
		_ = json.Unmarshal(msg, &v)
		switch {
		case strings.HasPrefix(v.ID, "fail"):
			return nil, errors.New("backend unavailable")
		case strings.HasPrefix(v.ID, "panic"):
			panic("nil map write")
		case strings.HasPrefix(v.ID, "reject"):
			return nil, &Rejected{errors.New("content.text: must not be empty")}
		case strings.HasPrefix(v.ID, "array"):
			return json.RawMessage(`[1,2]`), nil
		}
		return msg, nil
	}), nil)

	bad := []struct{ value, class, reason string }{
		{`not json at all`, ClassNotJSON, "not a JSON object"},
		{`[1,2,3]`, ClassNotJSON, "not a JSON object"},
		{`{"id":"x",`, ClassNotJSON, "not valid JSON"},
		{`{"id":"x"} trailing`, ClassNotJSON, "trailing data"},
		{`{"name":"no id"}`, ClassMissingKey, `no field "id"`},
		{`{"id":{"nested":1}}`, ClassBadKey, "not an object"},
		{`{"id":1.5}`, ClassBadKey, "not an integer"},
		{`{"id":""}`, ClassBadKey, "empty string"},
		{`{"id":null}`, ClassBadKey, "not null"},
		{`{"id":"big","pad":"` + strings.Repeat("x", 300) + `"}`, ClassTooLarge, "limit is 256"},
	}
	var msgs []kafka.Message
	for _, b := range bad {
		msgs = append(msgs, kafka.Message{Topic: in1, Value: []byte(b.value)})
	}
	// Aggregates whose function fails, panics, rejects or returns garbage.
	funcs := []struct{ id, class, reason string }{
		{"fail-1", ClassProcess, "backend unavailable"},
		{"panic-1", ClassPanic, "nil map write"},
		{"reject-1", ClassRejected, "content.text: must not be empty"},
		{"array-1", ClassBadOutput, "not a JSON object"},
	}
	for _, f := range funcs {
		msgs = append(msgs, kafka.Message{Topic: in1, Value: []byte(fmt.Sprintf(`{"id":%q}`, f.id))},
			kafka.Message{Topic: in2, Value: []byte(fmt.Sprintf(`{"id":%q}`, f.id))})
	}
	// Good messages after all that still flow.
	msgs = append(msgs, kafka.Message{Topic: in1, Value: []byte(`{"id":"good"}`)},
		kafka.Message{Topic: in2, Value: []byte(`{"id":"good","ok":true}`)})
	e.produce(msgs, false)

	outs := e.consume(out, 1, time.Minute, 0)
	if string(outs[0].Key) != "good" {
		t.Fatalf("output %q, want the good id", outs[0].Key)
	}
	dead := e.consume(dlq, len(bad)+len(funcs), time.Minute, time.Second)
	if len(dead) != len(bad)+len(funcs) {
		t.Fatalf("%d dead letters, want %d", len(dead), len(bad)+len(funcs))
	}
	byValue := map[string]map[string]string{}
	byID := map[string]map[string]string{}
	for _, m := range dead {
		hs := map[string]string{}
		for _, h := range m.Headers {
			hs[h.Key] = string(h.Value)
		}
		if hs[HeaderWorker] != cfg.ConsumerName || hs[HeaderSourceTopic] == "" || hs[HeaderSourceOffset] == "" || hs[HeaderSourcePartition] == "" {
			t.Fatalf("dead letter lacks its source headers: %v", hs)
		}
		if id := hs[HeaderJoinID]; id != "" {
			byID[id] = hs
		} else {
			byValue[string(m.Value)] = hs
		}
	}
	for _, b := range bad {
		hs, ok := byValue[b.value]
		if !ok {
			t.Errorf("no dead letter for %.40q", b.value)
			continue
		}
		if hs[HeaderErrorClass] != b.class || !strings.Contains(hs[HeaderErrorMessage], b.reason) {
			t.Errorf("%.40q: class %q message %q, want %q containing %q", b.value, hs[HeaderErrorClass], hs[HeaderErrorMessage], b.class, b.reason)
		}
		if hs[HeaderSourceTopic] != in1 {
			t.Errorf("%.40q: source topic %q, want %q", b.value, hs[HeaderSourceTopic], in1)
		}
	}
	for _, f := range funcs {
		hs, ok := byID[f.id]
		if !ok {
			t.Errorf("no dead letter for aggregate %s", f.id)
			continue
		}
		if hs[HeaderErrorClass] != f.class || !strings.Contains(hs[HeaderErrorMessage], f.reason) {
			t.Errorf("%s: class %q message %q, want %q containing %q", f.id, hs[HeaderErrorClass], hs[HeaderErrorMessage], f.class, f.reason)
		}
	}
	// fail-1 was tried 1 + ProcessRetries times; reject-1 once.
	if got, want := calls.Load(), int64(1+3+3+1+1+1); got < want {
		t.Errorf("%d function calls, want at least %d (retries of failures)", got, want)
	}
	// Offsets advance to the end of both input partitions.
	waitFor(t, 30*time.Second, "committed offsets at the end of the inputs", func() bool {
		return lagOf(t, e, cfg.ConsumerName, in1) == 0 && lagOf(t, e, cfg.ConsumerName, in2) == 0
	})
}

// lagOf is the group's lag on partition 0 of topic (high watermark minus
// committed offset), or -1 when unknown.
func lagOf(t *testing.T, e *env, group, topic string) int64 {
	c := &kafka.Client{Addr: kafka.TCP(e.brokers...)}
	ctx := context.Background()
	of, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0}}})
	if err != nil || len(of.Topics[topic]) == 0 {
		return -1
	}
	lo, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(0)}}})
	if err != nil || len(lo.Topics[topic]) == 0 {
		return -1
	}
	return lo.Topics[topic][0].LastOffset - of.Topics[topic][0].CommittedOffset
}

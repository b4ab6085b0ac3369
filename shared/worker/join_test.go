package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// Two-topic join: 10,000 ids whose two fragments arrive in random order over
// 6 partitions per topic give exactly 10,000 outputs on each of two output
// topics, each merged by the join rules and keyed by its id.
func TestTwoTopicJoin(t *testing.T) {
	e := newEnv(t)
	in1, in2, out1, out2 := e.topic("in1"), e.topic("in2"), e.topic("out1"), e.topic("out2")
	e.createTopics(6, in1, in2, out1, out2)
	const n = 10000

	var msgs []kafka.Message
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("doc-%d", i)
		msgs = append(msgs,
			kafka.Message{Topic: in1, Key: []byte(id), Value: []byte(fmt.Sprintf(
				`{"id":%q,"source":"in1","content":{"text":"t%d","shared":"from-in1"},"n":%d}`, id, i, i))},
			kafka.Message{Topic: in2, Key: []byte(id), Value: []byte(fmt.Sprintf(
				`{"id":%q,"source":"in2","content":{"language":"en","shared":"from-in2"}}`, id))})
	}
	rand.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })

	cfg := e.config("join2", []string{in1, in2}, []string{out1, out2})
	w, _ := e.start(cfg, passthrough, nil)
	e.produce(msgs, false)

	for _, topic := range []string{out1, out2} {
		got := e.consume(topic, n, 2*time.Minute, time.Second)
		if len(got) != n {
			t.Fatalf("%s: %d outputs, want exactly %d", topic, len(got), n)
		}
		seen := map[string]bool{}
		for _, m := range got {
			v := decodeObject(t, m.Value)
			id, _ := v["id"].(string)
			if string(m.Key) != id {
				t.Fatalf("%s: key %q but id %q", topic, m.Key, id)
			}
			if seen[id] {
				t.Fatalf("%s: id %s emitted twice", topic, id)
			}
			seen[id] = true
			content, _ := v["content"].(map[string]any)
			var num int
			fmt.Sscanf(id, "doc-%d", &num)
			// content merges key by key; other keys overwrite; the later
			// fragment wins where both have a key.
			if content["text"] != fmt.Sprintf("t%d", num) || content["language"] != "en" {
				t.Fatalf("%s: id %s content %v lacks a fragment's keys", topic, id, content)
			}
			if v["n"] != float64(num) {
				t.Fatalf("%s: id %s n = %v, want %d", topic, id, v["n"], num)
			}
			src := v["source"]
			if (src == "in1") != (content["shared"] == "from-in1") {
				t.Fatalf("%s: id %s: source %v but content.shared %v: the same fragment must win both", topic, id, src, content["shared"])
			}
		}
	}
	if got := counterValue(w.m.joined); got != n {
		t.Fatalf("joined counter = %v, want %d", got, n)
	}
	waitFor(t, 10*time.Second, "no pending aggregates", func() bool {
		p, err := w.store.Pending(context.Background())
		return err == nil && p == 0
	})
}

// Three instances in one group, each id's two fragments on partitions that
// different instances own: every id is emitted exactly once.
func TestThreeInstancesEmitEachIDOnce(t *testing.T) {
	e := newEnv(t)
	in1, in2, out := e.topic("a"), e.topic("b"), e.topic("out")
	e.createTopics(6, in1, in2, out)
	cfg := e.config("three", []string{in1, in2}, []string{out})
	var workers []*Worker
	for i := 0; i < 3; i++ {
		c := cfg
		c.Instance = fmt.Sprintf("i%d", i)
		w, _ := e.start(c, passthrough, nil)
		workers = append(workers, w)
	}
	waitForMembers(t, e, cfg.ConsumerName, 3)

	// With 3 members and 6 partitions, the range assignor gives each member
	// two adjacent partitions of each topic (0-1, 2-3, 4-5): partition p of
	// one topic and (p+2)%6 of the other always belong to different members.
	const n = 3000
	var msgs []kafka.Message
	for i := 0; i < n; i++ {
		id := fmt.Sprint(i)
		p := i % 6
		msgs = append(msgs,
			kafka.Message{Topic: in1, Partition: p, Value: []byte(fmt.Sprintf(`{"id":%d,"a":1}`, i))},
			kafka.Message{Topic: in2, Partition: (p + 2) % 6, Value: []byte(fmt.Sprintf(`{"id":"%s","b":2}`, id))})
	}
	rand.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	e.produce(msgs, true)

	got := e.consume(out, n, 2*time.Minute, 2*time.Second)
	seen := map[string]int{}
	for _, m := range got {
		seen[string(m.Key)]++
	}
	for i := 0; i < n; i++ {
		if c := seen[fmt.Sprint(i)]; c != 1 {
			t.Fatalf("id %d emitted %d times, want 1 (%d outputs for %d ids)", i, c, len(got), n)
		}
	}
	busy := 0
	for _, w := range workers {
		if counterValue(w.m.joined) > 0 {
			busy++
		}
	}
	if busy < 2 {
		t.Fatalf("only %d of 3 instances completed joins: the group did not spread the partitions", busy)
	}
}

func waitForMembers(t testing.TB, e *env, group string, n int) {
	t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(e.brokers...)}
	waitFor(t, 60*time.Second, fmt.Sprintf("%d members in group %s", n, group), func() bool {
		resp, err := c.DescribeGroups(context.Background(), &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err != nil || len(resp.Groups) != 1 {
			return false
		}
		g := resp.Groups[0]
		if g.GroupState != "Stable" || len(g.Members) != n {
			return false
		}
		for _, m := range g.Members {
			if len(m.MemberAssignments.Topics) == 0 {
				return false
			}
		}
		return true
	})
}

// Without an expiry topic, expired joins go to the dead-letter topic with
// the reason in their headers: never dropped.
func TestExpiredJoinsGoToDeadLetterWithoutExpiryTopic(t *testing.T) {
	e := newEnv(t)
	in1, in2, out := e.topic("x"), e.topic("y"), e.topic("out")
	cfg := e.config("expire-dlq", []string{in1, in2}, []string{out})
	cfg.DeadLetter = e.topic("dlq")
	e.createTopics(3, in1, in2, out, cfg.DeadLetter)
	cfg.Timeout = 2 * time.Second
	cfg.SweepInterval = 200 * time.Millisecond
	e.start(cfg, passthrough, nil)

	const n = 20
	var msgs []kafka.Message
	for i := 0; i < n; i++ {
		msgs = append(msgs, kafka.Message{Topic: in2, Value: []byte(fmt.Sprintf(`{"id":"half-%d","b":%d}`, i, i))})
	}
	e.produce(msgs, false)
	got := e.consume(cfg.DeadLetter, n, time.Minute, time.Second)
	if len(got) != n {
		t.Fatalf("%d dead letters, want %d expired joins", len(got), n)
	}
	for _, m := range got {
		hs := map[string]string{}
		for _, h := range m.Headers {
			hs[h.Key] = string(h.Value)
		}
		if hs[HeaderErrorClass] != ClassExpired || hs[HeaderExpired] != "true" || !strings.Contains(hs[HeaderErrorMessage], "timed out") ||
			hs[HeaderJoinTopics] != in2 {
			t.Fatalf("dead letter headers %v", hs)
		}
	}
}

// Incomplete ids expire after the timeout: counted, published to the expiry
// topic with what arrived, and no Redis keys left.
func TestIncompleteJoinsExpire(t *testing.T) {
	e := newEnv(t)
	in1, in2, out, expiry := e.topic("x"), e.topic("y"), e.topic("out"), e.topic("expired")
	e.createTopics(3, in1, in2, out, expiry)
	cfg := e.config("expire", []string{in1, in2}, []string{out})
	cfg.Timeout = 2 * time.Second
	cfg.ExpiryTopic = expiry
	cfg.SweepInterval = 200 * time.Millisecond
	w, _ := e.start(cfg, passthrough, nil)

	const n = 50
	var msgs []kafka.Message
	for i := 0; i < n; i++ {
		msgs = append(msgs, kafka.Message{Topic: in1, Value: []byte(fmt.Sprintf(`{"id":"lonely-%d","content":{"text":"only half"}}`, i))})
	}
	// One complete id as a control: it must not expire.
	msgs = append(msgs, kafka.Message{Topic: in1, Value: []byte(`{"id":"whole","a":1}`)},
		kafka.Message{Topic: in2, Value: []byte(`{"id":"whole","b":1}`)})
	sent := time.Now()
	e.produce(msgs, false)

	got := e.consume(expiry, n, time.Minute, time.Second)
	elapsed := time.Since(sent)
	if len(got) != n {
		t.Fatalf("%d expired records, want %d", len(got), n)
	}
	if elapsed < cfg.Timeout {
		t.Fatalf("aggregates expired after %v, before their %v timeout", elapsed, cfg.Timeout)
	}
	for _, m := range got {
		hs := map[string]string{}
		for _, h := range m.Headers {
			hs[h.Key] = string(h.Value)
		}
		if hs[HeaderExpired] != "true" || hs[HeaderJoinTopics] != in1 || hs[HeaderWorker] != cfg.ConsumerName {
			t.Fatalf("expired record headers %v", hs)
		}
		v := decodeObject(t, m.Value)
		if v["content"].(map[string]any)["text"] != "only half" {
			t.Fatalf("expired record lost its fragment: %s", m.Value)
		}
	}
	outs := e.consume(out, 1, 30*time.Second, 500*time.Millisecond)
	if len(outs) != 1 || string(outs[0].Key) != "whole" {
		t.Fatalf("outputs %v, want only id whole", outs)
	}
	waitFor(t, 10*time.Second, "expired counter", func() bool { return counterValue(w.m.expired) == n })
	// Joins are hashes (shared/join/doc.go): none is left once every expiry
	// record is acknowledged and confirmed.
	var keys []string
	waitFor(t, 10*time.Second, "expiry claims confirmed", func() bool {
		keys = e.scanKeys("trib:{"+cfg.ConsumerName+":*}:[jx]:*", "hash")
		return len(keys) == 0
	})
}

// A single-input worker writes nothing to Redis but its heartbeat.
func TestSingleInputNeedsNoJoinState(t *testing.T) {
	e := newEnv(t)
	in, out := e.topic("in"), e.topic("out")
	e.createTopics(3, in, out)
	cfg := e.config("single", []string{in}, []string{out})
	w, _ := e.start(cfg, single(func(_ context.Context, msg json.RawMessage) (json.RawMessage, error) {
		var v map[string]any
		_ = json.Unmarshal(msg, &v)
		v["seen"] = true
		return json.Marshal(v)
	}), nil)
	if w.store != nil {
		t.Fatal("single-input worker has a join store")
	}
	var msgs []kafka.Message
	for i := 0; i < 200; i++ {
		msgs = append(msgs, kafka.Message{Topic: in, Value: []byte(fmt.Sprintf(`{"id":%d}`, i))})
	}
	e.produce(msgs, false)
	got := e.consume(out, 200, time.Minute, 0)
	for _, m := range got {
		if decodeObject(t, m.Value)["seen"] != true {
			t.Fatalf("output %s not processed", m.Value)
		}
	}
	keys, _ := e.rdb.Keys(context.Background(), "trib:{"+cfg.ConsumerName+"*").Result()
	if len(keys) != 0 {
		t.Fatalf("single-input worker wrote join state: %v", keys)
	}

	// The heartbeat in Redis reports the instance and its counters, with a TTL.
	hb := HeartbeatKey(cfg.ConsumerName, cfg.Instance)
	waitFor(t, 10*time.Second, "a heartbeat counting 200 messages", func() bool {
		v, err := e.rdb.HGetAll(context.Background(), hb).Result()
		return err == nil && v["consumed"] == "200" && v["emitted"] == "200" && v["instance"] == cfg.Instance
	})
	if ttl := e.rdb.TTL(context.Background(), hb).Val(); ttl <= 0 || ttl > 3*cfg.HeartbeatPeriod {
		t.Fatalf("heartbeat TTL %v, want within (0, %v]", ttl, 3*cfg.HeartbeatPeriod)
	}

	// /healthz answers 200 while the loop turns; /metrics counts the messages.
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := metric(strings.TrimPrefix(srv.URL, "http://"), "tributary_emitted_total"); got != 200 {
		t.Fatalf("/metrics tributary_emitted_total = %v, want 200", got)
	}
}

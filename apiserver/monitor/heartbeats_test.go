package monitor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tributary-etl/tributary/shared/join"
	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// beat writes one heartbeat with the commands and fields of the runtime's
// own (unexported) beat in shared/worker: HSET then EXPIRE, in a pipeline.
func beat(t *testing.T, rdb redis.UniversalClient, name, instance string, fields map[string]any) {
	t.Helper()
	ctx := context.Background()
	key := worker.HeartbeatKey(name, instance)
	all := map[string]any{"instance": instance, "host": "host-" + instance, "version": "1.2.0",
		"config_version": 3, "started_at": time.Now().UTC().Format(time.RFC3339),
		"updated_at": time.Now().UTC().Format(time.RFC3339Nano), "consumed": 0.0, "emitted": 0.0,
		"joined": 0.0, "expired": 0.0, "dead_lettered": 0.0, "last_error": ""}
	for k, v := range fields {
		all[k] = v
	}
	pipe := rdb.Pipeline()
	pipe.HSet(ctx, key, all)
	pipe.Expire(ctx, key, 15*time.Second)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Del(context.Background(), key) })
}

func TestHeartbeats(t *testing.T) {
	rdb, prefix := stacktest.Redis(t)
	name := prefix + "w"
	ctx := context.Background()
	old := time.Now().Add(-time.Minute).UTC()
	beat(t, rdb, name, "alloc-b", map[string]any{"consumed": 100.0, "emitted": 90.0, "joined": 45.0,
		"expired": 2.0, "dead_lettered": 3.0, "last_error": "process: content.text is not a string",
		"updated_at": old.Format(time.RFC3339Nano)})
	beat(t, rdb, name, "alloc-a", map[string]any{"expired": 1.0, "dead_lettered": 4.0, "last_error": "panic: boom"})
	beat(t, rdb, name+"x", "alloc-c", map[string]any{"dead_lettered": 100.0}) // another worker

	h, err := Heartbeats(ctx, rdb, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Instances) != 2 || h.Instances[0].Instance != "alloc-a" || h.Instances[1].Instance != "alloc-b" {
		t.Fatalf("instances %+v, want alloc-a and alloc-b", h.Instances)
	}
	b := h.Instances[1]
	if b.Consumed != 100 || b.Emitted != 90 || b.Joined != 45 || b.FunctionVersion != "1.2.0" ||
		b.ConfigVersion != "3" || b.Host != "host-alloc-b" || !b.LastSeen.Equal(old) {
		t.Errorf("alloc-b %+v", b)
	}
	if h.Expired != 3 || h.DeadLettered != 7 {
		t.Errorf("expired %v dead-lettered %v, want 3 and 7", h.Expired, h.DeadLettered)
	}
	if len(h.Errors) != 2 || h.Errors[0].Instance != "alloc-a" || h.Errors[1].Message != "process: content.text is not a string" {
		t.Errorf("errors %+v, want alloc-a's then alloc-b's (older)", h.Errors)
	}

	// An instance that stops removes its heartbeat (or lets it expire).
	rdb.Del(ctx, worker.HeartbeatKey(name, "alloc-b"))
	if h, err = Heartbeats(ctx, rdb, name); err != nil || len(h.Instances) != 1 || h.DeadLettered != 4 {
		t.Errorf("after alloc-b left: %+v (%v)", h, err)
	}
	if h, err = Heartbeats(ctx, rdb, prefix+"nobody"); err != nil || len(h.Instances) != 0 || h.Errors == nil {
		t.Errorf("no instances: %+v (%v)", h, err)
	}
}

func TestPending(t *testing.T) {
	rdb, prefix := stacktest.Redis(t)
	name, topics := prefix+"j", []string{"left", "right"}
	ctx := context.Background()
	store, err := join.New(rdb, join.Options{Worker: name, Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stacktest.DeleteKeys(context.Background(), rdb, "trib:{"+name+":*") })
	var frags []join.Fragment
	for i := range 5 {
		frags = append(frags, join.Fragment{ID: fmt.Sprint(i), Topic: "left", Value: fmt.Appendf(nil, `{"id":"%d"}`, i)})
	}
	frags = append(frags, join.Fragment{ID: "0", Topic: "right", Value: []byte(`{"id":"0"}`)}) // completes id 0
	if _, err := store.Add(ctx, frags, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := Pending(ctx, rdb, name, topics); err != nil || n != 4 {
		t.Errorf("pending %d (%v), want 4", n, err)
	}
	if n, err := Pending(ctx, rdb, name, topics[:1]); err != nil || n != 0 {
		t.Errorf("one input: pending %d (%v), want 0", n, err)
	}
}

package join

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

// clusterEnv names the Redis Cluster of infra/cluster.sh (`infra/cluster.sh env`).
const clusterEnv = "TRIBUTARY_CLUSTER_REDIS_ADDR"

// TestClusterStore runs the store's whole life on a Redis Cluster of three
// masters: joins completed, duplicates, confirmations, expiries claimed and
// confirmed, across every bucket. Any CROSSSLOT error (a script touching
// keys of two slots) fails it, and so does a bucket whose keys are found
// on more than one master.
func TestClusterStore(t *testing.T) {
	addrs := os.Getenv(clusterEnv)
	if addrs == "" {
		stacktest.Unavailable(t, "the Redis Cluster of infra/cluster.sh", fmt.Errorf("%s is not set: `infra/cluster.sh up && eval \"$(infra/cluster.sh env)\"`, or `make chaos-cluster`", clusterEnv))
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ","), DialTimeout: 2 * time.Second})
	t.Cleanup(func() { rdb.Close() }) // after the keys' deletion, registered later
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rdb.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() }); err != nil {
		stacktest.Unavailable(t, "the Redis Cluster at "+addrs, err)
	}
	const timeout = time.Minute
	s, err := New(rdb, Options{Worker: stacktest.Name(t, "cluster"), Topics: []string{"a", "b"}, Timeout: timeout, ClaimTimeout: 2 * timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteClusterKeys(t, rdb, keyPattern(s)) })

	const ids = 2000
	var frags []Fragment
	for i := range ids {
		id := fmt.Sprintf("id-%d", i)
		frags = append(frags, fr(id, "a", `{"content":{"a":1}}`))
		if i%4 != 0 { // every fourth id gets no right fragment and expires
			frags = append(frags, fr(id, "b", `{"content":{"b":2}}`))
		}
	}
	res, err := s.Add(ctx, frags, t0)
	if err != nil {
		t.Fatalf("Add on the cluster: %v", err)
	}
	var completed []string
	for _, r := range res {
		if r.Status == Completed {
			completed = append(completed, r.ID)
		}
	}
	if want := ids - ids/4; len(completed) != want {
		t.Fatalf("%d joins completed, want %d", len(completed), want)
	}
	if n, err := s.Pending(ctx); err != nil || n != ids/4 {
		t.Fatalf("Pending = %d, %v; want %d", n, err, ids/4)
	}
	// A redelivered fragment of a completed id is a duplicate, before and
	// after its confirmation.
	if r := mustAdd(t, s, t0, fr("id-1", "b", `{}`)); r[0].Status != Duplicate {
		t.Errorf("redelivered fragment of a claimed id: %v, want Duplicate", r[0].Status)
	}
	if _, err := s.Apply(ctx, Batch{Confirm: completed}, t0); err != nil {
		t.Fatalf("confirm on the cluster: %v", err)
	}
	if r := mustAdd(t, s, t0, fr("id-1", "a", `{}`)); r[0].Status != Duplicate {
		t.Errorf("redelivered fragment of a confirmed id: %v, want Duplicate", r[0].Status)
	}

	// Every incomplete join expires exactly once, across all buckets.
	seen := map[string]int{}
	for {
		got, err := s.Sweep(ctx, t0.Add(timeout+s.Lateness()), 0)
		if err != nil {
			t.Fatalf("Sweep on the cluster: %v", err)
		}
		if len(got.Expired) == 0 {
			break
		}
		for _, e := range got.Expired {
			seen[e.ID]++
		}
		if _, err := s.Apply(ctx, Batch{Expired: got.Expired}, t0.Add(timeout)); err != nil {
			t.Fatalf("confirm expiries on the cluster: %v", err)
		}
	}
	if len(seen) != ids/4 {
		t.Errorf("%d joins expired, want %d", len(seen), ids/4)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s expired %d times", id, n)
		}
	}

	// Where the keys are: each bucket's hash tag on one master, and the
	// buckets spread over all three.
	var mu sync.Mutex // ForEachMaster calls in parallel
	nodeOfTag := map[string]string{}
	masters := map[string]int{}
	err = rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, keyPattern(s), 1000).Iterator()
		for it.Next(ctx) {
			k := it.Val()
			tag := k[:strings.IndexByte(k, '}')+1]
			mu.Lock()
			if prev, ok := nodeOfTag[tag]; ok && prev != c.Options().Addr {
				t.Errorf("keys of %s on two masters: %s and %s", tag, prev, c.Options().Addr)
			}
			nodeOfTag[tag] = c.Options().Addr
			masters[c.Options().Addr]++
			mu.Unlock()
		}
		return it.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(masters) != 3 {
		t.Errorf("the store's keys are on %d masters (%v), want all 3", len(masters), masters)
	}
	t.Logf("%d buckets' keys over the masters: %v", len(nodeOfTag), masters)
}

// deleteClusterKeys deletes, on every master, the keys matching pattern,
// one DEL per key: keys of different slots cannot share a DEL.
func deleteClusterKeys(t testing.TB, rdb *redis.ClusterClient, pattern string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, pattern, 1000).Iterator()
		pipe := c.Pipeline()
		for it.Next(ctx) {
			pipe.Del(ctx, it.Val())
		}
		if err := it.Err(); err != nil {
			return err
		}
		if pipe.Len() == 0 {
			return nil
		}
		_, err := pipe.Exec(ctx)
		return err
	})
	if err != nil {
		t.Errorf("delete keys %s: %v", pattern, err)
	}
}

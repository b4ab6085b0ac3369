package join

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

// t0 is an arbitrary fixed time: the store only ever sees the times tests
// pass in, and Redis TTLs are relative.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// newTestStore returns a store on the stack's Redis whose worker name is the
// test's private prefix; its keys are deleted when the test ends.
func newTestStore(t testing.TB, opts Options) (*Store, *redis.Client) {
	t.Helper()
	rdb, prefix := stacktest.Redis(t)
	if opts.Worker == "" {
		opts.Worker = prefix
	}
	s, err := New(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := stacktest.DeleteKeys(ctx, rdb, keyPattern(s)); err != nil {
			t.Errorf("delete keys of %s: %v", opts.Worker, err)
		}
	})
	return s, rdb
}

// keyPattern matches every key of the store. Test worker names hold no glob
// characters.
func keyPattern(s *Store) string { return "trib:{" + s.opts.Worker + ":*" }

func scanKeys(t testing.TB, rdb redis.UniversalClient, s *Store) []string {
	t.Helper()
	var keys []string
	iter := rdb.Scan(context.Background(), 0, keyPattern(s), 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

func mustAdd(t testing.TB, s *Store, now time.Time, frags ...Fragment) []Result {
	t.Helper()
	res, err := s.Add(context.Background(), frags, now)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	if len(res) != len(frags) {
		t.Fatalf("Add returned %d results for %d fragments", len(res), len(frags))
	}
	return res
}

func fr(id, topic, value string) Fragment {
	return Fragment{ID: id, Topic: topic, Value: []byte(value)}
}

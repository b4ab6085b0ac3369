package join_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tributary-etl/tributary/shared/join"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// A worker joining two topics: the fragment that completes an id gets its
// fragments, merges them, emits the result, and confirms it.
func ExampleStore() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: stacktest.RedisAddr()})
	defer rdb.Close()

	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	store, err := join.New(rdb, join.Options{
		Worker:       "example-" + hex.EncodeToString(suffix),
		Topics:       []string{"texts", "languages"},
		TombstoneTTL: time.Minute,
	})
	if err != nil {
		panic(err)
	}

	now := time.Now()
	results, err := store.Add(ctx, []join.Fragment{
		{ID: "42", Topic: "texts", Value: []byte(`{"id":"42","content":{"text":"bonjour"}}`)},
		{ID: "7", Topic: "texts", Value: []byte(`{"id":"7"}`)},
		{ID: "42", Topic: "languages", Value: []byte(`{"id":"42","content":{"lang":"fr","score":0.98}}`)},
	}, now)
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		fmt.Println(r.ID, r.Status)
		if r.Status == join.Completed {
			merged, err := join.Merge(r.Fragments)
			if err != nil {
				panic(err)
			}
			fmt.Println(string(merged)) // emit, wait for Kafka's ack, then confirm
			if err := store.Confirm(ctx, []string{r.ID}, now); err != nil {
				panic(err)
			}
		}
	}

	// A redelivered fragment of a confirmed id is suppressed.
	results, err = store.Add(ctx, []join.Fragment{{ID: "42", Topic: "texts", Value: []byte(`{}`)}}, now)
	if err != nil {
		panic(err)
	}
	fmt.Println(results[0].ID, results[0].Status)

	// Id 7 never gets its language; once its timeout has passed a sweep
	// hands it out. Publish its expiry record, then confirm it.
	later := now.Add(store.Options().Timeout + store.Lateness())
	swept, err := store.Sweep(ctx, later, 100)
	if err != nil {
		panic(err)
	}
	for _, e := range swept.Expired {
		fmt.Println("expired", e.ID, "with", len(e.Fragments), "fragment")
	}
	if _, err := store.Apply(ctx, join.Batch{Expired: swept.Expired}, later); err != nil {
		panic(err)
	}
	// Output:
	// 42 Pending
	// 7 Pending
	// 42 Completed
	// {"content":{"lang":"fr","score":0.98,"text":"bonjour"},"id":"42"}
	// 42 Duplicate
	// expired 7 with 1 fragment
}

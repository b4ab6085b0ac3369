package replay

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// tombstoneKeys is the one place that knows how the join store names a
// worker's tombstones: trib:{<worker>:<bucket>}:t:<id> (shared/join's
// doc.go). It returns the SCAN pattern that finds them and the check that
// a key found is one: a join id may itself contain "}:t:", and a glob
// cannot tell the worker's hash tag from the id, so every match is parsed.
func tombstoneKeys(worker string) (pattern string, isTombstone func(key string) bool) {
	prefix := "trib:{" + worker + ":"
	pattern = globEscape(prefix) + "*}:t:*"
	return pattern, func(key string) bool {
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok {
			return false
		}
		bucket, _, ok := strings.Cut(rest, "}:t:")
		if !ok || bucket == "" {
			return false
		}
		for _, r := range bucket {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
}

func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}

// scanBatch is how many keys one SCAN step asks for.
const scanBatch = 1000

// ClearTombstones deletes every tombstone of worker and returns how many
// it deleted. With Redis Cluster it scans every master.
func ClearTombstones(ctx context.Context, rdb redis.UniversalClient, worker string) (int, error) {
	pattern, isTombstone := tombstoneKeys(worker)
	clear := func(ctx context.Context, node redis.Cmdable) (int, error) {
		n := 0
		iter := node.Scan(ctx, 0, pattern, scanBatch).Iterator()
		var batch []string
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			// One DEL per key: keys of different buckets live in different
			// cluster slots.
			_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range batch {
					p.Del(ctx, k)
				}
				return nil
			})
			n += len(batch)
			batch = batch[:0]
			return err
		}
		for iter.Next(ctx) {
			if k := iter.Val(); isTombstone(k) {
				if batch = append(batch, k); len(batch) == scanBatch {
					if err := flush(); err != nil {
						return n, err
					}
				}
			}
		}
		if err := iter.Err(); err != nil {
			return n, err
		}
		return n, flush()
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		total := 0
		var mu sync.Mutex
		err := cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			n, err := clear(ctx, node)
			mu.Lock()
			total += n
			mu.Unlock()
			return err
		})
		return total, wrap(err)
	}
	n, err := clear(ctx, rdb)
	return n, wrap(err)
}

func wrap(err error) error {
	if err != nil {
		return fmt.Errorf("clear tombstones: %w", err)
	}
	return nil
}

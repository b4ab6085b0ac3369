package replay

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// tombstoneKeys is the one place that knows how the join store keeps a
// worker's tombstones (shared/join's doc.go): a completed id's join key,
// trib:{<worker>:<bucket>}:j:<id>, turned into a string (a pending or
// claimed join is a hash there). It returns the SCAN pattern and key type
// that find them, and the check that a key found is one: a glob cannot
// tell the worker's hash tag from a join id that itself contains "}:j:",
// so every match is parsed.
func tombstoneKeys(worker string) (pattern, keyType string, isTombstone func(key string) bool) {
	prefix := "trib:{" + worker + ":"
	pattern = globEscape(prefix) + "*}:j:*"
	return pattern, "string", func(key string) bool {
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok {
			return false
		}
		bucket, _, ok := strings.Cut(rest, "}:j:")
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

// scanBatch is how many keys one SCAN step asks for: the pattern is
// matched on the server, so a large step saves round trips over a large
// keyspace.
const scanBatch = 10000

// ClearTombstones deletes every tombstone of worker and returns how many
// it deleted. With Redis Cluster it scans every master.
func ClearTombstones(ctx context.Context, rdb redis.UniversalClient, worker string) (int, error) {
	pattern, keyType, isTombstone := tombstoneKeys(worker)
	clear := func(ctx context.Context, node redis.Cmdable) (int, error) {
		n := 0
		iter := node.ScanType(ctx, 0, pattern, scanBatch, keyType).Iterator()
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

// Package join keeps the join state of a worker in Redis: fragments of one id
// that arrive on a worker's input topics are collected into an aggregate until
// every topic has delivered one, and exactly one caller across all instances
// of the worker is told that the aggregate is complete.
//
// # Life of an aggregate
//
// The first fragment of an id creates a pending aggregate whose deadline is
// its arrival time plus [Options.Timeout]. A later fragment from a topic that
// already delivered one replaces it. The fragment that supplies the last
// missing topic claims the aggregate: its [Store.Add] call gets
// [Completed] with every topic's fragment, and the caller emits the joined
// output and then calls [Store.Confirm], which deletes the state and leaves a
// tombstone for [Options.TombstoneTTL]. Fragments of a claimed or tombstoned
// id are [Duplicate].
//
// A claim that is not confirmed within [Options.ClaimTimeout] (the claimer
// crashed before its output was acknowledged) is handed out again by
// [Store.Reclaim]; an aggregate still pending after its deadline is handed out
// once by [Store.Reap] and deleted. Both are exclusive: across all instances,
// each expiry and each claim window goes to exactly one caller.
//
// # Keys
//
// Ids are spread over [Options.Buckets] buckets, bucket = FNV-1a-32(id) mod
// Buckets. Every key of a bucket carries the Redis Cluster hash tag
// {<worker>:<bucket>}, so each script touches a single slot:
//
//	trib:{<worker>:<bucket>}:a:<id>   hash: f = first seen (Unix ms),
//	                                  n = arrival counter (HINCRBY),
//	                                  d:<topic> = "<seq>:<len(traceparent)>:<traceparent><value>"
//	trib:{<worker>:<bucket>}:pending  sorted set of ids, score = deadline (Unix ms)
//	trib:{<worker>:<bucket>}:claimed  sorted set of ids, score = claim deadline (Unix ms)
//	trib:{<worker>:<bucket>}:t:<id>   tombstone, value = confirmation time (Unix ms)
//
// # Expiry of keys
//
// Every key has a Redis TTL, so nothing outlives its use even if no instance
// ever reaps. With W = max(Timeout, ClaimTimeout), the TTL is 2×W:
// an aggregate gets it when created and again whenever it is claimed or
// reclaimed; a bucket's sorted sets get it again at every script that adds a
// member, so a set never expires before the aggregates it lists. A tombstone
// lives TombstoneTTL. Deadlines are computed from the time the caller passes
// in; TTLs run on the Redis server's clock.
//
// Payloads are stored and returned as opaque bytes; the Lua scripts never
// decode JSON. [Merge] applies the join rule in Go.
package join

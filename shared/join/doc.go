// Package join keeps the join state of a worker in Redis: fragments of one id
// that arrive on a worker's input topics are collected into a join until
// every topic has delivered one, and exactly one caller across all instances
// of the worker is told that the join is complete.
//
// # Life of a join
//
// The first fragment of an id creates a pending join whose deadline is its
// arrival time plus [Options.Timeout]. A later fragment from a topic that
// already delivered one replaces it. The fragment that supplies the last
// missing topic claims the join: its [Store.Apply] gets [Completed] with
// every topic's fragment, and the caller emits the joined output and, once
// Kafka acknowledged it, passes the id in [Batch.Confirm] of a later Apply,
// which replaces the join by a tombstone kept for [Options.TombstoneTTL].
// Fragments of a claimed or tombstoned id are [Duplicate].
//
// Expiry is claimed and confirmed the same way. A join still pending after
// its deadline is renamed by [Store.Sweep] into an expiry claim and handed
// out; the caller publishes its expiry record and, once acknowledged,
// passes it in [Batch.Expired], which deletes it. The id itself is free at
// once: a late fragment starts a new join.
//
// Every claim carries a deadline ClaimTimeout ahead. A claim still there at
// its deadline (its caller died, or its broker stayed away) is handed out
// again by Sweep with a new deadline. Each hand-out goes to exactly one
// caller across all instances, so nothing claimed is lost, and a duplicate
// output is only possible when a claimer is slower than ClaimTimeout
// between its claim and its confirmation: it died, or was partitioned, or
// its batch waited longer than that. The worker keeps that wait short by
// joining at most one batch ahead of its function.
//
// # One script call per bucket
//
// Ids are spread over [Options.Buckets] buckets, bucket = FNV-1a-32(id) mod
// Buckets. An Apply sends one pipeline of one script call per bucket that
// the batch touches: the call applies that bucket's confirmations, then its
// fragments in batch order, so fragments of one id arriving in one batch
// are decided together. The Redis commands a call runs per item:
//
//	confirmation of a completion    1 (SET the tombstone)
//	confirmation of an expiry       1 (DEL)
//	first fragment of an id         3 (HMGET, HSET, PEXPIRE)
//	another pending fragment        2 (HMGET, HSET)
//	the fragment that completes     3 (HMGET, HSET, HGETALL; PEXPIRE too when
//	                                   the join is so late that its key would
//	                                   not outlive two claim timeouts)
//	duplicate                       1 (HMGET)
//
// and per call, not per item: one RPUSH of every new deadline onto its due
// list and one PEXPIRE of that list (one for the new joins, one for the
// claims), and INCRBY and PEXPIRE of the pending counter. So a 2-topic join
// costs 7 commands per id, 3.5 per fragment, and a 3-topic join 9 per id.
// Nothing is removed from an index when a join completes: the due lists are
// swept lazily, and an entry whose join moved on is dropped when its slot is
// swept.
//
// # Keys
//
// Every key of a bucket carries the Redis Cluster hash tag
// {<worker>:<bucket>}, so each call touches a single slot:
//
//	trib:{<worker>:<bucket>}:j:<id>      hash, the join: s = state, f = first seen (Unix ms),
//	                                     d:<topic index> = "<seq>:<len(traceparent)>:<traceparent><value>";
//	                                     state "p:<seq>:<flags>" pending (a 0/1 flag per topic),
//	                                     "c:<claim deadline>[:<batch token>:<n>]" claimed;
//	                                     or a string, the tombstone: the confirmation time
//	trib:{<worker>:<bucket>}:x:<first seen>:<id>
//	                                     hash, an expiry claim: the join renamed, s = "e:<claim deadline>"
//	trib:{<worker>:<bucket>}:due:<slot>  list of key suffixes (j:<id>, x:...) whose deadline falls in
//	                                     the slot, slot = deadline / slot width
//	trib:{<worker>:<bucket>}:cursor      the last slot swept
//	trib:{<worker>:<bucket>}:n           the number of pending joins
//
// A tombstone is a string under the join's own key, so the HGET every
// fragment starts with tells pending, claimed and tombstoned apart in one
// command (it fails with WRONGTYPE on a tombstone).
//
// A due list is swept once its slot has wholly passed, from the slot after
// the cursor; the slot width is a tenth of min(Timeout, ClaimTimeout),
// between 10 ms and 1 s ([Store.Lateness]), so a deadline is acted on at
// most one slot late.
//
// # Expiry of keys
//
// Every key has a Redis TTL, so nothing outlives its use even if no instance
// ever sweeps. With W = max(Timeout, ClaimTimeout), the TTL is 2×W: a join
// gets it when created, again when it is claimed so late that less than two
// claim timeouts of it are left, and again whenever a sweep hands it out; a
// due list, the cursor and the counter get it again at every call that
// writes them. A tombstone lives TombstoneTTL. Deadlines are computed
// from the time the caller passes in; TTLs run on the Redis server's clock.
//
// Payloads are stored and returned as opaque bytes; the Lua scripts never
// decode JSON. [Merge] applies the join rule in Go.
package join

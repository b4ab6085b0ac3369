// Package replay moves a worker's consumer group to another position on
// its input topics (earliest, latest, the first record at or after a
// time, or explicit offsets) so that it processes records again or skips
// them.
//
// Offsets are only ever set while the group has no members: Kafka takes
// an administrator's commit only from outside the group, and a member
// would commit its own position over it. A reset of a running worker is
// refused (ErrActive) unless the request allows stopping it; then its job
// is stopped, the group is watched until it is empty, the offsets are
// committed, and the job is deployed again.
//
// # Join state on a rewind
//
// A join worker's state in Redis is left as it is, with one exception:
//
//   - A pending (incomplete) join of a replayed id takes the replayed
//     fragments again: a fragment from a topic that already delivered one
//     replaces it (shared/join), with the same bytes, so the join
//     completes as it would have, when its other topics deliver.
//   - A completed id keeps a tombstone (for the worker's tombstone TTL)
//     that makes fragments of it read again duplicates: by default a
//     rewind does not emit ids completed within the TTL a second time. With
//     ClearTombstones the worker's tombstones are deleted while it is
//     stopped, so every replayed id that completes is emitted again
//     (downstream sees duplicates: that is the point of a replay).
package replay

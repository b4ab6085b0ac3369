package join

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults applied by [New] to zero fields of [Options].
const (
	DefaultTimeout      = 240 * time.Second
	DefaultTombstoneTTL = time.Hour
	DefaultClaimTimeout = 30 * time.Second
	DefaultBuckets      = 64
)

// DefaultSweepLimit is the limit [Store.Reap] and [Store.Reclaim] use when
// given a limit below 1.
const DefaultSweepLimit = 1000

// ErrInvalidOptions is wrapped by the error [New] returns for unusable
// [Options].
var ErrInvalidOptions = errors.New("join: invalid options")

// ErrInvalidFragment is wrapped by the error [Store.Add] returns, before
// touching Redis, when a fragment has no id or comes from a topic that is not
// one of [Options.Topics].
var ErrInvalidFragment = errors.New("join: invalid fragment")

// Options configure a [Store]. The worker name and the topics define the
// state: instances that share them share aggregates.
type Options struct {
	// Worker is the worker's consumer_name; it is part of every key. It may
	// not contain '{' or '}', which delimit Redis Cluster hash tags.
	Worker string
	// Topics are the input topics, at least two and distinct. An aggregate is
	// complete when every one of them has delivered a fragment.
	Topics []string
	// Timeout is how long after its first fragment an incomplete aggregate
	// expires (default 240s).
	Timeout time.Duration
	// TombstoneTTL is how long a confirmed id turns redelivered fragments
	// into duplicates (default 1h).
	TombstoneTTL time.Duration
	// ClaimTimeout is how long a completed aggregate may stay unconfirmed
	// before [Store.Reclaim] hands it out again (default 30s).
	ClaimTimeout time.Duration
	// Buckets is the number of hash-tag buckets ids are spread over
	// (default 64). Changing it orphans existing state until its TTL.
	Buckets int
}

// Fragment is one input message of an aggregate.
type Fragment struct {
	// ID is the join id.
	ID string
	// Topic is the input topic the fragment was consumed from.
	Topic string
	// Value is the raw JSON object, stored and returned byte for byte.
	Value []byte
	// TraceParent is the W3C traceparent of the fragment, or "".
	TraceParent string
}

// Status is what [Store.Add] decided for a fragment.
type Status int

const (
	// Pending: the fragment is stored; the aggregate still misses a topic.
	Pending Status = iota
	// Completed: the fragment supplied the last missing topic and the caller
	// now holds the claim; it must emit the output and then [Store.Confirm].
	Completed
	// Duplicate: the id is claimed or tombstoned; nothing was stored.
	Duplicate
)

// String returns the status name.
func (s Status) String() string {
	switch s {
	case Pending:
		return "Pending"
	case Completed:
		return "Completed"
	case Duplicate:
		return "Duplicate"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Result answers one fragment of [Store.Add], or one claim of [Store.Reclaim].
type Result struct {
	ID     string
	Status Status
	// Fragments holds, only when Status is Completed, the latest fragment of
	// every topic in arrival order; pass them to [Merge].
	Fragments []Fragment
}

// Expired is an aggregate that stayed incomplete past its deadline, as
// handed out by [Store.Reap].
type Expired struct {
	ID string
	// Fragments are the fragments that had arrived, in arrival order.
	Fragments []Fragment
	// FirstSeen is the time passed to the Add that created the aggregate.
	FirstSeen time.Time
}

// Store is the join state of one worker in Redis. It is safe for concurrent
// use, and any number of Stores with the same Options, in any number of
// processes, cooperate on the same state: every decision is one Lua script
// on the keys of one bucket, so it is atomic with respect to all of them.
type Store struct {
	rdb      redis.UniversalClient
	opts     Options
	topics   map[string]struct{}
	tags     []string // per bucket: "trib:{<worker>:<bucket>}:"
	stateTTL int64    // ms
	sweep    atomic.Uint32
}

// New returns a Store over rdb, which it does not close. It fills defaults
// into zero fields of opts and rejects the rest of unusable options with an
// error wrapping [ErrInvalidOptions]. It does no I/O.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, fmt.Errorf("%w: nil redis client", ErrInvalidOptions)
	}
	if opts.Worker == "" || strings.ContainsAny(opts.Worker, "{}") {
		return nil, fmt.Errorf("%w: worker %q must be non-empty without '{' or '}'", ErrInvalidOptions, opts.Worker)
	}
	if len(opts.Topics) < 2 {
		return nil, fmt.Errorf("%w: %d topics, a join needs at least 2", ErrInvalidOptions, len(opts.Topics))
	}
	topics := make(map[string]struct{}, len(opts.Topics))
	for _, t := range opts.Topics {
		if t == "" {
			return nil, fmt.Errorf("%w: empty topic name", ErrInvalidOptions)
		}
		if _, dup := topics[t]; dup {
			return nil, fmt.Errorf("%w: topic %q listed twice", ErrInvalidOptions, t)
		}
		topics[t] = struct{}{}
	}
	opts.Topics = append([]string(nil), opts.Topics...)
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"timeout", &opts.Timeout, DefaultTimeout},
		{"tombstone TTL", &opts.TombstoneTTL, DefaultTombstoneTTL},
		{"claim timeout", &opts.ClaimTimeout, DefaultClaimTimeout},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
		// Redis TTLs are whole milliseconds; PEXPIRE 0 would delete the key.
		if *d.v < time.Millisecond {
			return nil, fmt.Errorf("%w: %s %v is below 1ms", ErrInvalidOptions, d.name, *d.v)
		}
	}
	if opts.Buckets == 0 {
		opts.Buckets = DefaultBuckets
	}
	if opts.Buckets < 0 {
		return nil, fmt.Errorf("%w: %d buckets", ErrInvalidOptions, opts.Buckets)
	}
	s := &Store{
		rdb:      rdb,
		opts:     opts,
		topics:   topics,
		tags:     make([]string, opts.Buckets),
		stateTTL: 2 * max(opts.Timeout, opts.ClaimTimeout).Milliseconds(),
	}
	for b := range s.tags {
		s.tags[b] = "trib:{" + opts.Worker + ":" + strconv.Itoa(b) + "}:"
	}
	return s, nil
}

// Options returns the options in effect, defaults filled in.
func (s *Store) Options() Options {
	o := s.opts
	o.Topics = append([]string(nil), o.Topics...)
	return o
}

func (s *Store) bucket(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % uint32(len(s.tags)))
}

func (s *Store) aggKey(b int, id string) string  { return s.tags[b] + "a:" + id }
func (s *Store) tombKey(b int, id string) string { return s.tags[b] + "t:" + id }
func (s *Store) pendingKey(b int) string         { return s.tags[b] + "pending" }
func (s *Store) claimedKey(b int) string         { return s.tags[b] + "claimed" }

// Add stores a batch of fragments and returns one Result per fragment, in
// order: results[i] answers frags[i]. The whole batch is one pipeline; each
// fragment is decided by one atomic script, in batch order, so a batch may
// hold several fragments of one id.
//
// Across all Stores of the worker, exactly one Add gets Completed for an id
// (until the id's tombstone expires, or its aggregate is reaped and the id
// starts over). Fragments of a pending id are kept, a later one from the same
// topic replacing the earlier; fragments of a claimed or tombstoned id are
// Duplicate and change nothing.
//
// A fragment without id or from an unknown topic fails the whole batch with
// [ErrInvalidFragment] before anything is sent. When Redis fails, Add returns
// an error and some fragments of the batch may have been applied; adding the
// batch again is safe: stored fragments are replaced, and an id completed by
// the lost reply is now Duplicate and comes back through [Store.Reclaim].
func (s *Store) Add(ctx context.Context, frags []Fragment, now time.Time) ([]Result, error) {
	if len(frags) == 0 {
		return nil, nil
	}
	nowMs := now.UnixMilli()
	deadline := now.Add(s.opts.Timeout).UnixMilli()
	claimDeadline := now.Add(s.opts.ClaimTimeout).UnixMilli()
	ntopics := len(s.opts.Topics)
	calls := make([]call, len(frags))
	for i, f := range frags {
		if f.ID == "" {
			return nil, fmt.Errorf("%w: fragment %d from topic %q has an empty id", ErrInvalidFragment, i, f.Topic)
		}
		if _, ok := s.topics[f.Topic]; !ok {
			return nil, fmt.Errorf("%w: fragment %d (id %q) comes from topic %q, not an input of worker %q",
				ErrInvalidFragment, i, f.ID, f.Topic, s.opts.Worker)
		}
		b := s.bucket(f.ID)
		calls[i] = call{
			keys: []string{s.aggKey(b, f.ID), s.pendingKey(b), s.claimedKey(b), s.tombKey(b, f.ID)},
			args: []any{f.ID, "d:" + f.Topic, f.TraceParent, f.Value, nowMs, deadline, ntopics, s.stateTTL, claimDeadline},
		}
	}
	cmds := runPipelined(ctx, s.rdb, addScript, calls)
	results := make([]Result, len(frags))
	for i, cmd := range cmds {
		id := frags[i].ID
		reply, err := cmd.Slice()
		if err != nil {
			return nil, fmt.Errorf("join: add fragment %d of %d (id %q): %w", i, len(frags), id, err)
		}
		status, ok := int64At(reply, 0)
		if !ok {
			return nil, fmt.Errorf("join: add id %q: unexpected reply %v", id, reply)
		}
		results[i] = Result{ID: id, Status: Status(status)}
		if results[i].Status != Completed {
			continue
		}
		if len(reply) != 2 {
			return nil, fmt.Errorf("join: add id %q: completed without aggregate", id)
		}
		agg, err := parseAggregate(id, reply[1])
		if err != nil {
			return nil, err
		}
		results[i].Fragments = agg.frags
	}
	return results, nil
}

// Confirm records that the outputs of these completed ids are acknowledged:
// their aggregates are deleted and each leaves a tombstone for
// [Options.TombstoneTTL], turning redelivered fragments into Duplicate. One
// pipeline, one atomic script per id; confirming an unknown or already
// confirmed id only renews its tombstone.
func (s *Store) Confirm(ctx context.Context, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	calls := make([]call, len(ids))
	for i, id := range ids {
		b := s.bucket(id)
		calls[i] = call{
			keys: []string{s.aggKey(b, id), s.pendingKey(b), s.claimedKey(b), s.tombKey(b, id)},
			args: []any{id, now.UnixMilli(), s.opts.TombstoneTTL.Milliseconds()},
		}
	}
	var errs []error
	for i, cmd := range runPipelined(ctx, s.rdb, confirmScript, calls) {
		if err := cmd.Err(); err != nil {
			errs = append(errs, fmt.Errorf("join: confirm id %q: %w", ids[i], err))
		}
	}
	return errors.Join(errs...)
}

// Pending returns the number of incomplete aggregates, including those past
// their deadline that no one has reaped yet. One pipeline of ZCARD over the
// buckets; the sum is not a snapshot across buckets.
func (s *Store) Pending(ctx context.Context) (int64, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(s.tags))
	for b := range s.tags {
		cmds[b] = pipe.ZCard(ctx, s.pendingKey(b))
	}
	_, _ = pipe.Exec(ctx)
	var n int64
	for b, cmd := range cmds {
		v, err := cmd.Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, fmt.Errorf("join: count pending of bucket %d: %w", b, err)
		}
		n += v
	}
	return n, nil
}

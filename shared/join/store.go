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

// Result answers one fragment of [Store.Apply], or one claim of [Store.Sweep].
type Result struct {
	ID     string
	Status Status
	// Fragments holds, only when Status is Completed, the latest fragment of
	// every topic in arrival order; pass them to [Merge].
	Fragments []Fragment
}

// Expired is an aggregate that stayed incomplete past its deadline, as
// handed out by [Store.Sweep]. Its state stays in Redis, claimed, until it
// is passed back in [Batch.Expired]: a caller that dies before its expiry
// record is acknowledged only delays the record.
type Expired struct {
	ID string
	// Fragments are the fragments that had arrived, in arrival order.
	Fragments []Fragment
	// FirstSeen is the time passed to the Apply that created the aggregate.
	FirstSeen time.Time
	claim     string // the expiry claim's key suffix, "x:<first seen ms>:<id>"
}

// Store is the join state of one worker in Redis. It is safe for concurrent
// use, and any number of Stores with the same Options, in any number of
// processes, cooperate on the same state: every decision is taken by a Lua
// script on the keys of one bucket, so it is atomic with respect to all of
// them.
type Store struct {
	rdb      redis.UniversalClient
	opts     Options
	topics   map[string]int // topic -> 1-based index, the d:<index> field of a join
	tags     []string       // per bucket: "trib:{<worker>:<bucket>}:"
	stateTTL int64          // ms
	slot     int64          // ms: the width of one due list
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
	topics := make(map[string]int, len(opts.Topics))
	for i, t := range opts.Topics {
		if t == "" {
			return nil, fmt.Errorf("%w: empty topic name", ErrInvalidOptions)
		}
		if _, dup := topics[t]; dup {
			return nil, fmt.Errorf("%w: topic %q listed twice", ErrInvalidOptions, t)
		}
		topics[t] = i + 1
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
		slot:     dueSlot(min(opts.Timeout, opts.ClaimTimeout)).Milliseconds(),
	}
	for b := range s.tags {
		s.tags[b] = "trib:{" + opts.Worker + ":" + strconv.Itoa(b) + "}:"
	}
	return s, nil
}

// dueSlot is the width of one due list: a tenth of the shortest deadline,
// between 10 ms and 1 s. A deadline is acted on once its whole slot has
// passed, so at most one slot late.
func dueSlot(shortest time.Duration) time.Duration {
	return min(max(shortest/10, 10*time.Millisecond), time.Second)
}

// Options returns the options in effect, defaults filled in.
func (s *Store) Options() Options {
	o := s.opts
	o.Topics = append([]string(nil), o.Topics...)
	return o
}

// Lateness is how long after its deadline a join may wait for a sweep to
// hand it out, beyond the callers' sweep interval: the width of one due list.
func (s *Store) Lateness() time.Duration { return time.Duration(s.slot) * time.Millisecond }

func (s *Store) bucket(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % uint32(len(s.tags)))
}

// Batch is what one [Store.Apply] sends: confirmations first, then
// fragments. Either may be empty.
type Batch struct {
	// Fragments to decide, in order.
	Fragments []Fragment
	// Confirm lists completed ids (Add or Sweep handed them out) whose
	// outputs are acknowledged: each leaves a tombstone for TombstoneTTL.
	Confirm []string
	// Expired lists expiry claims (from Sweep) whose records are
	// acknowledged: they are deleted.
	Expired []Expired
	// Token, when set, names this batch across its retries and must be
	// unique to it among all the worker's instances. A join completed by an
	// earlier Apply of the same batch (same Token, same fragments in the
	// same order) whose reply was lost is then Completed again rather than
	// Duplicate, so it need not wait for the claim timeout. Without a
	// token it comes back through [Store.Sweep] after the claim timeout.
	Token string
}

// Apply sends a batch in one pipeline of one script call per bucket that the
// batch touches, and returns one Result per fragment, in order: results[i]
// answers b.Fragments[i]. Within a bucket the confirmations apply first,
// then the fragments in batch order, so a batch may hold several fragments
// of one id; across buckets nothing is ordered.
//
// Across all Stores of the worker, exactly one Apply gets Completed for an id
// (until the id's tombstone expires, or it expires and starts over).
// Fragments of a pending id are kept, a later one from the same topic
// replacing the earlier; fragments of a claimed or tombstoned id are
// Duplicate and change nothing.
//
// A fragment without id or from an unknown topic fails the whole batch with
// [ErrInvalidFragment] before anything is sent. When Redis fails, Apply
// returns an error and some buckets may have been applied; applying the
// batch again is safe: stored fragments are replaced, confirmations are
// idempotent, and an id completed by a lost reply is Completed again when
// the batch has a Token (see [Batch]).
func (s *Store) Apply(ctx context.Context, b Batch, now time.Time) ([]Result, error) {
	type bucketCall struct {
		call
		frags []int // indexes into b.Fragments, in order
	}
	calls := map[int]*bucketCall{}
	nowMs := now.UnixMilli()
	callFor := func(bucket int) *bucketCall {
		c := calls[bucket]
		if c == nil {
			tag := s.tags[bucket]
			c = &bucketCall{call: call{keys: []string{tag + "n"}, args: []any{tag, nowMs,
				s.opts.Timeout.Milliseconds(), s.opts.ClaimTimeout.Milliseconds(), s.stateTTL,
				s.opts.TombstoneTTL.Milliseconds(), s.slot, len(s.opts.Topics), 0, b.Token}}}
			calls[bucket] = c
		}
		return c
	}
	for _, id := range b.Confirm {
		c := callFor(s.bucket(id))
		c.args = append(c.args, "j:"+id)
		c.args[8] = c.args[8].(int) + 1
	}
	for _, e := range b.Expired {
		c := callFor(s.bucket(e.ID))
		c.args = append(c.args, e.claim)
		c.args[8] = c.args[8].(int) + 1
	}
	for i, f := range b.Fragments {
		if f.ID == "" {
			return nil, fmt.Errorf("%w: fragment %d from topic %q has an empty id", ErrInvalidFragment, i, f.Topic)
		}
		t, ok := s.topics[f.Topic]
		if !ok {
			return nil, fmt.Errorf("%w: fragment %d (id %q) comes from topic %q, not an input of worker %q",
				ErrInvalidFragment, i, f.ID, f.Topic, s.opts.Worker)
		}
		c := callFor(s.bucket(f.ID))
		c.args = append(c.args, f.ID, t, f.TraceParent, f.Value)
		c.frags = append(c.frags, i)
	}
	if len(calls) == 0 {
		return nil, nil
	}
	order := make([]*bucketCall, 0, len(calls))
	plain := make([]call, 0, len(calls))
	for _, c := range calls {
		order = append(order, c)
		plain = append(plain, c.call)
	}
	results := make([]Result, len(b.Fragments))
	for ci, cmd := range runPipelined(ctx, s.rdb, applyScript, plain) {
		c := order[ci]
		reply, err := cmd.Slice()
		if err != nil {
			return nil, fmt.Errorf("join: apply %d fragments and %d confirmations to bucket %s: %w",
				len(c.frags), c.args[8], c.keys[0], err)
		}
		if len(reply) != len(c.frags) {
			return nil, fmt.Errorf("join: bucket %s: %d replies for %d fragments", c.keys[0], len(reply), len(c.frags))
		}
		for j, r := range reply {
			i := c.frags[j]
			id := b.Fragments[i].ID
			results[i].ID = id
			switch r := r.(type) {
			case int64:
				results[i].Status = Status(r)
			case []any:
				if st, ok := int64At(r, 0); !ok || Status(st) != Completed || len(r) != 2 {
					return nil, fmt.Errorf("join: add id %q: unexpected reply %v", id, r)
				}
				agg, err := s.parseAggregate(id, r[1])
				if err != nil {
					return nil, err
				}
				results[i].Status, results[i].Fragments = Completed, agg.frags
			default:
				return nil, fmt.Errorf("join: add id %q: unexpected reply %v", id, r)
			}
		}
	}
	return results, nil
}

// Add is Apply with fragments only.
func (s *Store) Add(ctx context.Context, frags []Fragment, now time.Time) ([]Result, error) {
	if len(frags) == 0 {
		return nil, nil
	}
	return s.Apply(ctx, Batch{Fragments: frags}, now)
}

// Confirm is Apply with confirmations only: the outputs of these completed
// ids are acknowledged, so their joins are replaced by tombstones that turn
// redelivered fragments into Duplicate for [Options.TombstoneTTL].
// Confirming an unknown or already confirmed id only renews its tombstone.
func (s *Store) Confirm(ctx context.Context, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.Apply(ctx, Batch{Confirm: ids}, now)
	return err
}

// Pending returns the number of incomplete joins, including those past their
// deadline that no sweep has handed out yet: the sum of the buckets'
// counters, read in one pipeline (not a snapshot across buckets).
func (s *Store) Pending(ctx context.Context) (int64, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(s.tags))
	for b, tag := range s.tags {
		cmds[b] = pipe.Get(ctx, tag+"n")
	}
	_, _ = pipe.Exec(ctx)
	var n int64
	for b, cmd := range cmds {
		v, err := cmd.Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, fmt.Errorf("join: count pending of bucket %d: %w", b, err)
		}
		n += v
	}
	return n, nil
}

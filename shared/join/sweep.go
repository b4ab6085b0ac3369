package join

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Reap takes up to limit aggregates whose deadline (first fragment +
// Timeout) is at or before now, deletes their keys, and returns them with the
// fragments that had arrived. Each bucket is swept by one atomic script, so
// across all Stores of the worker every expired aggregate is returned to
// exactly one caller. A limit below 1 means [DefaultSweepLimit].
//
// Buckets are swept in pipelined rounds, starting at a rotating bucket so no
// bucket starves. If a round fails, Reap returns what earlier rounds and the
// round's other buckets took, together with the error: those aggregates are
// already deleted and are nobody else's to return.
func (s *Store) Reap(ctx context.Context, now time.Time, limit int) ([]Expired, error) {
	nowMs := now.UnixMilli()
	items, err := s.sweepBuckets(ctx, reapScript, limit, func(b, per int) call {
		return call{
			keys: []string{s.pendingKey(b)},
			args: []any{nowMs, per, s.tags[b] + "a:"},
		}
	})
	out := make([]Expired, 0, len(items))
	errs := []error{err}
	for _, it := range items {
		agg, perr := parseAggregate(it.id, it.raw)
		if perr != nil {
			errs = append(errs, perr)
			continue
		}
		out = append(out, Expired{ID: it.id, Fragments: agg.frags, FirstSeen: time.UnixMilli(agg.firstSeen)})
	}
	return out, errors.Join(errs...)
}

// Reclaim returns up to limit aggregates that were completed but not
// confirmed within ClaimTimeout, as Completed results: their claimer is
// presumed dead before its output was acknowledged. Each one's claim deadline
// moves to now + ClaimTimeout in the same atomic script, so across all
// Stores only one caller gets it per claim window; the caller must emit and
// [Store.Confirm] it like an Add that completed. A confirmed id never comes
// back. A limit below 1 means [DefaultSweepLimit]; on error, Reclaim returns
// the claims already taken together with the error, as [Store.Reap] does.
func (s *Store) Reclaim(ctx context.Context, now time.Time, limit int) ([]Result, error) {
	nowMs := now.UnixMilli()
	claimDeadline := now.Add(s.opts.ClaimTimeout).UnixMilli()
	items, err := s.sweepBuckets(ctx, reclaimScript, limit, func(b, per int) call {
		return call{
			keys: []string{s.claimedKey(b)},
			args: []any{nowMs, per, s.tags[b] + "a:", claimDeadline, s.stateTTL},
		}
	})
	out := make([]Result, 0, len(items))
	errs := []error{err}
	for _, it := range items {
		agg, perr := parseAggregate(it.id, it.raw)
		if perr != nil {
			errs = append(errs, perr)
			continue
		}
		out = append(out, Result{ID: it.id, Status: Completed, Fragments: agg.frags})
	}
	return out, errors.Join(errs...)
}

// sweptItem is one aggregate taken by a sweep script: its id and HGETALL.
type sweptItem struct {
	id  string
	raw any
}

// sweepBuckets runs sc (reapLua or reclaimLua) over the buckets and returns
// at most limit items. A round sends one pipeline with a per-bucket limit
// that keeps the round's total within what is left; a bucket stays in play
// while it fills its per-bucket limit (it may hold more) or was left out of
// the round.
func (s *Store) sweepBuckets(ctx context.Context, sc *script, limit int, callFor func(b, per int) call) ([]sweptItem, error) {
	if limit < 1 {
		limit = DefaultSweepLimit
	}
	nb := len(s.tags)
	start := int(s.sweep.Add(1) % uint32(nb))
	active := make([]int, nb)
	for i := range active {
		active[i] = (start + i) % nb
	}
	var out []sweptItem
	var errs []error
	for left := limit; left > 0 && len(active) > 0; left = limit - len(out) {
		sel, rest, per := active, []int(nil), left/len(active)
		if left < len(active) {
			sel, rest, per = active[:left], active[left:], 1
		}
		calls := make([]call, len(sel))
		for i, b := range sel {
			calls[i] = callFor(b, per)
		}
		next := append([]int(nil), rest...)
		for i, cmd := range runPipelined(ctx, s.rdb, sc, calls) {
			reply, err := cmd.Slice()
			if err != nil {
				errs = append(errs, fmt.Errorf("join: sweep bucket %d: %w", sel[i], err))
				continue
			}
			scanned, ok := int64At(reply, 0)
			if !ok || len(reply)%2 != 1 {
				errs = append(errs, fmt.Errorf("join: sweep bucket %d: unexpected reply %v", sel[i], reply))
				continue
			}
			for j := 1; j < len(reply); j += 2 {
				id, _ := reply[j].(string)
				out = append(out, sweptItem{id: id, raw: reply[j+1]})
			}
			if scanned == int64(per) {
				next = append(next, sel[i])
			}
		}
		if len(errs) > 0 {
			return out, errors.Join(errs...)
		}
		active = next
	}
	return out, nil
}

// aggregate is a parsed aggregate hash.
type aggregate struct {
	firstSeen int64 // Unix ms
	frags     []Fragment
}

// parseAggregate reads the flat HGETALL reply of an aggregate of id: field f
// is the first-seen time, field n the arrival counter, and every field
// d:<topic> holds "<seq>:<len(traceparent)>:<traceparent><value>". Fragments
// come back sorted by seq, that is in arrival order.
func parseAggregate(id string, raw any) (aggregate, error) {
	flat, ok := raw.([]any)
	if !ok || len(flat)%2 != 0 {
		return aggregate{}, fmt.Errorf("join: aggregate %q: unexpected reply %v", id, raw)
	}
	var agg aggregate
	seqs := make([]int64, 0, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		field, _ := flat[i].(string)
		val, _ := flat[i+1].(string)
		switch {
		case field == "f":
			ms, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return aggregate{}, fmt.Errorf("join: aggregate %q: first seen %q: %w", id, val, err)
			}
			agg.firstSeen = ms
		case strings.HasPrefix(field, "d:"):
			seq, frag, err := parseFragment(val)
			if err != nil {
				return aggregate{}, fmt.Errorf("join: aggregate %q, field %q: %w", id, field, err)
			}
			frag.ID, frag.Topic = id, field[len("d:"):]
			agg.frags = append(agg.frags, frag)
			seqs = append(seqs, seq)
		}
	}
	sort.Sort(bySeq{agg.frags, seqs})
	return agg, nil
}

// parseFragment decodes "<seq>:<len(traceparent)>:<traceparent><value>".
func parseFragment(s string) (int64, Fragment, error) {
	seqStr, rest, ok1 := strings.Cut(s, ":")
	lenStr, rest, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return 0, Fragment{}, errors.New("malformed fragment record")
	}
	seq, err := strconv.ParseInt(seqStr, 10, 64)
	if err != nil {
		return 0, Fragment{}, fmt.Errorf("sequence number: %w", err)
	}
	n, err := strconv.Atoi(lenStr)
	if err != nil || n < 0 || n > len(rest) {
		return 0, Fragment{}, fmt.Errorf("traceparent length %q", lenStr)
	}
	return seq, Fragment{TraceParent: rest[:n], Value: []byte(rest[n:])}, nil
}

type bySeq struct {
	frags []Fragment
	seqs  []int64
}

func (b bySeq) Len() int           { return len(b.frags) }
func (b bySeq) Less(i, j int) bool { return b.seqs[i] < b.seqs[j] }
func (b bySeq) Swap(i, j int) {
	b.frags[i], b.frags[j] = b.frags[j], b.frags[i]
	b.seqs[i], b.seqs[j] = b.seqs[j], b.seqs[i]
}

func int64At(reply []any, i int) (int64, bool) {
	if i >= len(reply) {
		return 0, false
	}
	v, ok := reply[i].(int64)
	return v, ok
}

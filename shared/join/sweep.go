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

// Swept is what one [Store.Sweep] hands out.
type Swept struct {
	// Expired are joins past their timeout, now claimed for their expiry
	// record: publish each, then pass it in [Batch.Expired].
	Expired []Expired
	// Reclaimed are completed joins whose claimer did not confirm them
	// within ClaimTimeout (it presumably died before its output was
	// acknowledged): emit and confirm each like an Apply that completed.
	Reclaimed []Result
}

// Sweep hands out up to limit deadlines that have passed by now, across the
// buckets: joins past their timeout become expiry claims, and claims (of a
// completion or of an expiry) past their claim deadline are handed out
// again with a new one. Each bucket is swept by one atomic script, so across
// all Stores of the worker every deadline is handed to exactly one caller;
// a caller that dies before confirming gets its claim handed out again
// after ClaimTimeout, so nothing handed out is lost. A limit below 1 means
// [DefaultSweepLimit].
//
// Deadlines are kept in one due list per bucket and slot ([Store.Lateness]
// wide); a slot is swept once it has wholly passed. Buckets are swept in
// pipelined rounds, starting at a rotating bucket so no bucket starves. On
// error, Sweep returns what it took together with the error: those claims
// come back after ClaimTimeout if not confirmed.
func (s *Store) Sweep(ctx context.Context, now time.Time, limit int) (Swept, error) {
	if limit < 1 {
		limit = DefaultSweepLimit
	}
	nb := len(s.tags)
	start := int(s.sweep.Add(1) % uint32(nb))
	active := make([]int, nb)
	for i := range active {
		active[i] = (start + i) % nb
	}
	var out Swept
	var errs []error
	taken := 0
	for left := limit; left > 0 && len(active) > 0; left = limit - taken {
		sel, rest, per := active, []int(nil), left/len(active)
		if left < len(active) {
			sel, rest, per = active[:left], active[left:], 1
		}
		calls := make([]call, len(sel))
		for i, b := range sel {
			tag := s.tags[b]
			calls[i] = call{keys: []string{tag + "cursor"}, args: []any{tag, now.UnixMilli(),
				s.opts.Timeout.Milliseconds(), s.opts.ClaimTimeout.Milliseconds(), s.stateTTL, s.slot, per}}
		}
		next := append([]int(nil), rest...)
		for i, cmd := range runPipelined(ctx, s.rdb, sweepScript, calls) {
			reply, err := cmd.Slice()
			popped, ok := int64At(reply, 0)
			if err == nil && (!ok || len(reply)%3 != 1) {
				err = fmt.Errorf("unexpected reply %v", reply)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("join: sweep bucket %d: %w", sel[i], err))
				continue
			}
			for j := 1; j < len(reply); j += 3 {
				if err := s.addSwept(&out, reply[j], reply[j+1], reply[j+2]); err != nil {
					errs = append(errs, err)
				}
			}
			taken += len(reply) / 3
			if popped == int64(per) {
				next = append(next, sel[i]) // it may hold more
			}
		}
		if len(errs) > 0 {
			break
		}
		active = next
	}
	return out, errors.Join(errs...)
}

// addSwept parses one entry of a sweep reply into out.
func (s *Store) addSwept(out *Swept, kind, suffix, raw any) error {
	k, _ := kind.(string)
	sfx, _ := suffix.(string)
	switch {
	case k == "c" && strings.HasPrefix(sfx, "j:"):
		id := sfx[len("j:"):]
		agg, err := s.parseAggregate(id, raw)
		if err != nil {
			return err
		}
		out.Reclaimed = append(out.Reclaimed, Result{ID: id, Status: Completed, Fragments: agg.frags})
	case (k == "e") && strings.HasPrefix(sfx, "x:"):
		_, id, ok := strings.Cut(sfx[len("x:"):], ":")
		if !ok {
			return fmt.Errorf("join: sweep: malformed expiry claim %q", sfx)
		}
		agg, err := s.parseAggregate(id, raw)
		if err != nil {
			return err
		}
		out.Expired = append(out.Expired, Expired{ID: id, Fragments: agg.frags,
			FirstSeen: time.UnixMilli(agg.firstSeen), claim: sfx})
	default:
		return fmt.Errorf("join: sweep: unexpected entry %v %v", kind, suffix)
	}
	return nil
}

// aggregate is a parsed join hash.
type aggregate struct {
	firstSeen int64 // Unix ms
	frags     []Fragment
}

// parseAggregate reads the flat HGETALL reply of the join of id: field f is
// the first-seen time, field s the state, and every field d:<topic index>
// holds "<seq>:<len(traceparent)>:<traceparent><value>". Fragments come
// back sorted by seq, that is in arrival order.
func (s *Store) parseAggregate(id string, raw any) (aggregate, error) {
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
			t, err := strconv.Atoi(field[len("d:"):])
			if err != nil || t < 1 || t > len(s.opts.Topics) {
				return aggregate{}, fmt.Errorf("join: aggregate %q: field %q names no input topic", id, field)
			}
			seq, frag, err := parseFragment(val)
			if err != nil {
				return aggregate{}, fmt.Errorf("join: aggregate %q, field %q: %w", id, field, err)
			}
			frag.ID, frag.Topic = id, s.opts.Topics[t-1]
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

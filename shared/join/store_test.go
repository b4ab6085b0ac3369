package join

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestNewOptions(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: stacktest.RedisAddr()}) // New does no I/O
	defer rdb.Close()
	ok := Options{Worker: "w", Topics: []string{"a", "b"}}
	with := func(f func(*Options)) Options { o := ok; o.Topics = slices.Clone(ok.Topics); f(&o); return o }
	cases := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{"defaults", ok, false},
		{"no worker", with(func(o *Options) { o.Worker = "" }), true},
		{"worker with brace", with(func(o *Options) { o.Worker = "a}b" }), true},
		{"one topic", with(func(o *Options) { o.Topics = []string{"a"} }), true},
		{"duplicate topic", with(func(o *Options) { o.Topics = []string{"a", "a"} }), true},
		{"empty topic", with(func(o *Options) { o.Topics = []string{"a", ""} }), true},
		{"negative timeout", with(func(o *Options) { o.Timeout = -time.Second }), true},
		{"sub-millisecond claim timeout", with(func(o *Options) { o.ClaimTimeout = time.Microsecond }), true},
		{"negative buckets", with(func(o *Options) { o.Buckets = -1 }), true},
		{"custom", with(func(o *Options) { o.Timeout, o.Buckets = time.Minute, 3 }), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(rdb, tc.opts)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidOptions) {
					t.Fatalf("New error = %v, want ErrInvalidOptions", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "defaults" {
				got := s.Options()
				if got.Timeout != DefaultTimeout || got.TombstoneTTL != DefaultTombstoneTTL ||
					got.ClaimTimeout != DefaultClaimTimeout || got.Buckets != DefaultBuckets {
					t.Fatalf("defaults not applied: %+v", got)
				}
			}
		})
	}
}

func TestAdd(t *testing.T) {
	type step struct {
		add     []Fragment
		want    []Status
		confirm []string
	}
	withTP := func(f Fragment, tp string) Fragment { f.TraceParent = tp; return f }
	cases := []struct {
		name   string
		topics []string
		steps  []step
		// the fragments (topic:value) of the one Completed result, in order
		wantFrags  []string
		wantMerged string
	}{
		{
			name:   "two topics complete",
			topics: []string{"a", "b"},
			steps: []step{
				{add: []Fragment{fr("x", "a", `{"id":"x","content":{"text":"hi"}}`)}, want: []Status{Pending}},
				{add: []Fragment{fr("x", "b", `{"id":"x","content":{"lang":"en"}}`)}, want: []Status{Completed}},
			},
			wantFrags:  []string{`a:{"id":"x","content":{"text":"hi"}}`, `b:{"id":"x","content":{"lang":"en"}}`},
			wantMerged: `{"content":{"lang":"en","text":"hi"},"id":"x"}`,
		},
		{
			name:   "three topics complete in arrival order",
			topics: []string{"a", "b", "c"},
			steps: []step{
				{add: []Fragment{fr("x", "c", `{"c":1}`)}, want: []Status{Pending}},
				{add: []Fragment{fr("x", "a", `{"a":1}`)}, want: []Status{Pending}},
				{add: []Fragment{fr("x", "b", `{"b":1}`)}, want: []Status{Completed}},
			},
			wantFrags:  []string{`c:{"c":1}`, `a:{"a":1}`, `b:{"b":1}`},
			wantMerged: `{"a":1,"b":1,"c":1}`,
		},
		{
			name:   "same topic replaces and does not complete",
			topics: []string{"a", "b", "c"},
			steps: []step{
				{add: []Fragment{fr("x", "a", `{"v":1}`)}, want: []Status{Pending}},
				{add: []Fragment{fr("x", "b", `{"w":1}`)}, want: []Status{Pending}},
				{add: []Fragment{fr("x", "a", `{"v":2}`)}, want: []Status{Pending}},
				{add: []Fragment{fr("x", "a", `{"v":3}`), fr("x", "b", `{"w":2}`)}, want: []Status{Pending, Pending}},
				{add: []Fragment{fr("x", "c", `{"z":1}`)}, want: []Status{Completed}},
			},
			wantFrags:  []string{`a:{"v":3}`, `b:{"w":2}`, `c:{"z":1}`},
			wantMerged: `{"v":3,"w":2,"z":1}`,
		},
		{
			name:   "one batch completes",
			topics: []string{"a", "b"},
			steps: []step{
				{add: []Fragment{fr("x", "b", `{"b":1}`), fr("y", "a", `{}`), fr("x", "a", `{"a":1}`)}, want: []Status{Pending, Pending, Completed}},
			},
			wantFrags:  []string{`b:{"b":1}`, `a:{"a":1}`},
			wantMerged: `{"a":1,"b":1}`,
		},
		{
			name:   "duplicate while claimed",
			topics: []string{"a", "b"},
			steps: []step{
				{add: []Fragment{fr("x", "a", `{"a":1}`), fr("x", "b", `{"b":1}`)}, want: []Status{Pending, Completed}},
				{add: []Fragment{fr("x", "a", `{"a":2}`)}, want: []Status{Duplicate}},
				{add: []Fragment{fr("x", "b", `{"b":2}`), fr("x", "a", `{"a":3}`)}, want: []Status{Duplicate, Duplicate}},
			},
			wantFrags:  []string{`a:{"a":1}`, `b:{"b":1}`},
			wantMerged: `{"a":1,"b":1}`,
		},
		{
			name:   "duplicate after confirm",
			topics: []string{"a", "b"},
			steps: []step{
				{add: []Fragment{fr("x", "a", `{"a":1}`)}, want: []Status{Pending}},
				{add: []Fragment{fr("x", "b", `{"b":1}`)}, want: []Status{Completed}},
				{confirm: []string{"x"}},
				{add: []Fragment{fr("x", "a", `{"a":1}`)}, want: []Status{Duplicate}},
				{add: []Fragment{fr("x", "b", `{"b":1}`), fr("x", "a", `{"a":1}`)}, want: []Status{Duplicate, Duplicate}},
			},
			wantFrags:  []string{`a:{"a":1}`, `b:{"b":1}`},
			wantMerged: `{"a":1,"b":1}`,
		},
		{
			name:   "bytes and traceparent round-trip",
			topics: []string{"a", "b"},
			steps: []step{
				{add: []Fragment{withTP(fr("x:1", "a", `{"s":"12:3:é\u0000"}`), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")}, want: []Status{Pending}},
				{add: []Fragment{withTP(fr("x:1", "b", ``), "odd:tp:")}, want: []Status{Completed}},
			},
			wantFrags: []string{`a:{"s":"12:3:é\u0000"}`, `b:`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, Options{Topics: tc.topics})
			ctx := context.Background()
			var completed []Result
			for i, st := range tc.steps {
				if st.confirm != nil {
					if err := s.Confirm(ctx, st.confirm, t0); err != nil {
						t.Fatalf("step %d: Confirm: %v", i, err)
					}
					continue
				}
				res := mustAdd(t, s, t0, st.add...)
				for j, r := range res {
					if r.ID != st.add[j].ID || r.Status != st.want[j] {
						t.Fatalf("step %d, fragment %d: got %s %v, want %s %v", i, j, r.ID, r.Status, st.add[j].ID, st.want[j])
					}
					if r.Status == Completed {
						completed = append(completed, r)
					} else if r.Fragments != nil {
						t.Fatalf("step %d: %v result carries fragments", i, r.Status)
					}
				}
			}
			if len(completed) != 1 {
				t.Fatalf("%d Completed results, want 1", len(completed))
			}
			var got []string
			for _, f := range completed[0].Fragments {
				if f.ID != completed[0].ID {
					t.Errorf("fragment id %q in result for %q", f.ID, completed[0].ID)
				}
				got = append(got, f.Topic+":"+string(f.Value))
			}
			if !slices.Equal(got, tc.wantFrags) {
				t.Fatalf("fragments = %q, want %q", got, tc.wantFrags)
			}
			if tc.name == "bytes and traceparent round-trip" {
				if tp := completed[0].Fragments[0].TraceParent; tp != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" {
					t.Fatalf("traceparent = %q", tp)
				}
				if tp := completed[0].Fragments[1].TraceParent; tp != "odd:tp:" {
					t.Fatalf("traceparent = %q", tp)
				}
			}
			if tc.wantMerged != "" {
				merged, err := Merge(completed[0].Fragments)
				if err != nil {
					t.Fatal(err)
				}
				if string(merged) != tc.wantMerged {
					t.Fatalf("merged = %s, want %s", merged, tc.wantMerged)
				}
			}
		})
	}
}

func TestConfirmLeavesOnlyTombstone(t *testing.T) {
	s, rdb := newTestStore(t, Options{Topics: []string{"a", "b"}, TombstoneTTL: 10 * time.Minute})
	mustAdd(t, s, t0, fr("x", "a", `{}`), fr("x", "b", `{}`))
	if err := s.Confirm(context.Background(), []string{"x", "never-seen"}, t0); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range scanKeys(t, rdb, s) {
		if strings.Contains(k, "}:j:") || strings.Contains(k, "}:x:") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	want := []string{s.tags[s.bucket("never-seen")] + "j:never-seen", s.tags[s.bucket("x")] + "j:x"}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("join keys after confirm = %q, want the tombstones %q", keys, want)
	}
	for _, k := range want {
		if typ, err := rdb.Type(context.Background(), k).Result(); err != nil || typ != "string" {
			t.Fatalf("%s is a %q (%v), want a string tombstone", k, typ, err)
		}
		ttl, err := rdb.PTTL(context.Background(), k).Result()
		if err != nil || ttl <= 9*time.Minute || ttl > 10*time.Minute {
			t.Fatalf("tombstone TTL = %v, %v; want about 10m", ttl, err)
		}
	}
	if n, err := s.Pending(context.Background()); err != nil || n != 0 {
		t.Fatalf("Pending = %d, %v; want 0", n, err)
	}
}

func TestAddRejectsInvalidFragments(t *testing.T) {
	s, rdb := newTestStore(t, Options{Topics: []string{"a", "b"}})
	for _, tc := range []struct {
		name string
		frag Fragment
	}{
		{"unknown topic", fr("x", "c", `{}`)},
		{"empty id", fr("", "a", `{}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Add(context.Background(), []Fragment{fr("y", "a", `{}`), tc.frag}, t0)
			if !errors.Is(err, ErrInvalidFragment) {
				t.Fatalf("Add error = %v, want ErrInvalidFragment", err)
			}
		})
	}
	if keys := scanKeys(t, rdb, s); len(keys) != 0 {
		t.Fatalf("a rejected batch wrote keys %q", keys)
	}
}

// TestNoScriptFallback runs a script Redis has never seen, so the EVALSHA
// pipeline must come back NOSCRIPT and be replayed with EVAL, once.
func TestNoScriptFallback(t *testing.T) {
	rdb, prefix := stacktest.Redis(t)
	ctx := context.Background()
	sc := newScript(fmt.Sprintf("-- %s\nreturn redis.call('INCR', KEYS[1])", prefix))
	calls := []call{{keys: []string{prefix + ":n"}}, {keys: []string{prefix + ":n"}}}
	for round, want := range [][]int64{{1, 2}, {3, 4}} {
		for i, cmd := range runPipelined(ctx, rdb, sc, calls) {
			got, err := cmd.Int64()
			if err != nil || got != want[i] {
				t.Fatalf("round %d, call %d: %d, %v; want %d", round, i, got, err, want[i])
			}
		}
	}
	exists, err := rdb.ScriptExists(ctx, sc.sha).Result()
	if err != nil || !exists[0] {
		t.Fatalf("script not loaded after EVAL: %v %v", exists, err)
	}
}

// TestConcurrentAdd adds the fragments of 2000 ids over 3 topics from 8
// clients in shuffled order: every id must complete exactly once.
func TestConcurrentAdd(t *testing.T) {
	const (
		ids     = 2000
		workers = 8
		batch   = 50
	)
	topics := []string{"a", "b", "c"}
	s, _ := newTestStore(t, Options{Topics: topics})
	var frags []Fragment
	for i := range ids {
		for _, tp := range topics {
			frags = append(frags, fr(fmt.Sprintf("id-%d", i), tp, fmt.Sprintf(`{%q:%d}`, tp, i)))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(frags), func(i, j int) { frags[i], frags[j] = frags[j], frags[i] })

	var (
		mu        sync.Mutex
		completed = map[string]int{}
		wg        sync.WaitGroup
		errs      = make(chan error, workers)
	)
	for w := range workers {
		wg.Go(func() {
			// Each goroutine is its own instance: own client, own Store.
			rdb := redis.NewClient(&redis.Options{Addr: stacktest.RedisAddr()})
			defer rdb.Close()
			st, err := New(rdb, s.Options())
			if err != nil {
				errs <- err
				return
			}
			var mine []Fragment
			for i := w; i < len(frags); i += workers {
				mine = append(mine, frags[i])
			}
			for len(mine) > 0 {
				n := min(batch, len(mine))
				res, err := st.Add(context.Background(), mine[:n], t0)
				if err != nil {
					errs <- err
					return
				}
				mine = mine[n:]
				for _, r := range res {
					if r.Status == Duplicate {
						errs <- fmt.Errorf("id %s: unexpected Duplicate", r.ID)
						return
					}
					if r.Status != Completed {
						continue
					}
					if len(r.Fragments) != len(topics) {
						errs <- fmt.Errorf("id %s completed with %d fragments", r.ID, len(r.Fragments))
						return
					}
					mu.Lock()
					completed[r.ID]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(completed) != ids {
		t.Fatalf("%d ids completed, want %d", len(completed), ids)
	}
	for id, n := range completed {
		if n != 1 {
			t.Fatalf("id %s completed %d times", id, n)
		}
	}
	if n, err := s.Pending(context.Background()); err != nil || n != 0 {
		t.Fatalf("Pending = %d, %v; want 0", n, err)
	}
}

func TestSweepExpires(t *testing.T) {
	const timeout = time.Minute
	s, rdb := newTestStore(t, Options{Topics: []string{"a", "b"}, Timeout: timeout, ClaimTimeout: 2 * timeout, Buckets: 16})
	ctx := context.Background()
	late := timeout + s.Lateness() // every deadline of t0 is due by then
	var frags []Fragment
	for i := range 300 {
		frags = append(frags, fr(fmt.Sprintf("late-%d", i), "a", fmt.Sprintf(`{"i":%d}`, i)))
	}
	for i := range 50 {
		id := fmt.Sprintf("done-%d", i)
		frags = append(frags, fr(id, "a", `{}`), fr(id, "b", `{}`))
	}
	mustAdd(t, s, t0, frags...)
	// A second fragment of the same topic does not move the deadline.
	mustAdd(t, s, t0.Add(timeout/2), fr("late-0", "a", `{"i":"again"}`))
	if n, err := s.Pending(ctx); err != nil || n != 300 {
		t.Fatalf("Pending = %d, %v; want 300", n, err)
	}

	t.Run("nothing before the deadline", func(t *testing.T) {
		got, err := s.Sweep(ctx, t0.Add(timeout-time.Millisecond), 0)
		if err != nil || len(got.Expired) != 0 || len(got.Reclaimed) != 0 {
			t.Fatalf("Sweep = %+v, %v; want nothing", got, err)
		}
	})

	var claims []Expired
	t.Run("two sweepers share the expired exactly once", func(t *testing.T) {
		const limit = 37
		var (
			mu   sync.Mutex
			seen = map[string]int{}
			wg   sync.WaitGroup
		)
		for range 2 {
			wg.Go(func() {
				for {
					got, err := s.Sweep(ctx, t0.Add(late), limit)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got.Expired)+len(got.Reclaimed) > limit {
						t.Errorf("Sweep handed out %d > limit %d", len(got.Expired)+len(got.Reclaimed), limit)
					}
					if len(got.Reclaimed) != 0 {
						t.Errorf("reclaimed %d claims before their claim timeout", len(got.Reclaimed))
					}
					if len(got.Expired) == 0 {
						return
					}
					mu.Lock()
					claims = append(claims, got.Expired...)
					for _, e := range got.Expired {
						seen[e.ID]++
						if !e.FirstSeen.Equal(t0) || len(e.Fragments) != 1 || e.Fragments[0].Topic != "a" {
							t.Errorf("expired %s: first seen %v, %d fragments", e.ID, e.FirstSeen, len(e.Fragments))
						}
						if e.ID == "late-0" && string(e.Fragments[0].Value) != `{"i":"again"}` {
							t.Errorf("late-0 kept %s, want the replacement", e.Fragments[0].Value)
						}
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != 300 {
			t.Fatalf("%d ids expired, want 300", len(seen))
		}
		for id, n := range seen {
			if n != 1 || !strings.HasPrefix(id, "late-") {
				t.Fatalf("id %s expired %d times", id, n)
			}
		}
		if n, err := s.Pending(ctx); err != nil || n != 0 {
			t.Fatalf("Pending = %d, %v; want 0", n, err)
		}
	})

	t.Run("an expired id starts over while its record is written", func(t *testing.T) {
		res := mustAdd(t, s, t0.Add(late), fr("late-1", "b", `{"again":true}`))
		if res[0].Status != Pending {
			t.Fatalf("status %v, want Pending", res[0].Status)
		}
	})

	t.Run("an unconfirmed expiry comes back once after the claim timeout", func(t *testing.T) {
		at := late + 2*timeout + s.Lateness()
		got, err := s.Sweep(ctx, t0.Add(at), 1000)
		if err != nil {
			t.Fatal(err)
		}
		again := map[string]bool{}
		for _, e := range got.Expired {
			again[e.ID] = true
		}
		// late-1's new join expired too (its timeout passed): 301 claims.
		if len(got.Expired) != 301 || !again["late-7"] || len(got.Reclaimed) != 50 {
			t.Fatalf("second sweep: %d expired, %d reclaimed; want 301 and the 50 unconfirmed completions", len(got.Expired), len(got.Reclaimed))
		}
		claims = got.Expired
	})

	t.Run("confirmed expiries leave no join keys", func(t *testing.T) {
		if _, err := s.Apply(ctx, Batch{Expired: claims}, t0.Add(late)); err != nil {
			t.Fatal(err)
		}
		for _, k := range scanKeys(t, rdb, s) {
			if strings.Contains(k, ":late-") {
				t.Errorf("key %s left after confirming its expiry", k)
			}
		}
		got, err := s.Sweep(ctx, t0.Add(time.Hour), 1000)
		if err != nil || len(got.Expired) != 0 {
			t.Fatalf("Sweep after confirm = %d expired, %v; want none", len(got.Expired), err)
		}
	})
}

func TestSweepReclaims(t *testing.T) {
	const claim = 30 * time.Second
	s, _ := newTestStore(t, Options{Topics: []string{"a", "b"}, ClaimTimeout: claim, Buckets: 4})
	ctx := context.Background()
	lat := s.Lateness()
	res := mustAdd(t, s, t0,
		fr("lost", "a", `{"a":1}`), fr("lost", "b", `{"b":1}`),
		fr("emitted", "a", `{}`), fr("emitted", "b", `{}`))
	if res[1].Status != Completed || res[3].Status != Completed {
		t.Fatalf("statuses %v", res)
	}
	if err := s.Confirm(ctx, []string{"emitted"}, t0); err != nil {
		t.Fatal(err)
	}

	reclaim := func(t *testing.T, at time.Duration) []Result {
		t.Helper()
		got, err := s.Sweep(ctx, t0.Add(at), 0)
		if err != nil {
			t.Fatal(err)
		}
		return got.Reclaimed
	}
	t.Run("not before the claim timeout", func(t *testing.T) {
		if got := reclaim(t, claim-time.Millisecond); len(got) != 0 {
			t.Fatalf("reclaimed %v", got)
		}
	})
	t.Run("once after the claim timeout, across concurrent callers", func(t *testing.T) {
		var (
			mu  sync.Mutex
			all []Result
			wg  sync.WaitGroup
		)
		for range 4 {
			wg.Go(func() {
				got, err := s.Sweep(ctx, t0.Add(claim+lat), 0)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				all = append(all, got.Reclaimed...)
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(all) != 1 || all[0].ID != "lost" || all[0].Status != Completed {
			t.Fatalf("reclaimed %+v, want lost once", all)
		}
		merged, err := Merge(all[0].Fragments)
		if err != nil || string(merged) != `{"a":1,"b":1}` {
			t.Fatalf("merged %s, %v", merged, err)
		}
	})
	t.Run("its fragments stay duplicates", func(t *testing.T) {
		if r := mustAdd(t, s, t0.Add(claim), fr("lost", "b", `{}`)); r[0].Status != Duplicate {
			t.Fatalf("status %v, want Duplicate", r[0].Status)
		}
	})
	t.Run("again only after another claim timeout", func(t *testing.T) {
		if got := reclaim(t, 2*claim+lat-time.Millisecond); len(got) != 0 {
			t.Fatalf("reclaimed %v", got)
		}
		if got := reclaim(t, 2*claim+2*lat); len(got) != 1 || got[0].ID != "lost" {
			t.Fatalf("reclaimed %v, want lost", got)
		}
	})
	t.Run("never once confirmed", func(t *testing.T) {
		if err := s.Confirm(ctx, []string{"lost"}, t0.Add(2*claim)); err != nil {
			t.Fatal(err)
		}
		if got := reclaim(t, time.Hour); len(got) != 0 {
			t.Fatalf("reclaimed %v", got)
		}
	})
}

// TestKeysHaveTTL drives every kind of key into existence and checks that
// each has a TTL within the documented bound.
func TestKeysHaveTTL(t *testing.T) {
	opts := Options{Topics: []string{"a", "b", "c"}, Timeout: 2 * time.Minute, ClaimTimeout: 10 * time.Second, TombstoneTTL: 5 * time.Minute, Buckets: 8}
	s, rdb := newTestStore(t, opts)
	ctx := context.Background()
	var frags []Fragment
	for i := range 40 {
		id := fmt.Sprint(i)
		frags = append(frags, fr(id, "a", `{}`))
		switch i % 4 {
		case 1, 2, 3: // claimed; 2 confirmed, 3 reclaimed
			frags = append(frags, fr(id, "b", `{}`), fr(id, "c", `{}`))
		}
	}
	mustAdd(t, s, t0, frags...)
	var confirm []string
	for i := 2; i < 40; i += 4 {
		confirm = append(confirm, fmt.Sprint(i))
	}
	if err := s.Confirm(ctx, confirm, t0); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Sweep(ctx, t0.Add(opts.ClaimTimeout+s.Lateness()), 5); err != nil || len(got.Reclaimed) == 0 {
		t.Fatalf("reclaim sweep: %d reclaimed, %v", len(got.Reclaimed), err)
	}
	if got, err := s.Sweep(ctx, t0.Add(opts.Timeout+s.Lateness()), 0); err != nil || len(got.Expired) == 0 {
		t.Fatalf("expiry sweep: %d expired, %v", len(got.Expired), err)
	}

	keys := scanKeys(t, rdb, s)
	kinds := map[string]int{}
	longest := 2 * opts.Timeout // 2 x max(Timeout, ClaimTimeout)
	for _, k := range keys {
		rest := k[strings.Index(k, "}:")+2:]
		kind, _, _ := strings.Cut(rest, ":")
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if kind == "j" && typ == "string" {
			kind = "tombstone"
		}
		kinds[kind]++
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		bound := longest
		if kind == "tombstone" {
			bound = opts.TombstoneTTL
		}
		if ttl <= 0 || ttl > bound {
			t.Errorf("key %s: TTL %v, want in (0, %v]", k, ttl, bound)
		}
	}
	for _, kind := range []string{"j", "tombstone", "x", "due", "cursor", "n"} {
		if kinds[kind] == 0 {
			t.Errorf("no %q key among %q", kind, keys)
		}
	}
}

// TestRetriedBatchGetsItsCompletionsBack: Apply of a batch whose reply was
// lost, applied again under the same token, completes the same joins again
// (their fragments, once each) instead of leaving them to the claim
// timeout; any other token, or none, still sees them as duplicates, and a
// sweep's reclaim drops the token.
func TestRetriedBatchGetsItsCompletionsBack(t *testing.T) {
	const claim = 30 * time.Second
	s, _ := newTestStore(t, Options{Topics: []string{"a", "b"}, ClaimTimeout: claim, Buckets: 4})
	ctx := context.Background()
	mustAdd(t, s, t0, fr("early", "a", `{"a":1}`))
	// "early" completes at fragment 0; "both" gets its two fragments in
	// this one batch, so only fragment 2 completes it.
	batch := Batch{Token: "instance-1.7", Fragments: []Fragment{
		fr("early", "b", `{"b":1}`), fr("both", "a", `{"a":2}`), fr("both", "b", `{"b":2}`), fr("alone", "a", `{}`)}}
	statuses := func(res []Result) []Status {
		out := make([]Status, len(res))
		for i, r := range res {
			out[i] = r.Status
		}
		return out
	}
	want := []Status{Completed, Pending, Completed, Pending}
	first, err := s.Apply(ctx, batch, t0)
	if err != nil || !slices.Equal(statuses(first), want) {
		t.Fatalf("first apply: %v, %v; want %v", statuses(first), err, want)
	}
	// The reply is lost; the worker applies the same batch again. Only the
	// fragments that completed a join get it again: "both"'s first
	// fragment now finds it claimed.
	again, err := s.Apply(ctx, batch, t0.Add(time.Second))
	if want := []Status{Completed, Duplicate, Completed, Pending}; err != nil || !slices.Equal(statuses(again), want) {
		t.Fatalf("the retry: %v, %v; want %v", statuses(again), err, want)
	}
	for _, i := range []int{0, 2} {
		a, _ := Merge(first[i].Fragments)
		b, _ := Merge(again[i].Fragments)
		if string(a) != string(b) {
			t.Errorf("%s: the retry merged %s, the first apply %s", first[i].ID, b, a)
		}
	}
	other := batch
	other.Token = "instance-2.7"
	for _, b := range []Batch{other, {Fragments: batch.Fragments}} {
		res, err := s.Apply(ctx, b, t0.Add(2*time.Second))
		if err != nil || res[0].Status != Duplicate || res[2].Status != Duplicate {
			t.Fatalf("token %q: %v, %v; want the completed joins duplicate", b.Token, statuses(res), err)
		}
	}
	// Once a sweep reclaimed "early", it is the sweep's caller's.
	got, err := s.Sweep(ctx, t0.Add(claim+s.Lateness()), 0)
	if err != nil || len(got.Reclaimed) != 2 {
		t.Fatalf("reclaimed %+v, %v; want early and both", got.Reclaimed, err)
	}
	if res, err := s.Apply(ctx, batch, t0.Add(claim+s.Lateness())); err != nil || res[0].Status != Duplicate || res[2].Status != Duplicate {
		t.Fatalf("the batch again after the reclaim: %v, %v; want duplicates", statuses(res), err)
	}
}

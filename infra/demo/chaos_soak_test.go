package demo_test

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/infra/demo"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// The soak: sustained input at 80% of the join capacity measured in the
// same run, for TRIBUTARY_SOAK (default 60s; `make chaos` sets 10m). It
// checks that neither the worker's memory nor its join state in Redis grows
// beyond what the pending joins need, and that no id is lost or
// dead-lettered. It never asserts a speed: the capacity is only the yardstick
// of the load.

// Parameters of the soak.
const (
	defaultSoak     = 60 * time.Second
	backlogIDs      = 20000 // ids of the capacity measurement
	loadFraction    = 0.8   // the soak's rate, as a fraction of the capacity
	pendingMargin   = 3     // bound on pending aggregates, in multiples of RightLag
	rssGrowthFactor = 1.5   // end RSS may be this times the start RSS…
	rssGrowthSlack  = 16 << 20
	progressEvery   = 30 * time.Second
)

// TestChaosSoak measures a 2-instance join worker's capacity by draining a
// backlog, then feeds a fresh worker at 80% of it, with a second's worth of
// joins pending at any moment, and compares each instance's RSS and the
// worker's Redis keys after a warm-up and at the end of the feed.
//
// Tombstones are reported apart and not asserted on: every joined id leaves
// one for the tombstone TTL (1 h, which neither the API nor the runtime's
// flags can change), so they grow linearly for the whole soak by design.
func TestChaosSoak(t *testing.T) {
	brokers := stacktest.Kafka(t)
	rdb, _ := stacktest.Redis(t)
	c := client(t)
	soak := soakDuration(t)
	warmup := max(soak/5, 10*time.Second)
	steadyEnd := soak - 5*time.Second // the last sample, before the feed's tail of right fragments
	if steadyEnd < warmup+5*time.Second {
		t.Fatalf("TRIBUTARY_SOAK=%s is too short for a warm-up of %s and a second sample: use at least 20s", soak, warmup)
	}
	ctx, cancel := context.WithTimeout(context.Background(), soak+15*time.Minute)
	defer cancel()

	capacity := measureCapacity(t, ctx, c, brokers, rdb)
	rate := max(1, int(loadFraction*capacity))
	lag := rate // one second's worth of ids waits for its right fragment

	id, left, right, out := chaosWorker(t, ctx, c, brokers)
	name, dlq := workerTopics(t, ctx, c, id)
	t.Cleanup(func() { deleteJoinState(t, rdb, name) })
	// The worker joins its topics' partitions only once they exist: create
	// them (and the dead-letter topic, for its checker) and wait, so the
	// soak does not start with a backlog.
	createTopics(t, ctx, brokers, left, right, dlq)
	waitAssigned(t, ctx, brokers, name, left, right)
	pids := allocationPIDs(t, ctx, c, id)
	if len(pids) != 2 {
		t.Fatalf("found the processes of %d allocations, want 2: %v", len(pids), pids)
	}

	emitted := stacktest.CheckIDs(ctx, brokers, out, false)
	deadLetters := stacktest.CheckIDs(ctx, brokers, dlq, true)
	feed := stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: rate * int(soak/time.Second),
		Rate: rate, RightLag: lag, Tick: soakProgress(t, soak, emitted)}
	t.Logf("soak of worker %s: %d ids at %d ids/s (80%% of %.0f ids/s), %d joins pending, for %s; samples at %s and %s",
		name, feed.IDs, rate, capacity, lag, soak, warmup, steadyEnd)
	start := time.Now()
	samples := sampleAt(ctx, rdb, name, pids, start, warmup, steadyEnd)
	feed.Run(t, ctx)
	fed := time.Since(start)
	first, last := <-samples, <-samples

	ids := stacktest.IDs(feed.IDs)
	stacktest.WaitFor(t, 3*time.Minute, ids, emitted)
	lost, dups := emitted.Tally(ids)
	drained := waitDrained(ctx, rdb, name, time.Minute)

	achieved := float64(feed.IDs+feed.RightLag) / fed.Seconds() // the feed runs IDs+RightLag id slots
	t.Logf("chaos: soak %s at %d ids/s (achieved %.0f ids/s, capacity %.0f ids/s): %d ids, lost %d, duplicates %d, dead letters %d; "+
		"RSS %s; aggregates %s → %s, %d after the drain; tombstones %s → %s; used_memory %s → %s (shared Redis)",
		soak, rate, achieved, capacity, feed.IDs, lost, dups, deadLetters.Distinct(),
		rssChange(first.rss, last.rss), first.join.aggregatesText(), last.join.aggregatesText(), drained.aggregates,
		first.join.tombstonesText(), last.join.tombstonesText(), humanBytes(first.usedMemory), humanBytes(last.usedMemory))

	for _, s := range []soakSample{first, last} {
		if s.err != nil {
			t.Errorf("sample at %s: %v", s.at.Round(time.Second), s.err)
		}
	}
	if lost != 0 {
		t.Errorf("%d of %d ids lost", lost, feed.IDs)
	}
	if n := deadLetters.Distinct(); n != 0 {
		t.Errorf("%d ids dead-lettered on %s", n, dlq)
	}
	if limit := int64(pendingMargin * lag); last.join.aggregates > limit {
		t.Errorf("%d aggregates in Redis at the end of the feed, more than %d (%d× the %d joins the feed keeps pending)",
			last.join.aggregates, limit, pendingMargin, lag)
	}
	if drained.aggregates != 0 {
		t.Errorf("%d aggregates still in Redis a minute after every id came out", drained.aggregates)
	}
	for alloc, before := range first.rss {
		after, ok := last.rss[alloc]
		if limit := int64(rssGrowthFactor*float64(before)) + rssGrowthSlack; ok && after > limit {
			t.Errorf("instance %s: RSS grew from %s to %s, more than %s", alloc[:8], humanBytes(before), humanBytes(after), humanBytes(limit))
		}
	}
}

// soakDuration is TRIBUTARY_SOAK, a Go duration, or defaultSoak when unset.
func soakDuration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("TRIBUTARY_SOAK")
	if v == "" {
		return defaultSoak
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("TRIBUTARY_SOAK: %v", err)
	}
	return d
}

// measureCapacity deploys a join worker of its own, produces a backlog of
// backlogIDs ids as fast as the broker takes them, and returns how many ids
// per second the worker emits while it drains the backlog. The drain starts
// when the backlog is complete, or at the first output if that comes later
// (the worker joins the partitions of topics created by the backlog only
// when it next looks for them). The worker is stopped afterwards, so that
// it does not compete with the soak.
func measureCapacity(t *testing.T, ctx context.Context, c *demo.Client, brokers []string, rdb *redis.Client) float64 {
	t.Helper()
	id, left, right, out := chaosWorker(t, ctx, c, brokers)
	name, _ := workerTopics(t, ctx, c, id)
	t.Cleanup(func() { deleteJoinState(t, rdb, name) })
	emitted := stacktest.CheckIDs(ctx, brokers, out, false)

	begin := time.Now()
	stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: backlogIDs, Rate: 1 << 30}.Run(t, ctx)
	produced := time.Now()
	before := emitted.Distinct()

	drainStart := produced
	deadline := time.Now().Add(5 * time.Minute)
	for emitted.Distinct() < backlogIDs {
		if time.Now().After(deadline) {
			t.Fatalf("capacity: %d of %d ids out after 5 minutes", emitted.Distinct(), backlogIDs)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, bounded by deadline
	}
	done := time.Now()
	if f := emitted.FirstAfter(begin); f.After(produced) {
		drainStart, before = f, 0
	}
	capacity := float64(backlogIDs-before) / done.Sub(drainStart).Seconds()
	t.Logf("capacity: backlog of %d ids produced in %s (%d already out), drained in %s: %.0f ids/s",
		backlogIDs, produced.Sub(begin).Round(time.Millisecond), before, done.Sub(drainStart).Round(time.Millisecond), capacity)
	stopWorker(t, ctx, c, id)
	return capacity
}

// workerTopics reads the worker's name (its consumer group and Redis key
// stem) and its dead-letter topic from the API.
func workerTopics(t *testing.T, ctx context.Context, c *demo.Client, id int64) (name, deadLetter string) {
	t.Helper()
	var w struct {
		Name            string `json:"name"`
		DeadLetterTopic string `json:"dead_letter_topic"`
	}
	if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/workers/%d", id), nil, &w); err != nil {
		t.Fatal(err)
	}
	return w.Name, cmp.Or(w.DeadLetterTopic, w.Name+".dlq") // the runtime's default
}

// stopWorker stops the worker's job and waits until no allocation of it is
// healthy.
func stopWorker(t *testing.T, ctx context.Context, c *demo.Client, id int64) {
	t.Helper()
	if err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/workers/%d/stop", id), nil, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for healthy(ctx, c, id) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("worker %d: still healthy allocations 2 minutes after the stop", id)
		}
		time.Sleep(250 * time.Millisecond) // poll interval, bounded by deadline
	}
}

// createTopics creates topics with the broker's default partition count
// (a metadata request that allows auto-creation), waiting until each has
// its partitions.
func createTopics(t *testing.T, ctx context.Context, brokers []string, topics ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		parts, err := partitionCounts(ctx, brokers[0], topics...)
		if err == nil && len(parts) == len(topics) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("create topics %v: %v (partitions: %v)", topics, err, parts)
		}
		time.Sleep(200 * time.Millisecond) // poll interval, bounded by deadline
	}
}

// partitionCounts counts the partitions of each of topics that exists, asking
// broker with auto-creation allowed.
func partitionCounts(ctx context.Context, broker string, topics ...string) (map[string]int, error) {
	conn, err := kafka.DialContext(ctx, "tcp", broker)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ps, err := conn.ReadPartitions(topics...)
	if err != nil {
		return nil, err
	}
	n := map[string]int{}
	for _, p := range ps {
		n[p.Topic]++
	}
	return n, nil
}

// waitAssigned waits until consumer group has every partition of topics
// assigned to its members.
func waitAssigned(t *testing.T, ctx context.Context, brokers []string, group string, topics ...string) {
	t.Helper()
	want, err := partitionCounts(ctx, brokers[0], topics...)
	if err != nil {
		t.Fatal(err)
	}
	kc := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	start := time.Now()
	for {
		got := map[string]int{}
		resp, err := kc.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err == nil {
			for _, g := range resp.Groups {
				for _, m := range g.Members {
					for _, a := range m.MemberAssignments.Topics {
						got[a.Topic] += len(a.Partitions)
					}
				}
			}
		}
		if covers(got, want) {
			t.Logf("group %s has every partition of %v assigned after %s", group, topics, time.Since(start).Round(100*time.Millisecond))
			return
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("group %s: partitions assigned %v, want %v (err %v)", group, got, want, err)
		}
		time.Sleep(250 * time.Millisecond) // poll interval, bounded above
	}
}

// covers reports whether got has at least the count want has for each key.
func covers(got, want map[string]int) bool {
	for k, n := range want {
		if got[k] < n {
			return false
		}
	}
	return true
}

// soakProgress returns a JoinFeed Tick that logs, at most every progressEvery,
// how far the feed is and how many ids came out.
func soakProgress(t *testing.T, soak time.Duration, emitted *stacktest.IDCheck) func(time.Duration) {
	next := progressEvery
	return func(elapsed time.Duration) {
		if elapsed < next {
			return
		}
		next = elapsed + progressEvery
		t.Logf("chaos soak: %s of %s, %d ids out", elapsed.Round(time.Second), soak, emitted.Distinct())
	}
}

// soakSample is what the soak measures at one moment.
type soakSample struct {
	at         time.Duration    // since the feed started
	rss        map[string]int64 // VmRSS in bytes, by allocation
	join       joinFootprint
	usedMemory int64 // INFO used_memory of the whole Redis, shared with other tests
	err        error // what could not be measured
}

// sampleAt measures at each offset from start, in the background (a sample
// takes seconds once tombstones pile up, and the feed must not wait), and
// delivers the samples in order on the returned channel.
func sampleAt(ctx context.Context, rdb *redis.Client, worker string, pids map[string]int, start time.Time, offsets ...time.Duration) <-chan soakSample {
	out := make(chan soakSample, len(offsets))
	go func() {
		for _, at := range offsets {
			select {
			case <-time.After(time.Until(start.Add(at))):
			case <-ctx.Done():
				out <- soakSample{at: at, err: ctx.Err()}
				continue
			}
			s := soakSample{at: time.Since(start), rss: map[string]int64{}}
			var errs []error
			for alloc, pid := range pids {
				rss, err := processRSS(pid)
				if err != nil {
					errs = append(errs, fmt.Errorf("instance %s (pid %d) no longer runs: %w", alloc[:8], pid, err))
					continue
				}
				s.rss[alloc] = rss
			}
			var err error
			if s.join, err = readJoinFootprint(ctx, rdb, worker); err != nil {
				errs = append(errs, err)
			}
			if s.usedMemory, err = usedMemory(ctx, rdb); err != nil {
				errs = append(errs, err)
			}
			s.err = errors.Join(errs...)
			out <- s
		}
	}()
	return out
}

// processRSS is VmRSS of process pid, in bytes.
func processRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// joinFootprint is a worker's join state in Redis (see shared/join/doc.go
// for its keys).
type joinFootprint struct {
	aggregates     int64 // a:<id> hashes: joins pending or claimed
	aggregateBytes int64 // the hashes and the pending and claimed sets listing them
	tombstones     int64 // t:<id>: joins confirmed within the tombstone TTL
	tombstoneBytes int64
}

func (f joinFootprint) aggregatesText() string {
	return fmt.Sprintf("%d (%s)", f.aggregates, humanBytes(f.aggregateBytes))
}

func (f joinFootprint) tombstonesText() string {
	return fmt.Sprintf("%d (%s)", f.tombstones, humanBytes(f.tombstoneBytes))
}

// readJoinFootprint scans the keys of worker's join state and adds up
// MEMORY USAGE of each. Keys that expire or are deleted during the scan are
// not counted.
func readJoinFootprint(ctx context.Context, rdb *redis.Client, worker string) (joinFootprint, error) {
	var f joinFootprint
	add := func(keys []string) error {
		pipe := rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(keys))
		for i, k := range keys {
			cmds[i] = pipe.MemoryUsage(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("memory usage of %s's keys: %w", worker, err)
		}
		for i, k := range keys {
			bytes, err := cmds[i].Result()
			if err != nil { // redis.Nil: gone since the scan
				continue
			}
			switch kind := k[strings.Index(k, "}:")+2:]; {
			case strings.HasPrefix(kind, "t:"):
				f.tombstones++
				f.tombstoneBytes += bytes
			case strings.HasPrefix(kind, "a:"):
				f.aggregates++
				f.aggregateBytes += bytes
			default: // the pending and claimed sets
				f.aggregateBytes += bytes
			}
		}
		return nil
	}
	iter := rdb.Scan(ctx, 0, "trib:{"+worker+":*", 1000).Iterator()
	batch := make([]string, 0, 1000)
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == cap(batch) {
			if err := add(batch); err != nil {
				return f, err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return f, fmt.Errorf("scan %s's keys: %w", worker, err)
	}
	return f, add(batch)
}

// usedMemory is used_memory from INFO memory.
func usedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("no used_memory in INFO memory")
}

// waitDrained polls the worker's join state until no aggregate is left, or
// within passes, and returns the last footprint read.
func waitDrained(ctx context.Context, rdb *redis.Client, worker string, within time.Duration) joinFootprint {
	deadline := time.Now().Add(within)
	for {
		f, err := readJoinFootprint(ctx, rdb, worker)
		if (err == nil && f.aggregates == 0) || time.Now().After(deadline) {
			return f
		}
		time.Sleep(time.Second) // poll interval, bounded by deadline
	}
}

// deleteJoinState deletes the worker's keys from the shared Redis: a soak
// leaves one tombstone per id for an hour otherwise.
func deleteJoinState(t *testing.T, rdb *redis.Client, worker string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := stacktest.DeleteKeys(ctx, rdb, "trib:{"+worker+":*"); err != nil {
		t.Logf("delete the join state of %s: %v", worker, err)
	}
}

// rssChange is "<alloc> <start>→<end>, …", by allocation.
func rssChange(first, last map[string]int64) string {
	var parts []string
	for alloc, before := range first {
		parts = append(parts, fmt.Sprintf("%s %s→%s", alloc[:8], humanBytes(before), humanBytes(last[alloc])))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// humanBytes is b in MiB or KiB.
func humanBytes(b int64) string {
	if b >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
}

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
	"sync"
	"syscall"
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
	backlogIDs      = 20000            // ids of the capacity measurement's backlog
	capacityFeed    = 15 * time.Second // then fed at the drain rate this long…
	capacityWarmup  = 5 * time.Second  // …its output rate counted after this
	loadFraction    = 0.8              // the soak's rate, as a fraction of the capacity
	pendingMargin   = 3                // bound on pending aggregates, in multiples of RightLag
	rssGrowthFactor = 1.5              // end RSS may be this times the start RSS…
	rssGrowthSlack  = 16 << 20
	progressEvery   = 30 * time.Second
)

// TestChaosSoak measures a 2-instance join worker's capacity with a feed
// sharing the machine (measureCapacity), then feeds a fresh worker at 80% of it, with a second's worth of
// joins pending at any moment, and compares each instance's RSS and the
// worker's Redis keys after a warm-up and at the end of the feed.
//
// Tombstones are reported apart and bounded only by one per id: every
// joined id leaves one for the tombstone TTL (the runtime's -tombstone-ttl,
// 1 h by default), so they grow linearly for the whole soak by design, up
// to rate × TTL.
func TestChaosSoak(t *testing.T) {
	brokers := stacktest.Kafka(t)
	rdb, _ := stacktest.Redis(t)
	c := client(t)
	soak := soakDuration(t)
	warmup := max(soak/5, 10*time.Second)
	if soak < warmup+10*time.Second {
		t.Fatalf("TRIBUTARY_SOAK=%s is too short for a warm-up of %s and a steady phase after it: use at least 20s", soak, warmup)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*soak+15*time.Minute)
	defer cancel()

	capacity := measureCapacity(t, ctx, c, brokers, rdb)
	rate := max(1, int(loadFraction*capacity))
	lag := rate // one second's worth of ids waits for its right fragment

	w := newSoakWorker(t, ctx, c, brokers, rdb)
	emitted := stacktest.CheckIDs(ctx, brokers, w.out, false)
	deadLetters := stacktest.CheckIDs(ctx, brokers, w.dlq, true)
	feed := stacktest.JoinFeed{Brokers: brokers, Left: w.left, Right: w.right, IDs: rate * int(soak/time.Second), Rate: rate, RightLag: lag}
	// The last sample is taken when the output is five lags short of the
	// end: the feed is then in its last seconds of steady input, before its
	// tail of right fragments lets the pending joins drain.
	steadyEnd := make(chan struct{})
	endSteady := sync.OnceFunc(func() { close(steadyEnd) })
	logProgress := soakProgress(t, feed.IDs, emitted, w.pids)
	feed.Tick = func(elapsed time.Duration) {
		logProgress(elapsed)
		if emitted.Distinct() >= feed.IDs-5*lag {
			endSteady()
		}
	}
	t.Logf("soak of worker %s: %d ids at %d ids/s (80%% of %.0f ids/s), %d joins pending, for %s; first sample at %s",
		w.name, feed.IDs, rate, capacity, lag, soak, warmup)
	start := time.Now()
	warm := make(chan struct{})
	time.AfterFunc(warmup, func() { close(warm) })
	samples := sampleOn(ctx, rdb, w.name, w.pids, start, warm, steadyEnd)
	feed.Run(t, ctx)
	fed := time.Since(start)
	endSteady() // the output never got there: sample now
	first, last := <-samples, <-samples

	ids := stacktest.IDs(feed.IDs)
	stacktest.WaitFor(t, 3*time.Minute, ids, emitted)
	lost, dups := emitted.Tally(ids)
	drained := waitDrained(ctx, rdb, w.name, time.Minute)

	achieved := float64(feed.IDs+feed.RightLag) / fed.Seconds() // the feed runs IDs+RightLag id slots
	t.Logf("samples at %s (took %s) and %s (took %s)", first.at.Round(time.Second), first.took.Round(time.Millisecond),
		last.at.Round(time.Second), last.took.Round(time.Millisecond))
	if achieved < 0.95*float64(rate) {
		t.Logf("the feed reached only %.0f%% of its target rate: the producer, not the worker, set the load", 100*achieved/float64(rate))
	}
	t.Logf("chaos: soak %s (fed in %s) at %d ids/s (achieved %.0f ids/s, capacity %.0f ids/s): %d ids, lost %d, duplicates %d, dead letters %d; "+
		"RSS %s; aggregates %s → %s, %d after the drain; tombstones %s → %s; used_memory %s → %s (shared Redis)",
		soak, fed.Round(time.Second), rate, achieved, capacity, feed.IDs, lost, dups, deadLetters.Distinct(),
		rssChange(first.rss, last.rss), first.join.aggregatesText(), last.join.aggregatesText(), drained,
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
		t.Errorf("%d ids dead-lettered on %s", n, w.dlq)
	}
	if limit := int64(pendingMargin * lag); last.join.aggregates > limit {
		t.Errorf("%d aggregates in Redis at the end of the feed, more than %d (%d× the %d joins the feed keeps pending)",
			last.join.aggregates, limit, pendingMargin, lag)
	}
	if last.join.tombstones > int64(feed.IDs) {
		t.Errorf("%d tombstones in Redis for a feed of %d ids: more than one per id", last.join.tombstones, feed.IDs)
	}
	if drained != 0 {
		t.Errorf("%d aggregates still in Redis a minute after every id came out", drained)
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

// measureCapacity deploys a join worker of its own and returns how many
// ids per second it emits while a feed shares the machine with it, as in
// the soak. First it drains a backlog of backlogIDs ids: its instances are
// paused (SIGSTOP) while the backlog is produced, so that the drain is
// measured on a complete backlog, from the moment they resume; the pause is
// kept shorter than the consumer-group session timeout (10 s) when the
// broker takes the backlog fast enough, so that no rebalance slows the
// drain. Draining, it has the machine to itself; on 2 cores the feed (the
// producer, and the broker taking its records) costs it a good part of
// that. So it is then fed at the drain rate for capacityFeed, and its output
// rate after capacityWarmup is the capacity: at most the drain rate, less
// when the feed slows it. The worker is stopped afterwards, so that it does
// not compete with the soak.
func measureCapacity(t *testing.T, ctx context.Context, c *demo.Client, brokers []string, rdb *redis.Client) float64 {
	t.Helper()
	w := newSoakWorker(t, ctx, c, brokers, rdb)
	emitted := stacktest.CheckIDs(ctx, brokers, w.out, false)

	signalAll(t, w.pids, syscall.SIGSTOP)
	paused := true
	defer func() { // resume them even if producing fails
		if paused {
			signalAll(t, w.pids, syscall.SIGCONT)
		}
	}()
	begin := time.Now()
	stacktest.JoinFeed{Brokers: brokers, Left: w.left, Right: w.right, IDs: backlogIDs, Rate: 1 << 30}.Run(t, ctx)
	resumed := time.Now()
	signalAll(t, w.pids, syscall.SIGCONT)
	paused = false

	deadline := resumed.Add(5 * time.Minute)
	for emitted.Distinct() < backlogIDs {
		if time.Now().After(deadline) {
			t.Fatalf("capacity: %d of %d ids out 5 minutes after the backlog", emitted.Distinct(), backlogIDs)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, bounded by deadline
	}
	drain := time.Since(resumed)
	drainRate := int(backlogIDs / drain.Seconds())

	var countedFrom time.Time
	var before int
	fed := stacktest.JoinFeed{Brokers: brokers, Left: w.left, Right: w.right, From: backlogIDs,
		IDs: drainRate * int(capacityFeed/time.Second), Rate: drainRate,
		Tick: func(elapsed time.Duration) {
			if countedFrom.IsZero() && elapsed >= capacityWarmup {
				countedFrom, before = time.Now(), emitted.Distinct()
			}
		}}
	fed.Run(t, ctx)
	capacity := float64(emitted.Distinct()-before) / time.Since(countedFrom).Seconds()
	t.Logf("capacity: backlog of %d ids produced in %s with the worker paused, drained in %s (%d ids/s); fed at that rate for %s, it emitted %.0f ids/s after %s: capacity %.0f ids/s",
		backlogIDs, resumed.Sub(begin).Round(time.Millisecond), drain.Round(time.Millisecond), drainRate,
		capacityFeed, capacity, capacityWarmup, capacity)
	stopWorker(t, ctx, c, w.id)
	return capacity
}

// soakWorker is a deployed 2-instance join worker ready for a feed.
type soakWorker struct {
	id                          int64
	name, dlq, left, right, out string
	pids                        map[string]int // allocation → pid
}

// newSoakWorker deploys a join worker (chaosWorker), whose join state is
// deleted when the test ends. The worker joins its topics' partitions only
// once they exist: it creates them (and the dead-letter topic, for its
// checker) and waits until the group has them all, so that no feed starts
// with a backlog.
func newSoakWorker(t *testing.T, ctx context.Context, c *demo.Client, brokers []string, rdb *redis.Client) soakWorker {
	t.Helper()
	var w soakWorker
	w.id, w.left, w.right, w.out = chaosWorker(t, ctx, c, brokers)
	w.name, w.dlq = workerTopics(t, ctx, c, w.id)
	t.Cleanup(func() { deleteJoinState(t, rdb, w.name) })
	createTopics(t, ctx, brokers, w.left, w.right, w.dlq)
	waitAssigned(t, ctx, brokers, w.name, w.left, w.right)
	if w.pids = allocationPIDs(t, ctx, c, w.id); len(w.pids) != 2 {
		t.Fatalf("found the processes of %d allocations, want 2: %v", len(w.pids), w.pids)
	}
	return w
}

// signalAll sends sig to every process of pids (allocation → pid).
func signalAll(t *testing.T, pids map[string]int, sig syscall.Signal) {
	t.Helper()
	for alloc, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil {
			t.Errorf("%s to pid %d (allocation %s): %v", sig, pid, alloc[:8], err)
		}
	}
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

// soakProgress returns a JoinFeed Tick that logs, at most every
// progressEvery, how many of ids came out and each instance's RSS.
func soakProgress(t *testing.T, ids int, emitted *stacktest.IDCheck, pids map[string]int) func(time.Duration) {
	next := progressEvery
	return func(elapsed time.Duration) {
		if elapsed < next {
			return
		}
		next = elapsed + progressEvery
		var rss []string
		for alloc, pid := range pids {
			b, err := processRSS(pid)
			if err != nil {
				rss = append(rss, alloc[:8]+" gone")
				continue
			}
			rss = append(rss, alloc[:8]+" "+humanBytes(b))
		}
		slices.Sort(rss)
		t.Logf("chaos soak: %s in, %d of %d ids out, RSS %s", elapsed.Round(time.Second), emitted.Distinct(), ids, strings.Join(rss, ", "))
	}
}

// soakSample is what the soak measures at one moment.
type soakSample struct {
	at         time.Duration    // since the feed started
	took       time.Duration    // how long measuring took
	rss        map[string]int64 // VmRSS in bytes, by allocation
	join       joinState
	usedMemory int64 // INFO used_memory of the whole Redis, shared with other tests
	err        error // what could not be measured
}

// sampleOn measures once when each of triggers is closed, in turn, in the
// background (a sample takes seconds once tombstones pile up, and the feed
// must not wait), and delivers the samples in order on the returned channel.
func sampleOn(ctx context.Context, rdb *redis.Client, worker string, pids map[string]int, start time.Time, triggers ...<-chan struct{}) <-chan soakSample {
	out := make(chan soakSample, len(triggers))
	go func() {
		for _, trigger := range triggers {
			select {
			case <-trigger:
			case <-ctx.Done():
				out <- soakSample{at: time.Since(start), err: ctx.Err()}
				continue
			}
			out <- measure(ctx, rdb, worker, pids, start)
		}
	}()
	return out
}

// measure reads the RSS of each process of pids (allocation → pid) and the
// worker's footprint in Redis.
func measure(ctx context.Context, rdb *redis.Client, worker string, pids map[string]int, start time.Time) soakSample {
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
	if s.join, err = readJoinState(ctx, rdb, worker); err != nil {
		errs = append(errs, err)
	}
	if s.usedMemory, err = usedMemory(ctx, rdb); err != nil {
		errs = append(errs, err)
	}
	s.err = errors.Join(errs...)
	s.took = time.Since(start) - s.at
	return s
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

// joinState is a worker's join state in Redis at one moment (see
// shared/join/doc.go for its keys).
type joinState struct {
	aggregates     int64 // j:<id> and x:... hashes: joins pending or claimed
	aggregateBytes int64 // the hashes and the due lists listing their deadlines
	tombstones     int64 // j:<id> strings: joins confirmed within the tombstone TTL
	tombstoneBytes int64 // extrapolated from the first tombstoneSample tombstones
}

// tombstoneSample is how many tombstones MEMORY USAGE is asked about: they
// are alike, and a 10-minute soak leaves millions of them.
const tombstoneSample = 10000

func (j joinState) aggregatesText() string {
	return fmt.Sprintf("%d (%s)", j.aggregates, humanBytes(j.aggregateBytes))
}

func (j joinState) tombstonesText() string {
	return fmt.Sprintf("%d (≈%s)", j.tombstones, humanBytes(j.tombstoneBytes))
}

// joinKeys is the SCAN pattern of worker's join keys whose kind (after the
// hash tag) matches kind.
func joinKeys(worker, kind string) string { return "trib:{" + worker + ":*}:" + kind }

// readJoinState reads the aggregates first, which change by the second,
// then the tombstones, which only pile up and take longer to count.
func readJoinState(ctx context.Context, rdb *redis.Client, worker string) (joinState, error) {
	var j joinState
	var err error
	if j.aggregates, j.aggregateBytes, err = readAggregates(ctx, rdb, worker); err != nil {
		return j, err
	}
	j.tombstones, j.tombstoneBytes, err = readTombstones(ctx, rdb, worker)
	return j, err
}

// readAggregates counts worker's join hashes (j:<id> pending or claimed,
// x:... claimed for expiry) and adds up the bytes of them and of the due
// lists. A key that is gone by the time its size is asked is not counted.
func readAggregates(ctx context.Context, rdb *redis.Client, worker string) (n, bytes int64, err error) {
	count := func(keys []string) error {
		sizes, err := memoryUsage(ctx, rdb, keys)
		for i, k := range keys {
			if sizes[i] < 0 {
				continue
			}
			if !strings.Contains(k, "}:due:") {
				n++
			}
			bytes += sizes[i]
		}
		return err
	}
	for _, p := range []struct{ kind, typ string }{{"[jx]:*", "hash"}, {"due:*", "list"}} {
		if err := scanKeys(ctx, rdb, joinKeys(worker, p.kind), p.typ, count); err != nil {
			return n, bytes, err
		}
	}
	return n, bytes, nil
}

// readTombstones counts worker's tombstones and extrapolates their bytes
// from the first tombstoneSample.
func readTombstones(ctx context.Context, rdb *redis.Client, worker string) (n, bytes int64, err error) {
	var sampled, sampledBytes int64
	err = scanKeys(ctx, rdb, joinKeys(worker, "j:*"), "string", func(keys []string) error {
		n += int64(len(keys))
		if sampled >= tombstoneSample {
			return nil
		}
		sizes, err := memoryUsage(ctx, rdb, keys)
		for _, b := range sizes {
			if b >= 0 {
				sampled++
				sampledBytes += b
			}
		}
		return err
	})
	if sampled > 0 {
		bytes = sampledBytes * n / sampled
	}
	return n, bytes, err
}

// scanKeys calls fn with the keys of type typ matching pattern, a batch at
// a time.
func scanKeys(ctx context.Context, rdb *redis.Client, pattern, typ string, fn func(keys []string) error) error {
	iter := rdb.ScanType(ctx, 0, pattern, 10000, typ).Iterator()
	batch := make([]string, 0, 1000)
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == cap(batch) {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("scan %s: %w", pattern, err)
	}
	if len(batch) == 0 {
		return nil
	}
	return fn(batch)
}

// memoryUsage is MEMORY USAGE of each key, in one round trip; -1 for a key
// that no longer exists.
func memoryUsage(ctx context.Context, rdb *redis.Client, keys []string) ([]int64, error) {
	pipe := rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.MemoryUsage(ctx, k)
	}
	sizes := make([]int64, len(keys))
	_, err := pipe.Exec(ctx)
	if err != nil && !errors.Is(err, redis.Nil) {
		return sizes, fmt.Errorf("memory usage: %w", err)
	}
	for i, c := range cmds {
		if sizes[i] = c.Val(); c.Err() != nil {
			sizes[i] = -1
		}
	}
	return sizes, nil
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

// waitDrained polls the worker's aggregates until none is left, or within
// passes, and returns the last count.
func waitDrained(ctx context.Context, rdb *redis.Client, worker string, within time.Duration) int64 {
	deadline := time.Now().Add(within)
	for {
		n, _, err := readAggregates(ctx, rdb, worker)
		if (err == nil && n == 0) || time.Now().After(deadline) {
			return n
		}
		time.Sleep(time.Second) // poll interval, bounded by deadline
	}
}

// deleteJoinState deletes the worker's keys from the shared Redis: a soak
// leaves one tombstone per id for an hour otherwise.
func deleteJoinState(t *testing.T, rdb *redis.Client, worker string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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

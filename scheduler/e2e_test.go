package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// End-to-end tests: a worker deployed by the scheduler consumes, joins and
// publishes real topics of the stack's broker from inside its Nomad
// allocation, keeps its consumer group balanced when scaled, and loses no
// message in flight when rolled to a new version.

// topics creates topics on the stack's broker with the given partition
// count and deletes them when the test ends. Call it before workerSpec, so
// the worker's job is purged before its topics are deleted.
func topics(tb testing.TB, partitions int, names ...string) []string {
	tb.Helper()
	brokers := stacktest.Kafka(tb)
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	req := &kafka.CreateTopicsRequest{}
	for _, n := range names {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: n, NumPartitions: partitions, ReplicationFactor: 1})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.CreateTopics(ctx, req)
	if err != nil {
		tb.Fatalf("create topics %v: %v", names, err)
	}
	for topic, err := range resp.Errors {
		if err != nil {
			tb.Fatalf("create topic %s: %v", topic, err)
		}
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: names}); err != nil {
			tb.Logf("delete topics %v: %v", names, err)
		}
	})
	return names
}

// forgetJoinState deletes the worker's join state and heartbeats from the
// stack's Redis when the test ends.
func forgetJoinState(tb testing.TB, worker string) {
	tb.Helper()
	rdb, _ := stacktest.Redis(tb)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, pattern := range []string{"trib:{" + worker + ":*", "tributary:heartbeat:{" + worker + "*"} {
			if _, err := stacktest.DeleteKeys(ctx, rdb, pattern); err != nil {
				tb.Logf("delete keys %s: %v", pattern, err)
			}
		}
	})
}

// fragment is one input message; text goes to content.text, title to
// content.title (when not empty).
func fragment(id, text, title string) kafka.Message {
	content := map[string]string{}
	if text != "" {
		content["text"] = text
	}
	if title != "" {
		content["title"] = title
	}
	b, _ := json.Marshal(map[string]any{"id": id, "content": content})
	return kafka.Message{Key: []byte(id), Value: b}
}

func newWriter(brokers []string, topic string) *kafka.Writer {
	return &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, RequiredAcks: kafka.RequireAll,
		Balancer: &kafka.Hash{}, BatchSize: 1000, BatchTimeout: 2 * time.Millisecond}
}

// output is what the template function publishes.
type output struct {
	ID      string `json:"id"`
	Content struct {
		Text      string `json:"text"`
		Title     string `json:"title"`
		WordCount *int   `json:"word_count"`
	} `json:"content"`
}

// readOutputs reads topic from its first offset through a fresh consumer
// group until enough(outputs) holds, then keeps reading for linger to catch
// messages beyond it. When ctx ends first it returns what it read and the
// reason.
func readOutputs(t *testing.T, ctx context.Context, brokers []string, topic string,
	enough func([]output) bool, linger time.Duration) ([]output, error) {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: stacktest.Name(t, "check"),
		GroupTopics: []string{topic}, StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond,
		SessionTimeout: 6 * time.Second})
	defer r.Close()
	var out []output
	read := func(ctx context.Context) error {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return err
		}
		var o output
		if err := json.Unmarshal(m.Value, &o); err != nil {
			t.Fatalf("output %q is not the template's JSON: %v", m.Value, err)
		}
		out = append(out, o)
		return nil
	}
	for !enough(out) {
		if err := read(ctx); err != nil {
			return out, fmt.Errorf("read %s: %d outputs: %w", topic, len(out), err)
		}
	}
	lctx, cancel := context.WithTimeout(ctx, linger)
	defer cancel()
	for read(lctx) == nil {
	}
	return out, nil
}

// counts returns how often each id was published.
func counts(out []output) map[string]int {
	m := make(map[string]int, len(out))
	for _, o := range out {
		m[o.ID]++
	}
	return m
}

// joinWorker creates two 6-partition input topics and an output topic, and
// returns a spec of a worker joining the inputs into the output.
func joinWorker(t *testing.T, s *scheduler.Scheduler) (spec scheduler.WorkerSpec, left, right, out string) {
	t.Helper()
	left, right, out = stacktest.Name(t, "left"), stacktest.Name(t, "right"), stacktest.Name(t, "out")
	topics(t, 6, left, right)
	topics(t, 3, out)
	spec = workerSpec(t, s)
	forgetJoinState(t, spec.Worker)
	spec.Env["TRIBUTARY_TOPICS_INPUT"] = left + "," + right
	spec.Env["TRIBUTARY_TOPICS_OUTPUT"] = out
	return spec, left, right, out
}

// A deployed worker joins two real topics inside its allocation: every id
// with a fragment on each input comes out once, with the text of one
// fragment counted and the title of the other upper-cased.
func TestDeployedWorkerJoinsTwoTopics(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	spec, left, right, out := joinWorker(t, s)
	brokers := stacktest.Kafka(t)

	deploy(t, ctx, s, spec)
	waitHealthy(t, ctx, s, spec.Worker, 1)

	const n = 500
	var lmsgs, rmsgs []kafka.Message
	for i := range n {
		id := fmt.Sprintf("j-%d", i)
		lmsgs = append(lmsgs, fragment(id, "hello joined world", ""))
		rmsgs = append(rmsgs, fragment(id, "", "right"))
	}
	start := time.Now()
	for topic, msgs := range map[string][]kafka.Message{left: lmsgs, right: rmsgs} {
		w := newWriter(brokers, topic)
		err := w.WriteMessages(ctx, msgs...)
		w.Close()
		if err != nil {
			t.Fatalf("produce to %s: %v", topic, err)
		}
	}

	got, err := readOutputs(t, ctx, brokers, out, func(o []output) bool { return len(o) >= n }, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d joined outputs %s after the first produce", len(got), time.Since(start).Round(time.Millisecond))
	if len(got) != n {
		t.Errorf("%d outputs, want exactly %d", len(got), n)
	}
	seen := counts(got)
	for i := range n {
		if id := fmt.Sprintf("j-%d", i); seen[id] != 1 {
			t.Errorf("id %s published %d times, want 1", id, seen[id])
		}
	}
	for _, o := range got {
		if o.Content.WordCount == nil || *o.Content.WordCount != 3 || o.Content.Title != "RIGHT" {
			t.Fatalf("output %+v: want word_count 3 from the left fragment and title RIGHT from the right one", o)
		}
	}
}

// groupAssignment reads the consumer group and returns its state and, per
// member, the topic partitions assigned to it ("topic/partition").
func groupAssignment(ctx context.Context, brokers []string, group string) (string, [][]string, error) {
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	resp, err := c.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil {
		return "", nil, err
	}
	if len(resp.Groups) != 1 {
		return "", nil, fmt.Errorf("describe group %s: %d groups", group, len(resp.Groups))
	}
	g := resp.Groups[0]
	if g.Error != nil {
		return "", nil, g.Error
	}
	var members [][]string
	for _, m := range g.Members {
		var parts []string
		for _, tp := range m.MemberAssignments.Topics {
			for _, p := range tp.Partitions {
				parts = append(parts, fmt.Sprintf("%s/%d", tp.Topic, p))
			}
		}
		slices.Sort(parts)
		members = append(members, parts)
	}
	return g.GroupState, members, nil
}

// waitGroupShares polls the worker's consumer group until it is stable
// with n members whose assignments cover want exactly once each.
func waitGroupShares(t *testing.T, ctx context.Context, brokers []string, group string, n int, want []string) [][]string {
	t.Helper()
	var last string
	for {
		state, members, err := groupAssignment(ctx, brokers, group)
		problem := sharing(state, members, n, want)
		if err != nil {
			problem = err.Error()
		}
		if problem == "" {
			return members
		}
		last = problem
		select {
		case <-ctx.Done():
			t.Fatalf("consumer group %s never had %d members sharing %d partitions: %s", group, n, len(want), last)
		case <-time.After(250 * time.Millisecond): // poll interval; ctx bounds the wait
		}
	}
}

// sharing says what keeps members from being n members that split want with
// no overlap; "" when nothing does.
func sharing(state string, members [][]string, n int, want []string) string {
	if state != "Stable" {
		return fmt.Sprintf("group state %q", state)
	}
	if len(members) != n {
		return fmt.Sprintf("%d members, want %d", len(members), n)
	}
	owner := map[string]int{}
	for i, parts := range members {
		if len(parts) == 0 {
			return fmt.Sprintf("member %d has no partitions", i)
		}
		for _, p := range parts {
			if j, ok := owner[p]; ok {
				return fmt.Sprintf("%s assigned to members %d and %d", p, j, i)
			}
			owner[p] = i
		}
	}
	for _, p := range want {
		if _, ok := owner[p]; !ok {
			return fmt.Sprintf("%s assigned to no member: %v", p, members)
		}
	}
	if len(owner) != len(want) {
		return fmt.Sprintf("%d partitions assigned, want %d: %v", len(owner), len(want), members)
	}
	return ""
}

// Scaled to 3, the worker's allocations form one consumer group of three
// members that split the 12 input partitions; scaled back to 1, the last
// member takes them all.
func TestScaledWorkerSharesPartitions(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	spec, left, right, _ := joinWorker(t, s)
	brokers := stacktest.Kafka(t)
	var all []string
	for _, topic := range []string{left, right} {
		for p := range 6 {
			all = append(all, fmt.Sprintf("%s/%d", topic, p))
		}
	}

	deploy(t, ctx, s, spec)
	waitHealthy(t, ctx, s, spec.Worker, 1)
	waitGroupShares(t, ctx, brokers, spec.Worker, 1, all)

	start := time.Now()
	if err := s.Scale(ctx, spec.Worker, 3, "test: scale up"); err != nil {
		t.Fatalf("Scale to 3: %v", err)
	}
	waitHealthy(t, ctx, s, spec.Worker, 3)
	members := waitGroupShares(t, ctx, brokers, spec.Worker, 3, all)
	t.Logf("3 members share the partitions %s after Scale: %v", time.Since(start).Round(time.Millisecond), members)

	start = time.Now()
	if err := s.Scale(ctx, spec.Worker, 1, "test: scale down"); err != nil {
		t.Fatalf("Scale to 1: %v", err)
	}
	waitHealthy(t, ctx, s, spec.Worker, 1)
	waitGroupShares(t, ctx, brokers, spec.Worker, 1, all)
	t.Logf("1 member holds all partitions %s after Scale", time.Since(start).Round(time.Millisecond))
}

// A rolling update to a new function version, while a producer writes
// steadily, loses no message: every id comes out at least once.
func TestRollingUpdateLosesNoMessage(t *testing.T) {
	t.Parallel()
	s, _ := newScheduler(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	in, out := stacktest.Name(t, "in"), stacktest.Name(t, "out")
	topics(t, 6, in)
	topics(t, 3, out)
	spec := workerSpec(t, s)
	forgetJoinState(t, spec.Worker)
	spec.Env["TRIBUTARY_TOPICS_INPUT"] = in
	spec.Env["TRIBUTARY_TOPICS_OUTPUT"] = out
	spec.FunctionVersion = "v1"
	brokers := stacktest.Kafka(t)

	v1 := deploy(t, ctx, s, spec)
	old := map[string]bool{}
	for _, a := range healthyRunning(waitHealthy(t, ctx, s, spec.Worker, 1)) {
		old[a.ID] = true
	}

	// 2,000 ids over about 15 s: 20 every 150 ms.
	const n, batch, every = 2000, 20, 150 * time.Millisecond
	produced := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := newWriter(brokers, in)
		defer w.Close()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; i < n; i += batch {
			var msgs []kafka.Message
			for j := i; j < min(i+batch, n); j++ {
				msgs = append(msgs, fragment(fmt.Sprintf("r-%d", j), "rolling update in flight", ""))
			}
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				produced <- fmt.Errorf("produce ids %d..: %w", i, err)
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				produced <- context.Cause(ctx)
				return
			}
		}
		produced <- nil
	}()
	t.Cleanup(wg.Wait)

	// Let the producer get going, so the update happens mid-stream.
	select {
	case <-time.After(2 * time.Second):
	case err := <-produced:
		t.Fatalf("producer ended before the update: %v", err)
	}
	start := time.Now()
	spec.FunctionVersion = "v2"
	v2 := deploy(t, ctx, s, spec)
	if v2.JobVersion <= v1.JobVersion {
		t.Fatalf("deploying v2 made job version %d, want above %d", v2.JobVersion, v1.JobVersion)
	}
	st := waitHealthy(t, ctx, s, spec.Worker, 1)
	if st.Version != v2.JobVersion || st.Meta["tributary_function_version"] != "v2" {
		t.Fatalf("after the rollout: job version %d, function version %q; want %d, v2", st.Version, st.Meta["tributary_function_version"], v2.JobVersion)
	}
	for _, a := range healthyRunning(st) {
		if a.JobVersion != v2.JobVersion {
			t.Errorf("healthy allocation %s runs job version %d, want %d", a.ID, a.JobVersion, v2.JobVersion)
		}
		// An in-place update would keep the v1 process running.
		if old[a.ID] {
			t.Errorf("allocation %s of v1 was updated in place, not replaced", a.ID)
		}
	}
	t.Logf("rolled v1 (job version %d) to v2 (job version %d) in %s", v1.JobVersion, v2.JobVersion, time.Since(start).Round(time.Millisecond))

	if err := <-produced; err != nil {
		t.Fatalf("producer: %v", err)
	}
	// Bound the read, so lost ids are listed rather than timing the test out.
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	got, err := readOutputs(t, rctx, brokers, out, func(o []output) bool { return len(counts(o)) >= n }, time.Second)
	if err != nil {
		t.Errorf("not every id came out: %v", err)
	}
	seen := counts(got)
	var missing, dups []string
	for i := range n {
		id := fmt.Sprintf("r-%d", i)
		switch c := seen[id]; {
		case c == 0:
			missing = append(missing, id)
		case c > 1:
			dups = append(dups, fmt.Sprintf("%s×%d", id, c))
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d ids lost in the rolling update: %v", len(missing), missing)
	}
	t.Logf("%d outputs for %d ids; %d ids published more than once (at-least-once across the update)%s",
		len(got), n, len(dups), sample(dups))
	for _, o := range got {
		if o.Content.WordCount == nil || *o.Content.WordCount != 4 {
			t.Fatalf("output %+v: want word_count 4", o)
		}
	}
}

// sample lists up to 10 items, for a log line.
func sample(items []string) string {
	if len(items) == 0 {
		return ""
	}
	if len(items) > 10 {
		return fmt.Sprintf(": %s, ...", strings.Join(items[:10], ", "))
	}
	return ": " + strings.Join(items, ", ")
}

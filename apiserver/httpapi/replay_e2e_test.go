package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/deadletter"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/apiserver/replay"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// rejecterBinary builds testdata/rejecter once per test process.
var rejecterBinary = buildOnce(".", "./testdata/rejecter")

// opsWorker uploads the rejecter, creates a worker reading in and writing
// out with it, deploys it and waits until it is healthy. Its job and
// topics go when the test ends.
func opsWorker(t *testing.T, e *env, client *nomad.Client, name, in, out string) (workerJSON, string) {
	t.Helper()
	bin, err := rejecterBinary()
	if err != nil {
		t.Fatal(err)
	}
	e.fnUpload(e.tokens[apiserver.RoleEditor], "rejecter", "1.0.0", bin).want(http.StatusCreated)
	body := fmt.Sprintf(`{"name":%q,"input_topics":[%q],"output_topics":[%q],"cluster_id":1,"function":"rejecter","function_version":"1.0.0"}`, name, in, out)
	w := e.wkCreate(body)
	opsCleanup(t, client, name, in, out, name+".dlq")
	kc, err := kafkaadmin.Dial(stacktest.Kafka(t))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, topic := range []string{in, out, name + ".dlq"} {
		if err := kc.CreateTopic(ctx, topic, 3, 1); err != nil {
			t.Fatal(err)
		}
	}
	e.do("POST", fmt.Sprintf("/api/v1/workers/%d/deploy", w.ID), e.tokens[apiserver.RoleEditor], "").want(http.StatusAccepted)
	e.dpWaitStatus(w.ID, 3*time.Minute, dpHealthy)
	return w, body
}

// opsCleanup purges the worker's job and deletes the stack's topics and
// groups the test made when it ends. The topics go only once the worker's group is
// empty: a worker still stopping would have the broker create them again.
func opsCleanup(t *testing.T, client *nomad.Client, worker string, topics ...string) {
	t.Cleanup(func() {
		client.Jobs().DeregisterOpts(scheduler.JobID(worker), &nomad.DeregisterOptions{Purge: true}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		kc, err := kafkaadmin.Dial(stacktest.Kafka(t))
		if err != nil {
			t.Error(err)
			return
		}
		defer kc.Close()
		for { // poll, bounded by ctx
			if g, err := kc.Describe(ctx, worker); err == nil && g.Members == 0 || ctx.Err() != nil {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		(&kafka.Client{Addr: kafka.TCP(stacktest.Kafka(t)...)}).DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics})
		// The worker's group and the checkers' groups (named after the topics).
		adm, err := kadm.NewOptClient(kgo.SeedBrokers(stacktest.Kafka(t)...))
		if err != nil {
			return
		}
		defer adm.Close()
		if listed, err := adm.ListGroups(ctx); err == nil {
			var mine []string
			for _, g := range listed.Groups() {
				if strings.HasPrefix(g, worker) {
					mine = append(mine, g)
				}
			}
			adm.DeleteGroups(ctx, mine...)
		}
	})
}

// opsProduce writes one message per id to topic, keyed by the id, with
// "reject": true on those reject says.
func opsProduce(t *testing.T, topic string, ids []string, reject func(i int) bool) {
	t.Helper()
	kc, err := kafkaadmin.Dial(stacktest.Kafka(t))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	recs := make([]kafkaadmin.Record, len(ids))
	for i, id := range ids {
		recs[i] = kafkaadmin.Record{Topic: topic, Partition: -1, Key: []byte(id),
			Value: fmt.Appendf(nil, `{"id":%q,"reject":%t,"content":{"text":"n %d"}}`, id, reject(i), i)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kc.Produce(ctx, recs); err != nil {
		t.Fatal(err)
	}
}

func opsEnds(t *testing.T, topic string) int64 {
	t.Helper()
	kc, err := kafkaadmin.Dial(stacktest.Kafka(t))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ends, err := kc.EndOffsets(context.Background(), []string{topic})
	if err != nil {
		t.Fatal(err)
	}
	return ends[topic]
}

// opsRolledTo waits until every running allocation runs a job version
// after v, and they are healthy.
func opsRolledTo(e *env, id int64, v uint64) {
	e.dpWaitStatus(id, 3*time.Minute, func(st statusJSON) bool {
		if !dpHealthy(st) || st.Job.Version <= v {
			return false
		}
		for _, a := range st.Allocations {
			if a.ClientStatus == "running" && a.JobVersion != st.Job.Version {
				return false
			}
		}
		return true
	})
}

// TestRedriveAfterTheFunctionIsFixed: a version
// that rejects some messages dead-letters them; after a version that
// accepts them is deployed, a redrive sends each one through exactly once,
// and a second redrive of the same offsets sends nothing.
func TestRedriveAfterTheFunctionIsFixed(t *testing.T) {
	e, client := dpEnv(t)
	name := stacktest.Name(t, "redrive")
	in, out := name+".in", name+".out"
	w, body := opsWorker(t, e, client, name, in, out)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	brokers := stacktest.Kafka(t)
	emitted := stacktest.CheckIDs(ctx, brokers, out, false)
	dead := stacktest.CheckIDs(ctx, brokers, name+".dlq", true)

	ids := stacktest.IDs(30)
	rejected := func(i int) bool { return i%3 == 0 }
	var good, bad []string
	for i, id := range ids {
		if rejected(i) {
			bad = append(bad, id)
		} else {
			good = append(good, id)
		}
	}
	opsProduce(t, in, ids, rejected)
	stacktest.WaitFor(t, 2*time.Minute, good, emitted)
	stacktest.WaitFor(t, 2*time.Minute, bad, dead)
	if lost, dups := emitted.Tally(good); lost != 0 || dups != 0 || emitted.Distinct() != len(good) {
		t.Fatalf("before the fix: %d accepted ids lost, %d duplicates, %d distinct out (want %d)", lost, dups, emitted.Distinct(), len(good))
	}
	if lost, dups := dead.Tally(bad); lost != 0 || dups != 0 {
		t.Fatalf("before the fix: %d rejected ids not dead-lettered, %d twice", lost, dups)
	}
	path := fmt.Sprintf("/api/v1/workers/%d", w.ID)
	var page deadletter.Page
	e.do("GET", path+"/dead-letters?limit=100", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&page)
	if len(page.Letters) != len(bad) || page.Letters[0].Class != "rejected" || page.Letters[0].Source == nil ||
		page.Letters[0].Source.Topic != in || !strings.Contains(page.Letters[0].Error, "reject") {
		t.Fatalf("dead letters %+v", page)
	}

	// The fix: metadata that accepts them, a new config version, deployed.
	var st statusJSON
	e.do("GET", path+"/status", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&st)
	fixed := strings.TrimSuffix(body, "}") + `,"metadata":{"accept_rejects":true}}`
	e.do("PUT", path, e.tokens[apiserver.RoleEditor], fixed).want(http.StatusOK)
	e.do("POST", path+"/deploy", e.tokens[apiserver.RoleEditor], "").want(http.StatusAccepted)
	opsRolledTo(e, w.ID, st.Job.Version)

	var offsets []string
	for _, l := range page.Letters {
		offsets = append(offsets, fmt.Sprintf(`{"partition":%d,"offset":%d}`, l.Partition, l.Offset))
	}
	start := time.Now()
	var res deadletter.RedriveResult
	e.do("POST", path+"/dead-letters/redrive", e.tokens[apiserver.RoleEditor], `{"class":"rejected","reason":"accept_rejects"}`).
		want(http.StatusOK).decode(&res)
	if res.Redriven != len(bad) || res.Refused+res.Failed+res.AlreadyRedriven != 0 {
		t.Fatalf("redrive %+v", res)
	}
	stacktest.WaitFor(t, 2*time.Minute, bad, emitted)
	t.Logf("redrive: %d dead letters out again within %s of the redrive (with WaitFor's 3-s linger)", len(bad), time.Since(start).Round(time.Millisecond))
	if lost, dups := emitted.Tally(ids); lost != 0 || dups != 0 {
		t.Fatalf("after the redrive: %d ids never out, %d out twice", lost, dups)
	}

	inBefore := opsEnds(t, in)
	e.do("POST", path+"/dead-letters/redrive", e.tokens[apiserver.RoleEditor], `{"offsets":[`+strings.Join(offsets, ",")+`]}`).
		want(http.StatusOK).decode(&res)
	if res.Redriven != 0 || res.AlreadyRedriven != len(bad) {
		t.Fatalf("second redrive %+v", res)
	}
	if got := opsEnds(t, in); got != inBefore {
		t.Errorf("the second redrive wrote %d records to %s", got-inBefore, in)
	}
	if lost, dups := emitted.Tally(ids); lost != 0 || dups != 0 || dead.Distinct() != len(bad) {
		t.Errorf("after the second redrive: %d lost, %d duplicates, %d dead letters (want %d)", lost, dups, dead.Distinct(), len(bad))
	}
}

// TestResetToATimestamp: a reset to a time is
// refused with 409 while the worker runs, and with stop the worker
// processes again exactly the records produced after that time.
func TestResetToATimestamp(t *testing.T) {
	e, client := dpEnv(t)
	name := stacktest.Name(t, "replay")
	in, out := name+".in", name+".out"
	w, _ := opsWorker(t, e, client, name, in, out)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	emitted := stacktest.CheckIDs(ctx, stacktest.Kafka(t), out, false)
	none := func(int) bool { return false }

	before := make([]string, 20)
	after := make([]string, 20)
	for i := range before {
		before[i], after[i] = fmt.Sprintf("before-%d", i), fmt.Sprintf("after-%d", i)
	}
	opsProduce(t, in, before, none)
	stacktest.WaitFor(t, 2*time.Minute, before, emitted)
	cut := time.Now() // every "before" record was produced at least WaitFor's linger earlier
	opsProduce(t, in, after, none)
	stacktest.WaitFor(t, 2*time.Minute, after, emitted)
	if lost, dups := emitted.Tally(append(before, after...)); lost != 0 || dups != 0 {
		t.Fatalf("first pass: %d lost, %d duplicates", lost, dups)
	}

	path := fmt.Sprintf("/api/v1/workers/%d/offsets", w.ID)
	reset := fmt.Sprintf(`{"to":{"timestamp":%q},"reason":"replay after %s"`, cut.UTC().Format(time.RFC3339Nano), cut.Format(time.TimeOnly))
	got := e.do("POST", path, e.tokens[apiserver.RoleEditor], reset+"}").want(http.StatusConflict).errorOf()
	if got.Field != "stop" || !strings.Contains(got.Message, "active members") {
		t.Errorf("reset of the running worker: %+v", got)
	}
	start := time.Now()
	var res replay.ResetResult
	e.do("POST", path, e.tokens[apiserver.RoleEditor], reset+`,"stop":true}`).want(http.StatusOK).decode(&res)
	t.Logf("reset with stop: answered in %s: %+v", time.Since(start).Round(time.Millisecond), res)
	if !res.Stopped || !res.Redeployed || len(res.To) != 3 {
		t.Fatalf("reset %+v", res)
	}
	var moved int64 // back, over every partition
	for _, o := range res.From {
		moved += o.Offset
	}
	for _, o := range res.To {
		moved -= o.Offset
	}
	if moved != int64(len(after)) {
		t.Errorf("the reset moved the group back %d records, want %d: from %v to %v", moved, len(after), res.From, res.To)
	}
	e.dpWaitStatus(w.ID, 3*time.Minute, dpHealthy)
	deadline := time.Now().Add(2 * time.Minute)
	for twice := 0; twice < len(after) && time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) { // poll, bounded by deadline
		twice = 0
		for _, id := range after {
			if emitted.Count(id) == 2 {
				twice++
			}
		}
	}
	stacktest.WaitFor(t, 0, nil, emitted) // linger for records still in flight
	for _, id := range before {
		if n := emitted.Count(id); n != 1 {
			t.Errorf("%s (produced before the time) out %d times, want 1", id, n)
		}
	}
	for _, id := range after {
		if n := emitted.Count(id); n != 2 {
			t.Errorf("%s (produced after the time) out %d times, want 2", id, n)
		}
	}
	t.Logf("replay: %d records processed again %s after the reset was asked", len(after), time.Since(start).Round(time.Millisecond))
}

// TestRewindAJoinWorker: rewinding a join worker to the earliest offsets
// emits nothing again while its completed ids keep their tombstones, and
// every id once more with clear_tombstones (which checks the tombstone key
// layout replay assumes against the runtime's).
func TestRewindAJoinWorker(t *testing.T) {
	e, client := dpEnv(t)
	rdb, _ := stacktest.Redis(t)
	brokers := stacktest.Kafka(t)
	name := stacktest.Name(t, "rewind")
	left, right, out := name+".left", name+".right", name+".out"
	opsCleanup(t, client, name, left, right, out, name+".dlq")
	w := e.wkCreate(fmt.Sprintf(`{"name":%q,"input_topics":[%q,%q],"output_topics":[%q],"cluster_id":1,
	  "function":"template","function_version":"1.0.0"}`, name, left, right, out))
	path := fmt.Sprintf("/api/v1/workers/%d", w.ID)
	e.do("POST", path+"/deploy", e.tokens[apiserver.RoleEditor], "").want(http.StatusAccepted)
	e.dpWaitStatus(w.ID, 3*time.Minute, dpHealthy)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	emitted := stacktest.CheckIDs(ctx, brokers, out, false)
	feed := stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: 20, Rate: 100}
	feed.Run(t, ctx)
	ids := stacktest.IDs(feed.IDs)
	stacktest.WaitFor(t, 2*time.Minute, ids, emitted)
	t.Cleanup(func() { stacktest.DeleteKeys(context.Background(), rdb, "trib:{"+name+":*") })
	// Tombstones are written when the output is confirmed, just after it:
	// a string left under the join's key (shared/join/doc.go). The rewind
	// below checks that replay's own copy of that layout finds them.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) { // poll, bounded by deadline
		n := 0
		iter := rdb.ScanType(ctx, 0, "trib:{"+name+":*}:j:*", 10000, "string").Iterator()
		for iter.Next(ctx) {
			n++
		}
		err := iter.Err()
		if err == nil && n == feed.IDs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tombstones after the first pass (%v), want %d", n, err, feed.IDs)
		}
	}

	drained := func() {
		t.Helper()
		e.dpWaitStatus(w.ID, 3*time.Minute, dpHealthy)
		var m metricsJSON
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(250 * time.Millisecond) { // poll, bounded by deadline
			e.do("GET", path+"/metrics", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&m)
			if m.Lag.Total == 0 && len(m.Lag.Partitions) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the rewound worker still lags %d", m.Lag.Total)
			}
		}
		stacktest.WaitFor(t, 0, nil, emitted) // linger for records still in flight
	}
	var res replay.ResetResult
	e.do("POST", path+"/offsets", e.tokens[apiserver.RoleEditor], `{"to":"earliest","stop":true}`).want(http.StatusOK).decode(&res)
	if !res.Redeployed || res.TombstonesCleared != nil {
		t.Fatalf("rewind %+v", res)
	}
	drained()
	if lost, dups := emitted.Tally(ids); lost != 0 || dups != 0 {
		t.Fatalf("rewound with its tombstones: %d lost, %d emitted again; want none again", lost, dups)
	}

	e.do("POST", path+"/offsets", e.tokens[apiserver.RoleEditor], `{"to":"earliest","stop":true,"clear_tombstones":true}`).
		want(http.StatusOK).decode(&res)
	if res.TombstonesCleared == nil || *res.TombstonesCleared != feed.IDs {
		t.Fatalf("rewind clearing tombstones %+v, want %d cleared", res, feed.IDs)
	}
	drained()
	for _, id := range ids {
		if n := emitted.Count(id); n != 2 {
			t.Errorf("%s out %d times after the rewind without tombstones, want 2", id, n)
		}
	}
}

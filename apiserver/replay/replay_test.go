package replay

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// memberJob is a worker's job played by one group member: Stop closes it
// (it leaves the group), Start counts.
type memberJob struct {
	member  *kgo.Client
	starts  int
	stopErr error
}

func (j *memberJob) Stop(context.Context) error  { j.member.Close(); return j.stopErr }
func (j *memberJob) Start(context.Context) error { j.starts++; return nil }

func TestReset(t *testing.T) {
	brokers := stacktest.Kfake(t, 2)
	a, err := kafkaadmin.Dial(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := a.CreateTopic(ctx, "in", 2, 1); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	for i, at := range []time.Time{cut.Add(-time.Minute), cut.Add(-time.Second), cut, cut.Add(time.Second)} {
		if _, err := a.Produce(ctx, []kafkaadmin.Record{{Topic: "in", Partition: int32(i % 2), Value: []byte("x"), Timestamp: at}}); err != nil {
			t.Fatal(err)
		}
	}
	member, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup("g"), kgo.ConsumeTopics("in"),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		member.PollFetches(pctx)
		pcancel()
		if g, err := a.Describe(ctx, "g"); err == nil && g.Members == 1 {
			break
		}
	}
	job := &memberJob{member: member}
	cleared := 0
	clear := func(context.Context) (int, error) { cleared++; return 7, nil }
	req := Request{Group: "g", Topics: []string{"in"}, To: To{At: cut}}

	_, err = Reset(ctx, a, job, clear, req)
	if e, ok := errors.AsType[*apiserver.Error](err); !ok || e.Code != apiserver.CodeConflict || e.Field != "stop" || !errors.Is(err, ErrActive) {
		t.Fatalf("reset with a member and no stop: %v", err)
	}
	for _, bad := range []Request{
		{Group: "g", Topics: []string{"in", "missing"}, To: To{Position: Earliest}, Stop: true},
		{Group: "g", Topics: []string{"in"}, To: To{Offsets: []kafkaadmin.Offset{{Topic: "other", Partition: 0}}}, Stop: true},
		{Group: "g", Topics: []string{"in"}, To: To{Offsets: []kafkaadmin.Offset{{Topic: "in", Partition: 5}}}, Stop: true},
		{Group: "g", Topics: []string{"in"}, Stop: true},
	} {
		if _, err := Reset(ctx, a, job, clear, bad); apiserver.ErrorCode(err) != apiserver.CodeInvalid || job.starts != 0 {
			t.Errorf("%+v: %v (starts %d); want a 422 before stopping anything", bad.To, err, job.starts)
		}
	}

	// A dry run of a running worker stops nothing and commits nothing.
	dry := req
	dry.DryRun, dry.Stop = true, true
	res, err := Reset(ctx, a, job, clear, dry)
	if err != nil || !res.DryRun || res.Stopped || job.starts != 0 || cleared != 0 || fmt.Sprint(res.To) != "[{in 0 1} {in 1 1}]" {
		t.Errorf("dry run %+v (%v, starts %d)", res, err, job.starts)
	}
	if g, err := a.Describe(ctx, "g"); err != nil || g.Members != 1 {
		t.Errorf("after a dry run the member is gone: %+v, %v", g, err)
	}

	req.Stop, req.ClearTombstones = true, true
	res, err = Reset(ctx, a, job, clear, req)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || !res.Redeployed || job.starts != 1 || cleared != 1 || *res.TombstonesCleared != 7 ||
		fmt.Sprint(res.To) != "[{in 0 1} {in 1 1}]" {
		t.Errorf("reset %+v (starts %d, cleared %d)", res, job.starts, cleared)
	}
	if got, _ := a.Committed(ctx, "g", []string{"in"}); fmt.Sprint(got) != "[{in 0 1} {in 1 1}]" {
		t.Errorf("committed %v", got)
	}

	// With nobody in the group nothing is stopped or deployed.
	res, err = Reset(ctx, a, job, clear, Request{Group: "g", Topics: []string{"in"}, To: To{Position: Earliest}})
	if err != nil || res.Stopped || res.Redeployed || job.starts != 1 || fmt.Sprint(res.From) != "[{in 0 1} {in 1 1}]" ||
		fmt.Sprint(res.To) != "[{in 0 0} {in 1 0}]" || res.TombstonesCleared != nil {
		t.Errorf("reset of an empty group %+v (%v)", res, err)
	}
	res, err = Reset(ctx, a, job, clear, Request{Group: "g", Topics: []string{"in"}, To: To{Offsets: []kafkaadmin.Offset{{Topic: "in", Partition: 1, Offset: 2}}}})
	if got, _ := a.Committed(ctx, "g", []string{"in"}); err != nil || fmt.Sprint(got) != "[{in 0 0} {in 1 2}]" {
		t.Errorf("explicit offsets: committed %v (%v)", got, err)
	}
}

func TestClearTombstones(t *testing.T) {
	rdb, _ := stacktest.Redis(t)
	ctx := context.Background()
	name := stacktest.Name(t, "tomb")
	hashes := []string{
		"trib:{" + name + ":3}:j:x",   // a pending join
		"trib:{" + name + ":3}:x:1:y", // an expiry claim
	}
	keep := []string{
		"trib:{" + name + ":3}:cursor",          // a string, not a join
		"trib:{" + name + ":3}:n",               // likewise
		"trib:{" + name + "x:1}:j:y",            // another worker's tombstone
		"trib:{" + name + ":b}:j:z",             // not a bucket number
		"trib:{" + name + ":2}:x:5:weird}:j:id", // an id that looks like a tombstone's key
	}
	drop := []string{"trib:{" + name + ":0}:j:a", "trib:{" + name + ":17}:j:b}:j:c"}
	for _, k := range append(keep, drop...) {
		if err := rdb.Set(ctx, k, "1", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range hashes {
		if err := rdb.HSet(ctx, k, "s", "p:1:01").Err(); err != nil {
			t.Fatal(err)
		}
		rdb.Expire(ctx, k, time.Minute)
	}
	keep = append(keep, hashes...)
	t.Cleanup(func() { rdb.Del(ctx, append(keep, drop...)...) })
	n, err := ClearTombstones(ctx, rdb, name)
	if err != nil || n != len(drop) {
		t.Fatalf("cleared %d (%v), want %d", n, err, len(drop))
	}
	for _, k := range keep {
		if rdb.Exists(ctx, k).Val() != 1 {
			t.Errorf("%s was deleted", k)
		}
	}
	for _, k := range drop {
		if rdb.Exists(ctx, k).Val() != 0 {
			t.Errorf("%s was kept", k)
		}
	}
}

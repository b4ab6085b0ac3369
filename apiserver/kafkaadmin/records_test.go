package kafkaadmin

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestReadAndProduce(t *testing.T) {
	brokers := stacktest.Kfake(t, 3)
	a := dial(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.CreateTopic(ctx, "dl", 3, 1); err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for i := range 5 {
		recs = append(recs, Record{Topic: "dl", Partition: 1, Key: []byte("k"), Value: fmt.Appendf(nil, "v%d", i),
			Headers: []Header{{"h", []byte("a")}, {"h", []byte(fmt.Sprint(i))}}})
	}
	recs = append(recs, Record{Topic: "dl", Partition: -1, Key: []byte("by-key"), Value: []byte("x")})
	sent, err := a.Produce(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sent[:5] {
		if s.Partition != 1 || s.Offset != int64(i) {
			t.Errorf("record %d went to %d/%d, want 1/%d", i, s.Partition, s.Offset, i)
		}
	}
	// A partition the topic lacks falls back to the key, as -1 does.
	again, err := a.Produce(ctx, []Record{{Topic: "dl", Partition: 7, Key: []byte("by-key"), Value: []byte("y")}})
	if err != nil || again[0].Partition != sent[5].Partition {
		t.Errorf("by key: %+v then %+v (%v)", sent[5], again, err)
	}
	if sent[5].Partition != 1 {
		t.Fatalf("the test expects by-key to hash to partition 1 of 3; it went to %d", sent[5].Partition)
	}

	bounds, err := a.TopicBounds(ctx, "dl")
	if err != nil || len(bounds) != 3 || bounds[1] != (Bounds{1, 0, 7}) {
		t.Fatalf("bounds %+v (%v)", bounds, err)
	}
	if _, err := a.TopicBounds(ctx, "nope"); err == nil || !strings.Contains(err.Error(), ErrUnknownTopic.Error()) {
		t.Errorf("bounds of a missing topic: %v", err)
	}
	for _, tc := range []struct {
		from       int64
		limit      int
		wantOffset []int64
	}{{0, 10, []int64{0, 1, 2, 3, 4}}, {2, 2, []int64{2, 3}}, {4, 10, []int64{4}}, {5, 10, nil}} {
		got, err := a.Read(ctx, "dl", 1, tc.from, 5, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var offs []int64
		for _, r := range got {
			offs = append(offs, r.Offset)
		}
		if fmt.Sprint(offs) != fmt.Sprint(tc.wantOffset) {
			t.Errorf("read from %d limit %d: offsets %v, want %v", tc.from, tc.limit, offs, tc.wantOffset)
		}
		if len(got) > 0 && (string(got[0].Value) != fmt.Sprintf("v%d", tc.from) || len(got[0].Headers) != 2 ||
			string(got[0].Headers[1].Value) != fmt.Sprint(tc.from) || got[0].Timestamp.IsZero()) {
			t.Errorf("record %+v", got[0])
		}
	}
}

func TestOffsetsAndCommit(t *testing.T) {
	brokers := stacktest.Kfake(t, 2)
	a := dial(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.CreateTopic(ctx, "in", 2, 1); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	produceAt := func(p int32, n int, at time.Time) {
		for range n {
			if _, err := a.Produce(ctx, []Record{{Topic: "in", Partition: p, Value: []byte("x"), Timestamp: at}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	produceAt(0, 3, cut.Add(-time.Second))
	produceAt(1, 1, cut.Add(-time.Millisecond))
	produceAt(0, 2, cut)
	for name, tc := range map[string]struct {
		list func() ([]Offset, error)
		want string
	}{
		"earliest": {func() ([]Offset, error) { return a.Earliest(ctx, []string{"in"}) }, "[{in 0 0} {in 1 0}]"},
		"latest":   {func() ([]Offset, error) { return a.Latest(ctx, []string{"in"}) }, "[{in 0 5} {in 1 1}]"},
		"after":    {func() ([]Offset, error) { return a.After(ctx, cut, []string{"in"}) }, "[{in 0 3} {in 1 1}]"},
	} {
		got, err := tc.list()
		if err != nil || fmt.Sprint(got) != tc.want {
			t.Errorf("%s: %v (%v), want %s", name, got, err, tc.want)
		}
	}
	if _, err := a.Latest(ctx, []string{"in", "missing"}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("offsets of a missing topic: %v", err)
	}

	if got, err := a.Committed(ctx, "g", []string{"in"}); err != nil || len(got) != 0 {
		t.Errorf("committed of an unknown group: %v (%v)", got, err)
	}
	if err := a.Commit(ctx, "g", []Offset{{"in", 0, 3}, {"in", 1, 1}}); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Committed(ctx, "g", []string{"in"}); err != nil || fmt.Sprint(got) != "[{in 0 3} {in 1 1}]" {
		t.Errorf("committed %v (%v)", got, err)
	}
	lag, _, err := a.Lag(ctx, "g", []string{"in"})
	if err != nil || lag[0].Lag != 2 || lag[1].Lag != 0 {
		t.Errorf("lag after the commit %+v (%v)", lag, err)
	}

	// A member in the group: Describe shows it, and an administrator's
	// commit is refused while it is there.
	member, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("test-member"), kgo.ConsumerGroup("g"),
		kgo.ConsumeTopics("in"), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	var d Group
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		member.PollFetches(pctx)
		pcancel()
		if d, err = a.Describe(ctx, "g"); err == nil && d.State == "Stable" && len(d.Consumers) == 1 && len(d.Consumers[0].Assignments) == 1 {
			break
		}
	}
	if d.Members != 1 || d.Consumers[0].ClientID != "test-member" || d.Consumers[0].Host == "" ||
		fmt.Sprint(d.Consumers[0].Assignments) != "[{in [0 1]}]" {
		t.Fatalf("described %+v (%v)", d, err)
	}
	if err := a.Commit(ctx, "g", []Offset{{"in", 0, 0}}); err == nil {
		t.Error("a commit while a member consumes was accepted")
	}
	member.Close()
	if d, err := a.Describe(ctx, "nobody"); err != nil || d.State != "Dead" || d.Members != 0 {
		t.Errorf("describe of an unknown group: %+v (%v)", d, err)
	}
}

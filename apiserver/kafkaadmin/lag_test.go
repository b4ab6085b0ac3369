package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

// produce writes counts[p] records to partition p of topic.
func produce(t *testing.T, brokers []string, topic string, counts map[int]int) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: keyIsPartition{},
		BatchTimeout: time.Millisecond, AllowAutoTopicCreation: true}
	defer w.Close()
	var msgs []kafka.Message
	for p, n := range counts {
		for i := range n {
			msgs = append(msgs, kafka.Message{Key: []byte(strconv.Itoa(p)), Value: fmt.Appendf(nil, `{"id":"%d-%d"}`, p, i)})
		}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// keyIsPartition sends a record to the partition its key names.
type keyIsPartition struct{}

func (keyIsPartition) Balance(m kafka.Message, _ ...int) int {
	p, _ := strconv.Atoi(string(m.Key))
	return p
}

// consume reads n records of topic as a member of group, commits them the
// way a worker does (after reading) and leaves the group.
func consume(t *testing.T, brokers []string, group, topic string, n int) {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: group, Topic: topic,
		MaxWait: 50 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond, SessionTimeout: time.Second})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
}

// brokerLag is the lag of group on each partition of topic computed
// without the code under test: the leader's last offset read on a plain
// connection, minus the offset OffsetFetch returns (-1, nothing committed,
// counts as 0).
func brokerLag(t *testing.T, brokers []string, group, topic string, partitions int) map[int]int64 {
	t.Helper()
	ctx := context.Background()
	ids := make([]int, partitions)
	for p := range ids {
		ids[p] = p
	}
	of, err := (&kafka.Client{Addr: kafka.TCP(brokers...)}).OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err != nil {
		t.Fatal(err)
	}
	committed := map[int]int64{}
	for _, p := range of.Topics[topic] {
		committed[p.Partition] = max(p.CommittedOffset, 0)
	}
	out := map[int]int64{}
	for _, p := range ids {
		conn, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, p)
		if err != nil {
			t.Fatal(err)
		}
		last, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[p] = last - committed[p]
	}
	return out
}

// dial is an Admin of brokers closed when the test ends.
func dial(t *testing.T, brokers []string) *Admin {
	t.Helper()
	a, err := Dial(brokers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func TestLagEqualsTheBrokers(t *testing.T) {
	brokers := stacktest.Kfake(t, 3)
	group, topic := "enricher", "documents.raw"
	produce(t, brokers, topic, map[int]int{0: 10, 1: 7, 2: 4})
	consume(t, brokers, group, topic, 8)
	want := brokerLag(t, brokers, group, topic, 3)
	if total := want[0] + want[1] + want[2]; total != 21-8 {
		t.Fatalf("the test's own lag %v totals %d, want 13 after consuming 8 of 21", want, total)
	}

	c := dial(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lag, missing, err := c.Lag(ctx, group, []string{topic, "never.written"})
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || missing[0] != "never.written" {
		t.Errorf("missing %v, want [never.written]", missing)
	}
	if len(lag) != 3 {
		t.Fatalf("lag %+v, want 3 partitions", lag)
	}
	for i, l := range lag {
		if l.Topic != topic || l.Partition != i || l.Lag != want[i] || l.End-max(l.Committed, 0) != l.Lag {
			t.Errorf("partition %d: %+v, broker lag %d", i, l, want[i])
		}
	}

	ends, err := c.EndOffsets(ctx, []string{topic, "never.written"})
	if err != nil || len(ends) != 1 || ends[topic] != 21 {
		t.Errorf("end offsets %v (%v), want %s: 21", ends, err, topic)
	}
}

func TestGroupsOfACluster(t *testing.T) {
	brokers := stacktest.Kfake(t, 3)
	produce(t, brokers, "a", map[int]int{0: 5, 1: 5, 2: 5})
	produce(t, brokers, "b", map[int]int{0: 2})
	consume(t, brokers, "g1", "a", 6)
	consume(t, brokers, "g2", "b", 2)
	want := brokerLag(t, brokers, "g1", "a", 3)

	c := dial(t, brokers)
	groups, err := c.Groups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[0].ID != "g1" || groups[1].ID != "g2" {
		t.Fatalf("groups %+v, want g1 and g2", groups)
	}
	g1 := groups[0]
	if len(g1.Topics) != 1 || g1.Topics[0].Topic != "a" || g1.Topics[0].Partitions != 3 ||
		g1.Lag != want[0]+want[1]+want[2] || g1.Topics[0].Committed != 6 || g1.Topics[0].End != 15 {
		t.Errorf("g1 %+v, want lag %v on a", g1, want)
	}
	if bp := g1.Topics[0].ByPartition; len(bp) != 3 {
		t.Errorf("g1 by partition %+v, want 3", bp)
	} else {
		for i, pp := range bp {
			if pp.Partition != int32(i) || pp.End != 5 || pp.Lag != want[i] || (pp.Committed == -1) != (want[i] == 5) ||
				(pp.Committed >= 0 && pp.Committed+pp.Lag != 5) {
				t.Errorf("g1 partition %d: %+v, want lag %d of 5", i, pp, want[i])
			}
		}
	}
	if g2 := groups[1]; g2.Lag != 0 || len(g2.Topics) != 1 || g2.Topics[0].Committed != 2 || g2.Members != 0 {
		t.Errorf("g2 %+v, want b fully consumed and nobody left in the group", g2)
	}
}

func TestUnreachableCluster(t *testing.T) {
	c := dial(t, []string{"127.0.0.1:1"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for name, call := range map[string]func() error{
		"lag":    func() error { _, _, err := c.Lag(ctx, "g", []string{"a"}); return err },
		"ends":   func() error { _, err := c.EndOffsets(ctx, []string{"a"}); return err },
		"groups": func() error { _, err := c.Groups(ctx); return err },
	} {
		if err := call(); !errors.Is(err, ErrUnreachable) {
			t.Errorf("%s: %v, want ErrUnreachable", name, err)
		}
	}
}

func TestGroupAssignedButNotCommitted(t *testing.T) {
	brokers := stacktest.Kfake(t, 2)
	produce(t, brokers, "c", map[int]int{0: 3, 1: 4})
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: "reader", Topic: "c",
		MaxWait: 50 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond, SessionTimeout: time.Second})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := r.FetchMessage(ctx); err != nil { // joins and is assigned; commits nothing
		t.Fatal(err)
	}
	c := dial(t, brokers)
	var g Group
	for ctx.Err() == nil {
		groups, err := c.Groups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) == 1 && groups[0].State == "Stable" && len(groups[0].Consumers) == 1 {
			g = groups[0]
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(g.Consumers) != 1 || len(g.Consumers[0].Assignments) != 1 || fmt.Sprint(g.Consumers[0].Assignments[0].Partitions) != "[0 1]" {
		t.Fatalf("group %+v: want one member assigned both partitions of c", g)
	}
	if len(g.Topics) != 1 || g.Topics[0].Topic != "c" || g.Lag != 7 || g.Topics[0].Committed != 0 || len(g.Topics[0].ByPartition) != 2 ||
		g.Topics[0].ByPartition[0] != (PartitionPosition{0, -1, 3, 3}) || g.Topics[0].ByPartition[1] != (PartitionPosition{1, -1, 4, 4}) {
		t.Errorf("group %+v: want c's whole 7 records as lag, nothing committed", g)
	}
}

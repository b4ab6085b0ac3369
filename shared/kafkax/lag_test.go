package kafkax

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestGroupLag(t *testing.T) {
	brokers := stacktest.Kfake(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	if _, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: "lag", NumPartitions: 2, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	}
	w := NewWriter(brokers, time.Millisecond)
	w.Balancer = kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition })
	defer w.Close()
	var msgs []kafka.Message
	for i := 0; i < 10; i++ { // 7 records on partition 0, 3 on partition 1
		p := 0
		if i >= 7 {
			p = 1
		}
		msgs = append(msgs, kafka.Message{Topic: "lag", Partition: p, Value: []byte("x")})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	// A group that never committed lags by everything.
	got, err := GroupLag(ctx, client, "nobody", []string{"lag"})
	if err != nil {
		t.Fatal(err)
	}
	if total(got) != 10 || len(got) != 2 || got[0].Committed != -1 {
		t.Fatalf("lag of an unknown group = %+v, want 10 over 2 partitions, nothing committed", got)
	}

	// Commit offset 5 on partition 0 and 3 (everything) on partition 1.
	if _, err := client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: "g", GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{"lag": {{Partition: 0, Offset: 5}, {Partition: 1, Offset: 3}}}}); err != nil {
		t.Fatal(err)
	}
	got, err = GroupLag(ctx, client, "g", []string{"lag"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]int64{0: 2, 1: 0}
	for _, p := range got {
		if p.Lag != want[p.Partition] {
			t.Fatalf("partition %d lag %d, want %d (%+v)", p.Partition, p.Lag, want[p.Partition], got)
		}
	}
}

func total(ls []PartitionLag) int64 {
	var n int64
	for _, l := range ls {
		n += l.Lag
	}
	return n
}

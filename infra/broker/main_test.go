package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// The test binary doubles as the broker: a child started with
// BROKER_TEST_CHILD=1 runs main with the given flags, so the test can
// SIGKILL a real broker process without building one first.
func TestMain(m *testing.M) {
	if os.Getenv("BROKER_TEST_CHILD") == "1" {
		os.Args = append([]string{"broker"}, os.Args[1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startBroker starts a broker child process and waits until it accepts
// connections.
func startBroker(t *testing.T, port int, dataDir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-port", strconv.Itoa(port), "-data-dir", dataDir, "-partitions", "3")
	cmd.Env = append(os.Environ(), "BROKER_TEST_CHILD=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("broker did not listen on %d: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by deadline
	}
}

func TestTopicsAndCommittedOffsetsSurviveSIGKILL(t *testing.T) {
	port := freePort(t)
	dataDir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	first := startBroker(t, port, dataDir)
	const topic, group, total, consumed = "persist_me", "persist-group", 30, 10

	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, RequiredAcks: kafka.RequireAll,
		AllowAutoTopicCreation: true, BatchTimeout: time.Millisecond, Balancer: &kafka.RoundRobin{}}
	msgs := make([]kafka.Message, total)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: []byte(strconv.Itoa(i))}
	}
	for {
		err := w.WriteMessages(ctx, msgs...)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	w.Close()

	// Consume and commit some messages through a consumer group.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: group, Topic: topic,
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond, SessionTimeout: 6 * time.Second,
		CommitInterval: 0})
	for i := 0; i < consumed; i++ {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	before := committedTotal(ctx, t, addr, topic, group)
	if got := recordCount(ctx, t, addr, topic); got != total {
		t.Fatalf("%d records before the kill, want %d", got, total)
	}
	if before != consumed {
		t.Fatalf("committed %d offsets before the kill, want %d", before, consumed)
	}
	_ = r.Close()

	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	startBroker(t, port, dataDir)

	// The topic, its records and the group's committed offsets are back.
	if got := committedTotal(ctx, t, addr, topic, group); got != before {
		t.Fatalf("committed offsets after restart sum to %d, want %d", got, before)
	}
	if got := recordCount(ctx, t, addr, topic); got != total {
		t.Fatalf("%d records after restart, want %d", got, total)
	}
}

// committedTotal sums the group's committed offsets over the topic's partitions.
func committedTotal(ctx context.Context, t *testing.T, addr, topic, group string) int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr)}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group,
			Topics: map[string][]int{topic: {0, 1, 2}}})
		if err == nil && resp.Error == nil {
			var sum int64
			for _, p := range resp.Topics[topic] {
				if p.Error != nil {
					err = p.Error
					break
				}
				if p.CommittedOffset > 0 {
					sum += p.CommittedOffset
				}
			}
			if err == nil {
				return sum
			}
		} else if err == nil {
			err = resp.Error
		}
		// Right after a restart the group coordinator may still be loading.
		if time.Now().After(deadline) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("offset fetch: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // poll interval, bounded by deadline
	}
}

// recordCount sums the high watermarks of the topic's partitions, checking
// the topic has its 3 partitions.
func recordCount(ctx context.Context, t *testing.T, addr, topic string) int64 {
	t.Helper()
	conn, err := kafka.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		t.Fatalf("topic %s after restart: %v", topic, err)
	}
	if len(parts) != 3 {
		t.Fatalf("topic %s has %d partitions after restart, want 3", topic, len(parts))
	}
	var records int64
	client := &kafka.Client{Addr: kafka.TCP(addr)}
	for _, p := range parts {
		resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
			topic: {kafka.LastOffsetOf(p.ID)}}})
		if err != nil {
			t.Fatal(err)
		}
		po := resp.Topics[topic][0]
		if po.Error != nil {
			t.Fatalf("list offsets %s/%d: %v", topic, p.ID, po.Error)
		}
		records += po.LastOffset
	}
	if len(parts) == 0 {
		t.Fatal("no partitions")
	}
	return records
}

func TestParsePartitionDir(t *testing.T) {
	tests := []struct {
		name  string
		topic string
		part  int
		ok    bool
	}{
		{"orders-0", "orders", 0, true},
		{"documents.raw-11", "documents.raw", 11, true},
		{"with-dash-3", "with-dash", 3, true},
		{"esc%2Fslash-1", "esc/slash", 1, true},
		{"nopart", "", 0, false},
		{"-1", "", 0, false},
		{"topic-x", "", 0, false},
		{"topic--1", "topic-", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic, part, ok := parsePartitionDir(tt.name)
			if topic != tt.topic || part != tt.part || ok != tt.ok {
				t.Fatalf("parsePartitionDir(%q) = %q, %d, %v; want %q, %d, %v", tt.name, topic, part, ok, tt.topic, tt.part, tt.ok)
			}
		})
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// TestRemoveBrokerMovesLeadership: a 3-broker process; removing the broker
// that leads partitions moves every one of them to the other two, cuts
// the removed broker's clients off, and a writer that knew all three keeps
// producing through the others. Adding the broker back serves its port
// again.
func TestRemoveBrokerMovesLeadership(t *testing.T) {
	first, control := freePort(t), fmt.Sprintf("127.0.0.1:%d", freePort(t))
	for p := first; p < first+3; p++ { // the three broker ports must be free
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err != nil {
			t.Skipf("port %d of the 3 consecutive ones is taken: %v", p, err)
		} else {
			l.Close()
		}
	}
	cmd := exec.Command(os.Args[0], "-port", strconv.Itoa(first), "-brokers", "3", "-control-addr", control, "-partitions", "6")
	cmd.Env = append(os.Environ(), "BROKER_TEST_CHILD=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	call := func(method, path string, out any) int {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			req, _ := http.NewRequest(method, "http://"+control+path, nil)
			r, err := http.DefaultClient.Do(req)
			if err == nil {
				defer r.Body.Close()
				if out != nil {
					json.NewDecoder(r.Body).Decode(out)
				}
				return r.StatusCode
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
	}
	var brokers []brokerInfo
	if call("GET", "/brokers", &brokers); len(brokers) != 3 {
		t.Fatalf("GET /brokers: %v, want 3 brokers", brokers)
	}
	addrs := []string{brokers[0].Addr, brokers[1].Addr, brokers[2].Addr}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := "remove-broker"
	w := &kafka.Writer{Addr: kafka.TCP(addrs...), Topic: topic, RequiredAcks: kafka.RequireAll,
		AllowAutoTopicCreation: true, BatchTimeout: time.Millisecond, Balancer: &kafka.RoundRobin{}}
	defer w.Close()
	produce := func(from, n int) {
		t.Helper()
		msgs := make([]kafka.Message, n)
		for i := range msgs {
			msgs[i] = kafka.Message{Value: []byte(strconv.Itoa(from + i))}
		}
		for err := w.WriteMessages(ctx, msgs...); err != nil; err = w.WriteMessages(ctx, msgs...) {
			if ctx.Err() != nil {
				t.Fatalf("produce: %v", err)
			}
			time.Sleep(100 * time.Millisecond) // the writer refreshes its metadata meanwhile
		}
	}
	produce(0, 600)

	var leaders map[string]int32
	if code := call("GET", "/topics/"+topic+"/leaders", &leaders); code != http.StatusOK || len(leaders) != 6 {
		t.Fatalf("leaders: %d %v", code, leaders)
	}
	victim := leaders["0"]
	var removed struct {
		ConnectionsClosed int `json:"connections_closed"`
	}
	if code := call("POST", fmt.Sprintf("/brokers/%d/remove", victim), &removed); code != http.StatusOK {
		t.Fatalf("remove node %d: HTTP %d", victim, code)
	}
	if removed.ConnectionsClosed == 0 {
		t.Errorf("removing node %d closed no client connection; the writer had one to it", victim)
	}
	call("GET", "/topics/"+topic+"/leaders", &leaders)
	for p, l := range leaders {
		if l == victim {
			t.Errorf("partition %s still led by the removed node %d", p, victim)
		}
	}
	if c, err := net.DialTimeout("tcp", brokers[victim].Addr, time.Second); err == nil {
		c.Close()
		t.Errorf("the removed broker %s still accepts connections", brokers[victim].Addr)
	}
	produce(600, 600)

	conn, err := kafka.DialContext(ctx, "tcp", addrs[(victim+1)%3])
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	client := &kafka.Client{Addr: kafka.TCP(addrs[(victim+1)%3])}
	for _, p := range parts {
		resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(p.ID)}}})
		if err != nil {
			t.Fatal(err)
		}
		total += resp.Topics[topic][0].LastOffset
	}
	if total != 1200 {
		t.Errorf("%d records in the topic, want 1200 (600 before the removal, 600 after)", total)
	}

	if code := call("POST", fmt.Sprintf("/brokers/%d/add", victim), nil); code != http.StatusOK {
		t.Fatalf("add node %d back: HTTP %d", victim, code)
	}
	if c, err := net.DialTimeout("tcp", brokers[victim].Addr, time.Second); err != nil {
		t.Errorf("node %d added back does not accept connections: %v", victim, err)
	} else {
		c.Close()
	}
	if code := call("POST", "/brokers/7/remove", nil); code != http.StatusNotFound {
		t.Errorf("removing an unknown node: HTTP %d, want 404", code)
	}
}

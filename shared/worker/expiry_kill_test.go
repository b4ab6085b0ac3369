package worker

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// A worker killed after it expired joins but before their expiry records
// were written loses none of them: the expiries stay claimed in Redis, and
// the next instance publishes them once the claim times out.
//
// The kill lands in that window for certain because the broker is gone:
// the worker consumes the fragments from a private broker, the broker is
// closed, the joins time out and are claimed (their writes failing), the
// worker is killed, and the broker comes back on its data directory.
func TestKillBetweenExpiryAndItsWrite(t *testing.T) {
	e := newEnv(t)
	port, dir := freePort(t), t.TempDir()
	startBroker := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir),
			kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3), kfake.GroupMinSessionTimeout(time.Second))
		if err != nil {
			t.Fatalf("start private broker: %v", err)
		}
		return c
	}
	broker := startBroker()
	e.brokers = broker.ListenAddrs()
	left, right, out, expiry := e.topic("left"), e.topic("right"), e.topic("out"), e.topic("expired")
	e.createTopics(3, left, right, out, expiry)
	args := []string{"-worker", e.name + "-expiry", "-topics-input", left + "," + right, "-topics-output", out,
		"-expiry-topic", expiry, "-brokers", strings.Join(e.brokers, ","), "-redis", e.rdb.Options().Addr,
		"-timeout", "1s", "-claim-timeout", "3s", "-sweep-interval", "100ms", "-session-timeout", "2s"}

	const n = 200
	var msgs []kafka.Message
	for i := range n {
		msgs = append(msgs, kafka.Message{Topic: left, Value: []byte(fmt.Sprintf(`{"id":"half-%d","content":{"text":"only left"}}`, i))})
	}
	e.produce(msgs, false)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	first := child(t, append(args, "-http", addr)...)
	waitFor(t, time.Minute, "every fragment consumed", func() bool { return metric(addr, "tributary_consumed_total") >= n })

	broker.Close()
	claims := "trib:{" + e.name + "-expiry:*}:x:*"
	waitFor(t, 30*time.Second, "every join expired and claimed", func() bool { return len(e.scanKeys(claims, "hash")) == n })
	if got := metric(addr, "tributary_expired_total"); got != n {
		t.Fatalf("expired counter %v, want %d", got, n)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	broker = startBroker()
	t.Cleanup(broker.Close)
	child(t, args...)
	got := e.consume(expiry, n, time.Minute, time.Second)
	ids := map[string]bool{}
	for _, m := range got {
		ids[string(m.Key)] = true
	}
	if len(ids) != n {
		t.Fatalf("%d distinct expiry records of %d expired joins (%d records)", len(ids), n, len(got))
	}
	waitFor(t, 30*time.Second, "the expiry claims confirmed", func() bool { return len(e.scanKeys(claims, "hash")) == 0 })
	t.Logf("%d joins expired before the kill: %d expiry records after it (%d duplicates)", n, len(got), len(got)-n)
}

package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/shared/kafkax"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// privateBroker runs the project's broker (infra/broker, as make up builds
// it) on a free port with a data directory kept across restarts.
type privateBroker struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
}

func newPrivateBroker(t *testing.T) *privateBroker {
	t.Helper()
	bin := os.Getenv("TRIBUTARY_BROKER_BIN")
	if _, err := os.Stat(bin); bin == "" || err != nil {
		// The stack used a broker it did not build (one already answered
		// on its port): build ours, as infra/stack.sh does.
		bin = t.TempDir() + "/broker"
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Dir = "../../infra/broker"
		build.Env = append(os.Environ(), "GOWORK=off")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build infra/broker: %v\n%s", err, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	b := &privateBroker{t: t, bin: bin, port: port, dir: t.TempDir()}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *privateBroker) addr() string { return "127.0.0.1:" + strconv.Itoa(b.port) }

func (b *privateBroker) start() {
	b.t.Helper()
	b.cmd = exec.Command(b.bin, "-port", strconv.Itoa(b.port), "-data-dir", b.dir, "-partitions", "6", "-group-min-session-timeout", "1s")
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", b.addr()); err == nil {
			c.Close()
			return
		}
	}
	b.t.Fatalf("private broker on %s did not start", b.addr())
}

func (b *privateBroker) stop() {
	if b.cmd != nil && b.cmd.Process != nil {
		b.cmd.Process.Signal(syscall.SIGTERM)
		b.cmd.Wait()
		b.cmd = nil
	}
}

// TestChaosBrokerRestart stops the broker a join worker of 2 instances
// reads and writes, mid-flow, and starts it again on the same data
// directory. Every id must come out.
//
// It is known to fail intermittently: in one run every id came out (the
// workers resumed 28 s after the restart), in another the workers never
// resumed within 3 minutes. Until that is fixed it runs only when asked
// (TRIBUTARY_CHAOS_BROKER=1, which make chaos sets), not in make test.
func TestChaosBrokerRestart(t *testing.T) {
	if os.Getenv("TRIBUTARY_CHAOS_BROKER") == "" {
		t.Skip("known to fail intermittently (workers may not resume after a broker restart); run with TRIBUTARY_CHAOS_BROKER=1 or make chaos")
	}
	e, _ := dpEnv(t)
	b := newPrivateBroker(t)
	var cl clusterJSON
	e.do("POST", "/api/v1/clusters", e.tokens[apiserver.RoleEditor], `{"name":"private","bootstrap_servers":["`+b.addr()+`"]}`).
		want(http.StatusCreated).decode(&cl)
	brokers := []string{b.addr()}
	_, _, left, right, out := chaosJoinWorker(t, e, stacktest.RedisAddr(), 120, cl.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	emitted, firstOut := collect(ctx, brokers, out, false)

	const ids, rate = 3000, 200
	w := kafkax.NewWriter(brokers, 2*time.Millisecond)
	defer w.Close()
	var downAt, upAt time.Time
	restarted := make(chan time.Time, 1)
	start := time.Now()
	for i := 0; i < ids; i += 20 {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
		var msgs []kafka.Message
		for j := i; j < i+20; j++ {
			key := fmt.Sprintf("id-%d", j)
			msgs = append(msgs,
				kafka.Message{Topic: left, Key: []byte(key), Value: fmt.Appendf(nil, `{"id":%q,"content":{"text":"left %d"}}`, key, j)},
				kafka.Message{Topic: right, Key: []byte(key), Value: fmt.Appendf(nil, `{"id":%q,"content":{"title":"right"}}`, key)})
		}
		// The producer, like any client, retries while the broker is away.
		for err := w.WriteMessages(ctx, msgs...); err != nil; err = w.WriteMessages(ctx, msgs...) {
			if ctx.Err() != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if downAt.IsZero() && time.Since(start) > 3*time.Second {
			b.stop()
			downAt = time.Now()
			// Back in 2 s, whatever the producer is doing (it blocks,
			// retrying, while the broker is away).
			go func() {
				time.Sleep(2 * time.Second)
				b.start()
				restarted <- time.Now()
			}()
		}
	}
	upAt = <-restarted
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) && len(emitted()) < ids {
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	em := emitted()
	lost, dups := 0, 0
	for i := range ids {
		switch n := em[fmt.Sprintf("id-%d", i)]; {
		case n == 0:
			lost++
		case n > 1:
			dups += n - 1
		}
	}
	recovery := "no output after the restart"
	if at := firstOut(upAt); !at.IsZero() {
		recovery = at.Sub(upAt).Round(10 * time.Millisecond).String()
	}
	t.Logf("broker stop and restart (data kept): %d ids, lost %d, duplicates %d; broker down %s; first output %s after it was back",
		ids, lost, dups, upAt.Sub(downAt).Round(100*time.Millisecond), recovery)
	if lost != 0 {
		t.Errorf("%d of %d ids lost", lost, ids)
	}
}

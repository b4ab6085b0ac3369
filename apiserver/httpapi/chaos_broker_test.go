package httpapi

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
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
// reads and writes, mid-flow, and starts it again 2 s later on the same data
// directory. Every id must come out.
func TestChaosBrokerRestart(t *testing.T) {
	e, client := dpEnv(t)
	b := newPrivateBroker(t)
	var cl clusterJSON
	e.do("POST", "/api/v1/clusters", e.tokens[apiserver.RoleEditor], `{"name":"private","bootstrap_servers":["`+b.addr()+`"]}`).
		want(http.StatusCreated).decode(&cl)
	brokers := []string{b.addr()}
	_, _, left, right, out := chaosJoinWorker(t, e, client, stacktest.RedisAddr(), 120, cl.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	emitted := stacktest.CheckIDs(ctx, brokers, out, false)

	var downAt time.Time
	restarted := make(chan time.Time, 1)
	feed := stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: 3000, Rate: 200,
		Tick: func(elapsed time.Duration) {
			if downAt.IsZero() && elapsed > 3*time.Second {
				b.stop()
				downAt = time.Now()
				// Back in 2 s, whatever the feed is doing (it blocks,
				// retrying, while the broker is away).
				go func() {
					time.Sleep(2 * time.Second)
					b.start()
					restarted <- time.Now()
				}()
			}
		}}
	feed.Run(t, ctx)
	upAt := <-restarted
	ids := stacktest.IDs(feed.IDs)
	stacktest.WaitFor(t, 3*time.Minute, ids, emitted)
	lost, dups := emitted.Tally(ids)
	t.Logf("chaos: broker stop and restart (data kept): %d ids, lost %d, duplicates %d; broker down %s; first output %s after it was back",
		feed.IDs, lost, dups, upAt.Sub(downAt).Round(100*time.Millisecond), since(emitted.FirstAfter(upAt), upAt))
	if lost != 0 {
		t.Errorf("%d of %d ids lost", lost, feed.IDs)
	}
}

// since formats the time from t0 to t, or says there was nothing after t0.
func since(t, t0 time.Time) string {
	if t.IsZero() {
		return "never (no output after it)"
	}
	return t.Sub(t0).Round(10 * time.Millisecond).String()
}

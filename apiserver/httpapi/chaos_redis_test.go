package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// privateRedis runs a Redis of the test's own on a free port, with or
// without AOF, in dir (kept across restarts). stop shuts it down with
// SIGTERM (Redis then writes its AOF) and waits; start runs it again.
type privateRedis struct {
	t        *testing.T
	addr     string
	dir      string
	aof      bool
	cmd      *exec.Cmd
	stopOnce sync.Once
}

func newPrivateRedis(t *testing.T, aof bool) *privateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		stacktest.Unavailable(t, "redis-server", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &privateRedis{t: t, addr: addr, dir: t.TempDir(), aof: aof}
	r.start()
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *privateRedis) start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.addr)
	args := []string{"--bind", "127.0.0.1", "--port", port, "--dir", r.dir, "--save", "", "--daemonize", "no"}
	if r.aof {
		args = append(args, "--appendonly", "yes", "--appendfsync", "everysec")
	} else {
		args = append(args, "--appendonly", "no")
	}
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.stopOnce = sync.Once{}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", r.addr); err == nil {
			c.Close()
			return
		}
	}
	r.t.Fatalf("private redis on %s did not start", r.addr)
}

func (r *privateRedis) stop() {
	r.stopOnce.Do(func() {
		r.cmd.Process.Signal(syscall.SIGTERM)
		r.cmd.Wait()
	})
}

// chaosJoinWorker deploys, through the in-process API, a 2-topic join
// worker of 2 instances whose join state is in redisAddr.
func chaosJoinWorker(t *testing.T, e *env, client *nomad.Client, redisAddr string, timeoutSec int, cluster int64) (id int64, name, left, right, out string) {
	t.Helper()
	if e.srv.cfg.RedisAddr != redisAddr {
		t.Fatalf("the server hands workers Redis %s, not %s: give dpEnv the address", e.srv.cfg.RedisAddr, redisAddr)
	}
	name = stacktest.Name(t, "cr")
	left, right, out = name+".left", name+".right", name+".out"
	dpPurgeJob(t, client, name)
	w := e.wkCreate(fmt.Sprintf(`{"name":%q,"input_topics":[%q,%q],"output_topics":[%q],"cluster_id":%d,
	  "function":"template","function_version":"1.0.0","instances":2,"timeout_seconds":%d}`, name, left, right, out, cluster, timeoutSec))
	e.do("POST", fmt.Sprintf("/api/v1/workers/%d/deploy", w.ID), e.tokens[apiserver.RoleEditor], "").want(http.StatusAccepted)
	e.dpWaitStatus(w.ID, 3*time.Minute, func(st statusJSON) bool { return st.Desired == 2 && st.Healthy >= 2 })
	return w.ID, name, left, right, out
}

// TestChaosRedisRestart restarts the join state's Redis mid-flow, with AOF
// and without persistence, and reports what each loses.
func TestChaosRedisRestart(t *testing.T) {
	for _, aof := range []bool{true, false} {
		t.Run(map[bool]string{true: "with AOF", false: "without persistence"}[aof], func(t *testing.T) {
			chaosRedisRestart(t, aof)
		})
	}
}

func chaosRedisRestart(t *testing.T, aof bool) {
	rd := newPrivateRedis(t, aof)
	e, client := dpEnv(t, func(c *config.Config) { c.RedisAddr = rd.addr })
	brokers := stacktest.Kafka(t)
	const joinTimeout = 15
	_, name, left, right, out := chaosJoinWorker(t, e, client, rd.addr, joinTimeout, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	emitted := stacktest.CheckIDs(ctx, brokers, out, false)
	deadLettered := stacktest.CheckIDs(ctx, brokers, name+".dlq", true)

	// 200 ids/s for 15 s; each id's right fragment follows its left one 5 s
	// later, so about a thousand joins are pending at any moment.
	var downAt, upAt time.Time
	feed := stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: 3000, Rate: 200, RightLag: 1000,
		Tick: func(elapsed time.Duration) {
			switch {
			case downAt.IsZero() && elapsed > 8*time.Second:
				rd.stop()
				downAt = time.Now()
			case !downAt.IsZero() && upAt.IsZero() && time.Since(downAt) > 2*time.Second:
				rd.start()
				upAt = time.Now()
			}
		}}
	feed.Run(t, ctx)
	// Wait for every id to come out or, without persistence, to expire
	// into the dead-letter topic (join timeout plus the sweep).
	ids := stacktest.IDs(feed.IDs)
	stacktest.WaitFor(t, 2*time.Minute, ids, emitted, deadLettered)
	lost, dups, expired := 0, 0, 0
	for _, id := range ids {
		switch em, dl := emitted.Count(id), deadLettered.Count(id); {
		case em == 0 && dl > 0:
			expired++
		case em == 0:
			lost++
		case em > 1:
			dups += em - 1
		}
	}
	t.Logf("chaos: Redis restart %s: %d ids, emitted %d, lost silently %d, incomplete joins expired to %s.dlq %d, duplicates %d; Redis down %s; first output %s after it was back",
		map[bool]string{true: "with AOF", false: "without persistence"}[aof], feed.IDs, emitted.Distinct(), lost, name, expired, dups,
		upAt.Sub(downAt).Round(100*time.Millisecond), since(emitted.FirstAfter(upAt), upAt))
	if lost != 0 {
		t.Errorf("%d ids neither emitted nor dead-lettered", lost)
	}
	if aof && expired != 0 {
		t.Errorf("with AOF, %d ids expired: the restart lost join state", expired)
	}
	if !aof && expired == 0 {
		t.Errorf("without persistence no join was lost: the scenario did not have joins pending at the restart")
	}
}

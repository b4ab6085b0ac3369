package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/shared/kafkax"
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
func chaosJoinWorker(t *testing.T, e *env, redisAddr string, timeoutSec int, cluster int64) (id int64, name, left, right, out string) {
	t.Helper()
	e.srv.cfg.RedisAddr = redisAddr
	name = stacktest.Name(t, "cr")
	left, right, out = name+".left", name+".right", name+".out"
	w := e.wkCreate(fmt.Sprintf(`{"name":%q,"input_topics":[%q,%q],"output_topics":[%q],"cluster_id":%d,
	  "function":"template","function_version":"1.0.0","instances":2,"timeout_seconds":%d}`, name, left, right, out, cluster, timeoutSec))
	e.do("POST", fmt.Sprintf("/api/v1/workers/%d/deploy", w.ID), e.tokens[apiserver.RoleEditor], "").want(http.StatusAccepted)
	e.dpWaitStatus(w.ID, 3*time.Minute, func(st statusJSON) bool { return st.Desired == 2 && st.Healthy >= 2 })
	return w.ID, name, left, right, out
}

// collect counts, per id, the records of topic (by key for outputs, by the
// value's id for dead letters), until ctx ends.
func collect(ctx context.Context, brokers []string, topic string, byValue bool) (func() map[string]int, func(time.Time) time.Time) {
	var mu sync.Mutex
	seen := map[string]int{}
	var arrivals []time.Time
	go func() {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, GroupID: topic + "-checker",
			StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
		defer r.Close()
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				return
			}
			key := string(m.Key)
			if byValue {
				var v struct {
					ID string `json:"id"`
				}
				json.Unmarshal(m.Value, &v)
				key = v.ID
			}
			mu.Lock()
			seen[key]++
			arrivals = append(arrivals, time.Now())
			mu.Unlock()
		}
	}()
	snapshot := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := make(map[string]int, len(seen))
		for k, v := range seen {
			out[k] = v
		}
		return out
	}
	// firstAfter is the first arrival after t (zero if none yet).
	firstAfter := func(t time.Time) time.Time {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range arrivals {
			if a.After(t) {
				return a
			}
		}
		return time.Time{}
	}
	return snapshot, firstAfter
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
	e, _ := dpEnv(t)
	brokers := stacktest.Kafka(t)
	rd := newPrivateRedis(t, aof)
	const joinTimeout = 15
	_, name, left, right, out := chaosJoinWorker(t, e, rd.addr, joinTimeout, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	emitted, firstOut := collect(ctx, brokers, out, false)
	deadLettered, _ := collect(ctx, brokers, name+".dlq", true)

	// 200 ids/s for 15 s; each id's right fragment follows its left one 5 s
	// later, so about a thousand joins are pending at any moment.
	const ids, rate, lagIDs = 3000, 200, 1000
	w := kafkax.NewWriter(brokers, 2*time.Millisecond)
	defer w.Close()
	var downAt, upAt time.Time
	start := time.Now()
	for i := 0; i < ids+lagIDs; i += 20 {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
		var msgs []kafka.Message
		for j := i; j < i+20; j++ {
			if j < ids {
				key := fmt.Sprintf("id-%d", j)
				msgs = append(msgs, kafka.Message{Topic: left, Key: []byte(key), Value: fmt.Appendf(nil, `{"id":%q,"content":{"text":"left %d"}}`, key, j)})
			}
			if k := j - lagIDs; k >= 0 && k < ids {
				key := fmt.Sprintf("id-%d", k)
				msgs = append(msgs, kafka.Message{Topic: right, Key: []byte(key), Value: fmt.Appendf(nil, `{"id":%q,"content":{"title":"right"}}`, key)})
			}
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
		switch {
		case downAt.IsZero() && time.Since(start) > 8*time.Second:
			rd.stop()
			downAt = time.Now()
		case !downAt.IsZero() && upAt.IsZero() && time.Since(downAt) > 2*time.Second:
			rd.start()
			upAt = time.Now()
		}
	}
	// Wait for every id to come out or, without persistence, to expire
	// into the dead-letter topic (join timeout plus the sweep).
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		em, dl := emitted(), deadLettered()
		done := 0
		for i := range ids {
			k := fmt.Sprintf("id-%d", i)
			if em[k] > 0 || dl[k] > 0 {
				done++
			}
		}
		if done == ids {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	em, dl := emitted(), deadLettered()
	lost, dups, expired := 0, 0, 0
	for i := range ids {
		k := fmt.Sprintf("id-%d", i)
		switch {
		case em[k] == 0 && dl[k] > 0:
			expired++
		case em[k] == 0:
			lost++
		case em[k] > 1:
			dups += em[k] - 1
		}
	}
	recovery := "no output after the restart"
	if at := firstOut(upAt); !at.IsZero() {
		recovery = at.Sub(upAt).Round(10 * time.Millisecond).String()
	}
	t.Logf("Redis restart %s: %d ids, emitted %d, lost silently %d, incomplete joins expired to %s.dlq %d, duplicates %d; Redis down %s; first output %s after it was back",
		map[bool]string{true: "with AOF", false: "without persistence"}[aof], ids, len(em), lost, name, expired, dups,
		upAt.Sub(downAt).Round(100*time.Millisecond), recovery)
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

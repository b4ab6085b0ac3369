package demo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/infra/demo"
	"github.com/tributary-etl/tributary/shared/kafkax"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// chaosWorker deploys, through the API, a 2-topic join worker of 2
// instances running the template function, and returns its id and topics.
func chaosWorker(t *testing.T, ctx context.Context, c *demo.Client, brokers []string) (id int64, left, right, out string) {
	t.Helper()
	repo, _ := filepath.Abs("../..")
	name := strings.ReplaceAll(stacktest.Name(t, "chaos"), "_", "-")
	left, right, out = name+".left", name+".right", name+".out"
	cluster, err := demo.EnsureCluster(ctx, c, brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	versions, err := demo.RegisterFunctions(ctx, c, demo.Options{Repo: repo, Functions: []string{"template"}})
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		ID int64 `json:"id"`
	}
	if err := c.Do(ctx, "POST", "/api/v1/workers", map[string]any{"name": name, "input_topics": []string{left, right},
		"output_topics": []string{out}, "cluster_id": cluster, "function": "template", "function_version": versions["template"],
		"instances": 2, "timeout_seconds": 600}, &w); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c.Do(cctx, "POST", fmt.Sprintf("/api/v1/workers/%d/stop", w.ID), nil, nil)
		c.Do(cctx, "DELETE", fmt.Sprintf("/api/v1/workers/%d", w.ID), nil, nil)
	})
	if err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/workers/%d/deploy", w.ID), nil, nil); err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, ctx, c, w.ID, 2, 3*time.Minute)
	return w.ID, left, right, out
}

func waitHealthy(t *testing.T, ctx context.Context, c *demo.Client, id int64, n int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if healthy(ctx, c, id) >= n {
			return time.Since(start)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("worker %d: fewer than %d healthy allocations after %s", id, n, within)
	return 0
}

// allocationPIDs finds the processes of the worker's running allocations
// by the NOMAD_ALLOC_ID in their environment (raw_exec tasks run as
// children of the local agent, on this machine).
func allocationPIDs(t *testing.T, ctx context.Context, c *demo.Client, id int64) map[string]int {
	t.Helper()
	var st struct {
		Allocations []struct {
			ID           string `json:"id"`
			ClientStatus string `json:"client_status"`
		} `json:"allocations"`
	}
	if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/workers/%d/status", id), nil, &st); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, a := range st.Allocations {
		if a.ClientStatus == "running" {
			want[a.ID] = true
		}
	}
	pids := map[string]int{}
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, p := range procs {
		env, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, kv := range strings.Split(string(env), "\x00") {
			if alloc, ok := strings.CutPrefix(kv, "NOMAD_ALLOC_ID="); ok && want[alloc] {
				var pid int
				fmt.Sscan(strings.Split(p, "/")[2], &pid)
				if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(cmd), "local/function") {
					pids[alloc] = pid
				}
			}
		}
	}
	return pids
}

// allocation reads one allocation's restarts and task state.
func allocation(ctx context.Context, c *demo.Client, id int64, alloc string) (restarts int, state string) {
	var st struct {
		Allocations []struct {
			ID        string `json:"id"`
			Restarts  int    `json:"restarts"`
			TaskState string `json:"task_state"`
		} `json:"allocations"`
	}
	if c.Do(ctx, "GET", fmt.Sprintf("/api/v1/workers/%d/status", id), nil, &st) != nil {
		return -1, ""
	}
	for _, a := range st.Allocations {
		if a.ID == alloc {
			return a.Restarts, a.TaskState
		}
	}
	return -1, ""
}

// TestChaosKillWorkerInstance: steady input flows through a 2-topic join
// worker of 2 instances; one instance is killed with SIGKILL mid-flow and
// Nomad restarts it. Every id must come out; duplicates and the time to
// recover are reported.
func TestChaosKillWorkerInstance(t *testing.T) {
	brokers := stacktest.Kafka(t)
	c := client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	id, left, right, out := chaosWorker(t, ctx, c, brokers)

	seen := map[string]int{}
	var mu sync.Mutex
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	go func() {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: out, GroupID: out + "-checker", StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
		defer r.Close()
		for {
			m, err := r.ReadMessage(rctx)
			if err != nil {
				return
			}
			mu.Lock()
			seen[string(m.Key)]++
			mu.Unlock()
		}
	}()

	const ids, rate = 3000, 200 // 15 s of steady input
	w := kafkax.NewWriter(brokers, 2*time.Millisecond)
	defer w.Close()
	var killedAt time.Time
	recovered := make(chan time.Duration, 1) // -1: not within three minutes
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
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
		if killedAt.IsZero() && time.Since(start) > 3*time.Second {
			pids := allocationPIDs(t, ctx, c, id)
			if len(pids) != 2 {
				t.Fatalf("found the processes of %d allocations, want 2: %v", len(pids), pids)
			}
			var victim string
			for alloc, pid := range pids {
				victim = alloc
				before, _ := allocation(ctx, c, id, alloc)
				t.Logf("SIGKILL to pid %d (allocation %s, %d restarts so far) after %d ids", pid, alloc[:8], before, i)
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killedAt = time.Now()
				go func() {
					// Recovered: Nomad restarted the task (one more restart)
					// and it runs again.
					for time.Since(killedAt) < 3*time.Minute {
						if n, state := allocation(ctx, c, id, victim); n > before && state == "running" {
							recovered <- time.Since(killedAt)
							return
						}
						time.Sleep(100 * time.Millisecond)
					}
					recovered <- -1
				}()
				break
			}
		}
	}
	// Claims the killed instance held are re-emitted after the claim
	// timeout (60 s): wait up to three minutes for every id.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= ids || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	lost, dups := 0, 0
	for i := range ids {
		switch n := seen[fmt.Sprintf("id-%d", i)]; {
		case n == 0:
			lost++
		case n > 1:
			dups += n - 1
		}
	}
	rec := <-recovered
	t.Logf("SIGKILL of a worker instance: %d ids, lost %d, duplicates %d, back to 2 healthy instances %s after the kill",
		ids, lost, dups, rec.Round(100*time.Millisecond))
	if lost != 0 {
		t.Errorf("%d of %d ids lost", lost, ids)
	}
	if rec < 0 {
		t.Error("the killed instance was not healthy again within three minutes")
	}
}

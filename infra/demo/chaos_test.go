package demo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/infra/demo"
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
	return waitStatus(t, ctx, c, id, within, fmt.Sprintf("%d healthy allocations", n), func(st demo.Status) bool { return st.Healthy >= n })
}

// waitStatus polls the worker's status every 250 ms until ok holds, and
// returns how long that took; it fails the test, saying what it waited
// for, after within.
func waitStatus(t *testing.T, ctx context.Context, c *demo.Client, id int64, within time.Duration, what string, ok func(demo.Status) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		var st demo.Status
		if c.Do(ctx, "GET", fmt.Sprintf("/api/v1/workers/%d/status", id), nil, &st) == nil && ok(st) {
			return time.Since(start)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("worker %d: not %s after %s", id, what, within)
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

	emitted := stacktest.CheckIDs(ctx, brokers, out, false)

	var killedAt time.Time
	recovered := make(chan time.Duration, 1)                                                     // -1: not within three minutes
	feed := stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: 3000, Rate: 200, // 15 s of steady input
		Tick: func(elapsed time.Duration) {
			if !killedAt.IsZero() || elapsed < 3*time.Second {
				return
			}
			pids := allocationPIDs(t, ctx, c, id)
			if len(pids) != 2 {
				t.Fatalf("found the processes of %d allocations, want 2: %v", len(pids), pids)
			}
			for alloc, pid := range pids {
				before, _ := allocation(ctx, c, id, alloc)
				t.Logf("SIGKILL to pid %d (allocation %s, %d restarts so far) %s into the feed", pid, alloc[:8], before, elapsed.Round(time.Millisecond))
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killedAt = time.Now()
				go func() {
					// Recovered: Nomad restarted the task (one more restart)
					// and it runs again.
					for time.Since(killedAt) < 3*time.Minute {
						if n, state := allocation(ctx, c, id, alloc); n > before && state == "running" {
							recovered <- time.Since(killedAt)
							return
						}
						time.Sleep(100 * time.Millisecond)
					}
					recovered <- -1
				}()
				break
			}
		}}
	feed.Run(t, ctx)
	// Claims the killed instance held are re-emitted after the claim
	// timeout (60 s): wait up to three minutes for every id.
	ids := stacktest.IDs(feed.IDs)
	stacktest.WaitFor(t, 3*time.Minute, ids, emitted)
	lost, dups := emitted.Tally(ids)
	rec := <-recovered
	t.Logf("chaos: SIGKILL of a worker instance: %d ids, lost %d, duplicates %d, back to 2 healthy instances %s after the kill",
		feed.IDs, lost, dups, rec.Round(100*time.Millisecond))
	if lost != 0 {
		t.Errorf("%d of %d ids lost", lost, feed.IDs)
	}
	if rec < 0 {
		t.Error("the killed instance was not healthy again within three minutes")
	}
}

package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tributary-etl/tributary/infra/demo"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// The fault scenarios run on the multi-node topology of
// infra/cluster.sh (a Redis Cluster of 3 masters and 3 replicas, 3 brokers,
// a Nomad server and 2 clients), against a private API server on the
// topology's API address. Each deploys a 2-topic join worker of 2
// instances, checks that Nomad placed one on each client, feeds 3000 ids
// with 200 joins pending at any moment, injects its fault 4 s in, and
// checks every id with the id checker, duplicates counted.

// clusterFeed is the input of every scenario: 15 s at 200 ids/s, each
// right fragment 200 ids behind its left one, so joins are pending when
// the fault comes.
var clusterFeed = stacktest.JoinFeed{IDs: 3000, Rate: 200, RightLag: 200}

// faultAfter is when into the feed the fault is injected.
const faultAfter = 4 * time.Second

// topology is the running infra/cluster.sh, read from `infra/cluster.sh env`.
type topology struct {
	repo, dir, control, nomad, apiAddr string
	redis, brokers                     []string
}

func clusterTopology(t *testing.T) *topology {
	t.Helper()
	repo, _ := filepath.Abs("../..")
	tp := &topology{repo: repo, dir: os.Getenv("TRIBUTARY_CLUSTER_DIR"), control: os.Getenv("TRIBUTARY_CLUSTER_BROKER_CONTROL"),
		nomad: os.Getenv("TRIBUTARY_CLUSTER_NOMAD_ADDR"), apiAddr: os.Getenv("TRIBUTARY_CLUSTER_API_ADDR")}
	if tp.dir == "" || tp.nomad == "" || os.Getenv("TRIBUTARY_CLUSTER_REDIS_ADDR") == "" {
		stacktest.Unavailable(t, "the topology of infra/cluster.sh", fmt.Errorf("TRIBUTARY_CLUSTER_* not set: `make chaos-cluster`, or `infra/cluster.sh up && eval \"$(infra/cluster.sh env)\"`"))
	}
	tp.redis = strings.Split(os.Getenv("TRIBUTARY_CLUSTER_REDIS_ADDR"), ",")
	tp.brokers = strings.Split(os.Getenv("TRIBUTARY_CLUSTER_KAFKA_BROKERS"), ",")
	var nodes []struct{ Name, Status string }
	if err := getJSON(tp.nomad+"/v1/nodes", &nodes); err != nil || len(nodes) < 2 {
		stacktest.Unavailable(t, "the topology's Nomad at "+tp.nomad, fmt.Errorf("nodes %v: %v", nodes, err))
	}
	return tp
}

// pid is the pid of the topology's process name (run/<name>.pid).
func (tp *topology) pid(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tp.dir, "run", name+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// restore brings back whatever the scenario killed: `infra/cluster.sh up`
// starts only what is down.
func (tp *topology) restore(t *testing.T) {
	t.Helper()
	cmd := exec.Command(filepath.Join(tp.repo, "infra/cluster.sh"), "up")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("infra/cluster.sh up after the fault: %v\n%s", err, out)
	}
}

func (tp *topology) redisClient(t *testing.T) *redis.ClusterClient {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: tp.redis, DialTimeout: 2 * time.Second})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// nomadAlloc is what the scenarios read of an allocation.
type nomadAlloc struct {
	ID, NodeName, ClientStatus, DesiredStatus string
}

func (a nomadAlloc) running() bool { return a.ClientStatus == "running" && a.DesiredStatus == "run" }

func (tp *topology) allocs(job string) ([]nomadAlloc, error) {
	var as []nomadAlloc
	err := getJSON(tp.nomad+"/v1/job/"+url.PathEscape(job)+"/allocations", &as)
	return as, err
}

// runningOn counts the job's running allocations per Nomad node.
func (tp *topology) runningOn(job string) map[string]int {
	as, _ := tp.allocs(job)
	out := map[string]int{}
	for _, a := range as {
		if a.running() {
			out[a.NodeName]++
		}
	}
	return out
}

func getJSON(u string, out any) error {
	c := http.Client{Timeout: 5 * time.Second}
	r, err := c.Get(u)
	if err != nil {
		return err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, r.Status)
	}
	return json.NewDecoder(r.Body).Decode(out)
}

// clusterRun is one scenario's worker on the topology.
type clusterRun struct {
	tp                     *topology
	name, left, right, out string
	job                    string
}

// newClusterRun starts the private API server on the topology, deploys the
// join worker through it, and waits until Nomad runs one instance on each
// client; a placement on one client makes the scenario invalid.
func newClusterRun(t *testing.T, ctx context.Context, tp *topology) *clusterRun {
	t.Helper()
	api := newPrivateAPI(t, apiOptions{nomadAddr: tp.nomad, addr: tp.apiAddr, env: []string{
		"TRIBUTARY_REDIS_ADDR=" + strings.Join(tp.redis, ","),
		"TRIBUTARY_RECONCILE_INTERVAL=0", "TRIBUTARY_AUTOSCALE_INTERVAL=0"}})
	c := api.admin(ctx)
	name := "e2e-" + strings.ReplaceAll(stacktest.Name(t, "cl"), "_", "-")
	r := &clusterRun{tp: tp, name: name, left: name + ".left", right: name + ".right", out: name + ".out"}
	var cluster struct {
		ID int64 `json:"id"`
	}
	if err := c.Do(ctx, "POST", "/api/v1/clusters", map[string]any{"name": "cluster", "bootstrap_servers": tp.brokers}, &cluster); err != nil {
		t.Fatal(err)
	}
	versions, err := demo.RegisterFunctions(ctx, c, demo.Options{Repo: tp.repo, Functions: []string{"template"}})
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		ID int64 `json:"id"`
	}
	if err := c.Do(ctx, "POST", "/api/v1/workers", map[string]any{"name": name, "input_topics": []string{r.left, r.right},
		"output_topics": []string{r.out}, "cluster_id": cluster.ID, "function": "template", "function_version": versions["template"],
		"instances": 2, "timeout_seconds": 600}, &w); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.purge(t) })
	if err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/workers/%d/deploy", w.ID), nil, nil); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
		if r.job == "" {
			var jobs []struct{ ID string }
			if getJSON(tp.nomad+"/v1/jobs?prefix=tributary-", &jobs) == nil {
				for _, j := range jobs {
					if strings.Contains(j.ID, name) {
						r.job = j.ID
					}
				}
			}
		}
		if on := tp.runningOn(r.job); r.job != "" && len(on) == 2 {
			t.Logf("job %s: one instance on each of %v", r.job, on)
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("invalid run: job %q not running one instance on each of the 2 clients within 3 minutes: %v", r.job, on)
		}
	}
	// The worker's group must have both members before the feed, or the
	// first rebalance would be taken for the fault's.
	time.Sleep(3 * time.Second)
	return r
}

// purge stops and purges the job straight through Nomad (the private API
// server is gone by then) and deletes the worker's Redis keys.
func (r *clusterRun) purge(t *testing.T) {
	if r.job != "" {
		req, _ := http.NewRequest("DELETE", r.tp.nomad+"/v1/job/"+url.PathEscape(r.job)+"?purge=true", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: r.tp.redis})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, "trib:{"+r.name+"*", 1000).Iterator()
		for it.Next(ctx) {
			c.Del(ctx, it.Val())
		}
		return it.Err()
	})
}

// pendingOn counts the worker's pending or claimed joins (j:<id> hashes) on
// each Redis master.
func (r *clusterRun) pendingOn(ctx context.Context, rdb *redis.ClusterClient) map[string]int {
	var mu sync.Mutex
	out := map[string]int{}
	rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		it := c.ScanType(ctx, 0, "trib:{"+r.name+":*}:j:*", 1000, "hash").Iterator()
		n := 0
		for it.Next(ctx) {
			n++
		}
		mu.Lock()
		out[c.Options().Addr] = n
		mu.Unlock()
		return it.Err()
	})
	return out
}

// outcome is one scenario's line of the table in docs/guarantees.md.
type outcome struct {
	lost, dups int
	recovery   time.Duration // from the fault until what the scenario calls recovered
	firstOut   string        // from the fault until the first output after it
	stall      time.Duration // the longest gap between two outputs after the fault
}

// run feeds the ids, calls fault once faultAfter into the feed, waits for
// every id and tallies them.
func (r *clusterRun) run(t *testing.T, ctx context.Context, fault func() time.Time) outcome {
	t.Helper()
	emitted := stacktest.CheckIDs(ctx, r.tp.brokers, r.out, false)
	var at time.Time
	feed := clusterFeed
	feed.Brokers, feed.Left, feed.Right = r.tp.brokers, r.left, r.right
	feed.Tick = func(elapsed time.Duration) {
		if at.IsZero() && elapsed > faultAfter {
			at = fault()
		}
	}
	feed.Run(t, ctx)
	if at.IsZero() {
		t.Fatal("invalid run: the fault was never injected")
	}
	ids := stacktest.IDs(feed.IDs)
	// Joins an instance had claimed when it lost its state or its
	// partitions are emitted again after the claim timeout (60 s).
	stacktest.WaitFor(t, 3*time.Minute, ids, emitted)
	lost, dups := emitted.Tally(ids)
	if lost != 0 {
		t.Errorf("%d of %d ids lost", lost, feed.IDs)
	}
	o := outcome{lost: lost, dups: dups, firstOut: since(emitted.FirstAfter(at), at)}
	prev := at
	for _, ts := range emitted.Times() {
		if ts.After(at) {
			o.stall = max(o.stall, ts.Sub(prev))
			prev = ts
		}
	}
	return o
}

// pollUntil polls cond every 100 ms for up to within and returns how long
// it took, or -1.
func pollUntil(within time.Duration, cond func() bool) time.Duration {
	start := time.Now()
	for time.Since(start) < within {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return -1
}

// TestClusterRedisMasterKilled: the Redis master holding most of the
// worker's pending joins is killed (SIGKILL) mid-flow; its replica takes
// over after the cluster node timeout. Recovery: until the cluster reports
// every slot served again.
func TestClusterRedisMasterKilled(t *testing.T) {
	tp := clusterTopology(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r := newClusterRun(t, ctx, tp)
	rdb := tp.redisClient(t)
	t.Cleanup(func() { tp.restore(t) })
	var victim string
	var pending map[string]int
	var promoted time.Duration
	o := r.run(t, ctx, func() time.Time {
		pending = r.pendingOn(ctx, rdb)
		for addr, n := range pending {
			if victim == "" || n > pending[victim] {
				victim = addr
			}
		}
		if pending[victim] == 0 {
			t.Fatalf("invalid run: no joins pending on any master at the fault: %v", pending)
		}
		_, port, _ := strings.Cut(victim, ":")
		pid := tp.pid(t, "redis-"+port)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		go func() {
			survivor := tp.redis[0]
			if survivor == victim {
				survivor = tp.redis[1]
			}
			c := redis.NewClient(&redis.Options{Addr: survivor})
			defer c.Close()
			promoted = pollUntil(time.Minute, func() bool {
				info, err := c.ClusterInfo(ctx).Result()
				if err != nil || !strings.Contains(info, "cluster_state:ok") {
					return false
				}
				nodes, _ := c.ClusterNodes(ctx).Result()
				return strings.Contains(nodes, victim+"@") && strings.Contains(nodes, "master,fail") &&
					strings.Count(nodes, "master") == 4 // three live masters and the failed one
			})
		}()
		t.Logf("SIGKILL to the Redis master %s (pid %d), pending joins per master %v", victim, pid, pending)
		return at
	})
	if promoted < 0 {
		t.Error("no replica took over the killed master's slots within a minute")
	}
	o.recovery = promoted
	t.Logf("chaos-cluster: Redis master killed: %d ids, lost %d, duplicates %d, %d joins pending on it; replica promoted and cluster ok %s after; first output %s after, longest output stall %s",
		clusterFeed.IDs, o.lost, o.dups, pending[victim], o.recovery.Round(100*time.Millisecond), o.firstOut, o.stall.Round(100*time.Millisecond))
}

// taskAlive reports whether a process of allocation alloc still runs the
// function.
func taskAlive(alloc string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, p := range procs {
		env, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(env), "NOMAD_ALLOC_ID="+alloc+"\x00") {
			continue
		}
		if cmd, _ := os.ReadFile(strings.TrimSuffix(p, "environ") + "cmdline"); strings.Contains(string(cmd), "local/function") {
			return true
		}
	}
	return false
}

// victimClient picks the client of the job's first running allocation.
func (r *clusterRun) victimClient(t *testing.T) (client string, alloc nomadAlloc) {
	as, err := r.tp.allocs(r.job)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.running() {
			return strings.TrimPrefix(a.NodeName, "tributary-cluster-"), a
		}
	}
	t.Fatalf("invalid run: no running allocation of %s at the fault", r.job)
	return "", nomadAlloc{}
}

// TestClusterNomadClientLost: a Nomad client dies with its tasks, as when
// its machine does (SIGKILL to the agent and every process below it). The
// server marks it down and places its allocation on the other client.
// Recovery: until both instances run on the surviving client.
func TestClusterNomadClientLost(t *testing.T) {
	tp := clusterTopology(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r := newClusterRun(t, ctx, tp)
	t.Cleanup(func() { tp.restore(t) })
	var rescheduled time.Duration
	var client string
	done := make(chan struct{})
	o := r.run(t, ctx, func() time.Time {
		var alloc nomadAlloc
		client, alloc = r.victimClient(t)
		pid := tp.pid(t, "nomad-"+client)
		tree := descendants(pid)
		syscall.Kill(pid, syscall.SIGKILL)
		for _, p := range tree {
			syscall.Kill(p, syscall.SIGKILL)
		}
		at := time.Now()
		if pollUntil(5*time.Second, func() bool { return !taskAlive(alloc.ID) }) < 0 {
			t.Fatalf("invalid run: the task of allocation %s outlived its killed client", alloc.ID[:8])
		}
		go func() {
			defer close(done)
			rescheduled = pollUntil(3*time.Minute, func() bool {
				on := tp.runningOn(r.job)
				return len(on) == 1 && on[alloc.NodeName] == 0 && on[otherNode(alloc.NodeName)] == 2
			})
		}()
		t.Logf("SIGKILL to Nomad %s (agent pid %d) and its %d processes, allocation %s with them", client, pid, len(tree), alloc.ID[:8])
		return at
	})
	<-done
	if rescheduled < 0 {
		t.Errorf("the lost allocation was not running on the other client within 3 minutes: %v", tp.runningOn(r.job))
	}
	o.recovery = rescheduled
	t.Logf("chaos-cluster: Nomad client lost with its tasks: %d ids, lost %d, duplicates %d; allocation running on the other client %s after; first output %s after, longest output stall %s",
		clusterFeed.IDs, o.lost, o.dups, o.recovery.Round(100*time.Millisecond), o.firstOut, o.stall.Round(100*time.Millisecond))
}

func otherNode(name string) string {
	if strings.HasSuffix(name, "client-1") {
		return strings.TrimSuffix(name, "1") + "2"
	}
	return strings.TrimSuffix(name, "2") + "1"
}

// TestClusterNomadClientPartitioned: a Nomad client agent is stopped
// (SIGSTOP) while its task keeps running, as in a partition between the
// client and the servers. The server marks the client down and places a
// replacement on the other client, so for a while three instances share
// the consumer group; the agent is resumed (SIGCONT) once the replacement
// runs and stops its orphaned task. Recovery: until the replacement runs.
func TestClusterNomadClientPartitioned(t *testing.T) {
	tp := clusterTopology(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r := newClusterRun(t, ctx, tp)
	t.Cleanup(func() { tp.restore(t) })
	var replaced, orphanStopped time.Duration
	orphanRan := false
	done := make(chan struct{})
	o := r.run(t, ctx, func() time.Time {
		client, alloc := r.victimClient(t)
		pid := tp.pid(t, "nomad-"+client)
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		go func() {
			defer close(done)
			defer syscall.Kill(pid, syscall.SIGCONT) // whatever happens
			replaced = pollUntil(3*time.Minute, func() bool { return tp.runningOn(r.job)[otherNode(alloc.NodeName)] == 2 })
			orphanRan = taskAlive(alloc.ID)
			syscall.Kill(pid, syscall.SIGCONT)
			resumed := time.Now()
			if d := pollUntil(2*time.Minute, func() bool { return !taskAlive(alloc.ID) }); d >= 0 {
				orphanStopped = time.Since(at) - time.Since(resumed) + d
			} else {
				orphanStopped = -1
			}
		}()
		t.Logf("SIGSTOP to Nomad %s (agent pid %d); its allocation %s keeps running", client, pid, alloc.ID[:8])
		return at
	})
	<-done
	if !orphanRan {
		t.Error("invalid run: the partitioned client's task was not running when its replacement started")
	}
	if replaced < 0 {
		t.Errorf("no replacement ran on the other client within 3 minutes: %v", tp.runningOn(r.job))
	}
	if orphanStopped < 0 {
		t.Error("the orphaned task was still running 2 minutes after its agent resumed")
	}
	o.recovery = replaced
	t.Logf("chaos-cluster: Nomad client partitioned (agent stopped, task running): %d ids, lost %d, duplicates %d; replacement running %s after; orphan stopped %s after (its agent resumed once the replacement ran); first output %s after, longest output stall %s",
		clusterFeed.IDs, o.lost, o.dups, o.recovery.Round(100*time.Millisecond), orphanStopped.Round(100*time.Millisecond), o.firstOut, o.stall.Round(100*time.Millisecond))
}

// TestClusterBrokerRemoved: the broker leading most of the input
// partitions is removed from the 3-broker cluster (its listener and client
// connections closed, its partitions led by the other two) and stays away
// until the end. Recovery: until the first output after the removal.
func TestClusterBrokerRemoved(t *testing.T) {
	tp := clusterTopology(t)
	if tp.control == "" {
		stacktest.Unavailable(t, "the broker's control API", fmt.Errorf("TRIBUTARY_CLUSTER_BROKER_CONTROL not set"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r := newClusterRun(t, ctx, tp)
	victim := -1
	post := func(path string) error {
		resp, err := http.Post(tp.control+path, "application/json", nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST %s: %s", path, resp.Status)
		}
		return nil
	}
	t.Cleanup(func() {
		if victim >= 0 {
			if err := post(fmt.Sprintf("/brokers/%d/add", victim)); err != nil {
				t.Errorf("add broker %d back: %v", victim, err)
			}
		}
	})
	leaders := func() map[int]int {
		n := map[int]int{}
		for _, topic := range []string{r.left, r.right} {
			var ls map[string]int
			if err := getJSON(tp.control+"/topics/"+url.PathEscape(topic)+"/leaders", &ls); err != nil {
				t.Fatal(err)
			}
			for _, node := range ls {
				n[node]++
			}
		}
		return n
	}
	var before, after map[int]int
	o := r.run(t, ctx, func() time.Time {
		before = leaders()
		for node, n := range before {
			if victim < 0 || n > before[victim] {
				victim = node
			}
		}
		if err := post(fmt.Sprintf("/brokers/%d/remove", victim)); err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		after = leaders()
		t.Logf("removed broker %d, which led %d of the input partitions; leaders by node before %v, after %v", victim, before[victim], before, after)
		return at
	})
	if after[victim] != 0 {
		t.Errorf("the removed broker %d still leads %d input partitions", victim, after[victim])
	}
	t.Logf("chaos-cluster: broker removed: %d ids, lost %d, duplicates %d; it led %d of %d input partitions; first output %s after, longest output stall %s",
		clusterFeed.IDs, o.lost, o.dups, before[victim], before[0]+before[1]+before[2], o.firstOut, o.stall.Round(100*time.Millisecond))
}

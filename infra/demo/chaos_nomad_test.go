package demo_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"context"

	"github.com/tributary-etl/tributary/infra/demo"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// privateNomad is a Nomad agent (server and client in one process, like the
// stack's) of the test's own, on free ports, with a data directory the test
// keeps or wipes between restarts.
type privateNomad struct {
	t       *testing.T
	bin     string
	dir     string // holds config.hcl and data/
	httpURL string
	cgroup  string // the client's cgroup parent, under each /sys/fs/cgroup controller
	cmd     *exec.Cmd
}

func newPrivateNomad(t *testing.T) *privateNomad {
	t.Helper()
	bin := os.Getenv("TRIBUTARY_NOMAD_BIN")
	if _, err := os.Stat(bin); bin == "" || err != nil {
		stacktest.Unavailable(t, "the Nomad binary (TRIBUTARY_NOMAD_BIN from infra/stack.sh env)", fmt.Errorf("%q: %v", bin, err))
	}
	// Not t.TempDir: Nomad mounts secrets into its allocation directories,
	// which are unmounted before the directory is removed.
	dir, err := os.MkdirTemp("", "tributary-chaos-nomad")
	if err != nil {
		t.Fatal(err)
	}
	port := func() int {
		_, p, _ := strings.Cut(freeAddr(t), ":")
		n, _ := strconv.Atoi(p)
		return n
	}
	httpPort := port()
	config := fmt.Sprintf(`name = "tributary-chaos-%d"
datacenter = "dc1"
bind_addr = "127.0.0.1"
disable_update_check = true
log_level = "INFO"
data_dir = %q
advertise {
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}
ports {
  http = %d
  rpc  = %d
  serf = %d
}
server {
  enabled          = true
  bootstrap_expect = 1
}
client {
  enabled           = true
  network_interface = "lo"
  cgroup_parent     = "/tributary-chaos-%d"
  options = { "driver.denylist" = "docker" }
  artifact { disable_filesystem_isolation = true }
}
plugin "raw_exec" {
  config { enabled = true }
}
`, httpPort, filepath.Join(dir, "data"), httpPort, port(), port(), httpPort)
	if err := os.WriteFile(filepath.Join(dir, "config.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &privateNomad{t: t, bin: bin, dir: dir, httpURL: fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		cgroup: fmt.Sprintf("tributary-chaos-%d", httpPort)}
	n.start()
	t.Cleanup(n.remove)
	return n
}

// start runs the agent and waits until its client node is ready.
func (n *privateNomad) start() {
	n.t.Helper()
	log, err := os.OpenFile(filepath.Join(n.dir, "agent.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	defer log.Close()
	n.cmd = exec.Command(n.bin, "agent", "-config", filepath.Join(n.dir, "config.hcl"))
	n.cmd.Stdout, n.cmd.Stderr = log, log
	n.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LANG=C.UTF-8"}
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var nodes []struct{ Status, SchedulingEligibility string }
		if n.get("/v1/nodes", &nodes) == nil && len(nodes) == 1 && nodes[0].Status == "ready" && nodes[0].SchedulingEligibility == "eligible" {
			return
		}
	}
	n.t.Fatalf("private Nomad agent at %s not ready within 60 s (log %s)", n.httpURL, filepath.Join(n.dir, "agent.log"))
}

func (n *privateNomad) get(path string, out any) error {
	r, err := http.Get(n.httpURL + path)
	if err != nil {
		return err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, r.Status)
	}
	return json.NewDecoder(r.Body).Decode(out)
}

// stop ends the agent gracefully (SIGINT, as an operator would): its tasks
// keep running and are found again by the next agent on the same data.
func (n *privateNomad) stop() {
	if n.cmd != nil {
		n.cmd.Process.Signal(syscall.SIGINT)
		n.cmd.Wait()
		n.cmd = nil
	}
}

// lose kills the agent and everything it started (SIGKILL to its process
// tree: executors, log monitors, the workers) and wipes its data directory,
// as when the machine under it is replaced: the next agent knows no job.
func (n *privateNomad) lose() {
	if n.cmd == nil {
		return
	}
	tree := descendants(n.cmd.Process.Pid)
	n.cmd.Process.Kill()
	n.cmd.Wait()
	n.cmd = nil
	for _, pid := range tree {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	time.Sleep(500 * time.Millisecond) // let the kernel reap them before unmounting
	n.unmount()
	if err := os.RemoveAll(filepath.Join(n.dir, "data")); err != nil {
		n.t.Fatalf("wipe the agent's data: %v", err)
	}
}

// remove purges every job, stops the agent and deletes its directory.
func (n *privateNomad) remove() {
	if n.cmd != nil {
		var jobs []struct{ ID string }
		if n.get("/v1/jobs", &jobs) == nil {
			for _, j := range jobs {
				req, _ := http.NewRequest("DELETE", n.httpURL+"/v1/job/"+j.ID+"?purge=true", nil)
				if r, err := http.DefaultClient.Do(req); err == nil {
					r.Body.Close()
				}
			}
		}
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			var allocs []struct{ ClientStatus string }
			running := 0
			if n.get("/v1/allocations", &allocs) == nil {
				for _, a := range allocs {
					if a.ClientStatus == "running" || a.ClientStatus == "pending" {
						running++
					}
				}
			}
			if running == 0 {
				break
			}
		}
		n.lose() // whatever is left of its process tree goes too
	}
	n.unmount()
	os.RemoveAll(n.dir)
	// The client's cgroups (empty now): children before parents.
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + n.cgroup)
	for _, d := range dirs {
		var all []string
		filepath.WalkDir(d, func(path string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, path)
			}
			return nil
		})
		for i := len(all) - 1; i >= 0; i-- {
			os.Remove(all[i])
		}
	}
}

// unmount unmounts whatever Nomad mounted under the agent's directory.
func (n *privateNomad) unmount() {
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) > 1 && strings.HasPrefix(fields[1], n.dir+"/") {
			points = append(points, fields[1])
		}
	}
	for i := len(points) - 1; i >= 0; i-- { // deepest first
		syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}

// descendants lists the processes below pid, children first found first.
func descendants(pid int) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut after ')'.
		i := strings.LastIndexByte(string(b), ')')
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		child, _ := strconv.Atoi(strings.Split(path, "/")[2])
		children[ppid] = append(children[ppid], child)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// TestChaosNomadAgentRestart stops the Nomad agent that runs a pipeline
// while ids flow, in two ways:
//   - restarted: stopped (SIGINT) and started again 2 s later on its data:
//     the workers keep running meanwhile and the agent finds them again;
//   - lost: the agent and every process it started killed (SIGKILL) and its
//     data wiped, a new empty agent started 2 s later: the API server's
//     reconciler (a pass every 5 s here) registers the jobs again.
//
// Every id must come out in both.
func TestChaosNomadAgentRestart(t *testing.T) {
	for _, lose := range []bool{false, true} {
		t.Run(map[bool]string{false: "restarted", true: "lost"}[lose], func(t *testing.T) {
			chaosNomadAgent(t, lose)
		})
	}
}

func chaosNomadAgent(t *testing.T, lose bool) {
	brokers := stacktest.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	agent := newPrivateNomad(t)
	api := newPrivateAPI(t, apiOptions{nomadAddr: agent.httpURL})
	c := api.admin(ctx)
	name := strings.ReplaceAll(stacktest.Name(t, "chaosnomad"), "_", "-")
	p, left, right, out := joinPipeline(t, ctx, c, name)
	if err := demo.DeployAndWait(ctx, c, p, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	emitted := stacktest.CheckIDs(ctx, brokers, out, false)

	var downAt, upAt time.Time
	healthy := make(chan time.Duration, 1) // 0: not within 3 minutes
	feed := stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: 3000, Rate: 200,
		Tick: func(elapsed time.Duration) {
			switch {
			case downAt.IsZero() && elapsed > 3*time.Second:
				if lose {
					agent.lose()
				} else {
					agent.stop()
				}
				downAt = time.Now()
			case !downAt.IsZero() && upAt.IsZero() && time.Since(downAt) > 2*time.Second:
				agent.start()
				upAt = time.Now()
				go func() {
					for time.Since(upAt) < 3*time.Minute {
						if pipelineHealthy(ctx, c, p) == 2 {
							healthy <- time.Since(upAt)
							return
						}
						time.Sleep(250 * time.Millisecond)
					}
					healthy <- 0
				}()
			}
		}}
	feed.Run(t, ctx)
	healthyAfter := <-healthy
	ids := stacktest.IDs(feed.IDs)
	// Joins the killed instances had claimed are emitted again after the
	// claim timeout (60 s).
	stacktest.WaitFor(t, 3*time.Minute, ids, emitted)
	lost, dups := emitted.Tally(ids)
	var whileDown int
	for _, at := range emitted.Times() {
		if at.After(downAt) && at.Before(upAt) {
			whileDown++
		}
	}
	how := map[bool]string{false: "stopped and restarted on its data", true: "lost with its tasks and data"}[lose]
	t.Logf("chaos: Nomad agent %s: %d ids, lost %d, duplicates %d; agent down %s (until ready again); %d records emitted while it was down; pipeline healthy %s after the agent was back; first output %s after",
		how, feed.IDs, lost, dups, upAt.Sub(downAt).Round(100*time.Millisecond), whileDown,
		healthyAfter.Round(100*time.Millisecond), since(emitted.FirstAfter(upAt), upAt))
	if lost != 0 {
		t.Errorf("%d of %d ids lost", lost, feed.IDs)
	}
	if healthyAfter == 0 {
		t.Error("the pipeline was not healthy again within 3 minutes of the agent's return")
	}
}

// since formats the time from t0 to t, or says there was nothing after t0.
func since(t, t0 time.Time) string {
	if t.IsZero() {
		return "never (no output after it)"
	}
	return t.Sub(t0).Round(10 * time.Millisecond).String()
}

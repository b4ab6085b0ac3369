package scheduler_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// privateAgent is a Nomad agent (server and client) started by one test,
// on ports of its own, never the stack's shared agent. It runs in -dev mode:
// its server state lives in memory, so a restart loses every job, which is
// what the reconciler must repair; and a dev client destroys its
// allocations (kills their tasks) when it shuts down.
type privateAgent struct {
	t       *testing.T
	bin     string
	dir     string // config, log
	dataDir string // the agent's data_dir: alloc and client state
	config  string
	cgroup  string // cgroup_parent (cgroups v1), private to this agent
	addr    string
	cmd     *exec.Cmd
	exited  chan struct{}
	log     *os.File
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func startPrivateAgent(t *testing.T) *privateAgent {
	t.Helper()
	bin := os.Getenv("TRIBUTARY_NOMAD_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot, ".state", "bin", "nomad")
	}
	if _, err := os.Stat(bin); err != nil {
		stacktest.Unavailable(t, "the Nomad binary", err)
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	a := &privateAgent{t: t, bin: bin, dir: t.TempDir(), cgroup: "/tributary-test-" + hex.EncodeToString(rnd[:])}
	a.dataDir = filepath.Join(a.dir, "data")
	ports := freePorts(t, 3)
	a.addr = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	a.config = filepath.Join(a.dir, "agent.hcl")
	cfg := fmt.Sprintf(`
name                 = "tributary-test-%[5]s"
bind_addr            = "127.0.0.1"
data_dir             = %[4]q
disable_update_check = true
log_level            = "INFO"
advertise {
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}
ports {
  http = %[1]d
  rpc  = %[2]d
  serf = %[3]d
}
server {
  enabled          = true
  bootstrap_expect = 1
}
client {
  enabled           = true
  network_interface = "lo"
  # Not the shared agent's "nomad" cgroups.
  cgroup_parent     = %[6]q
  options = {
    "driver.denylist" = "docker,java,qemu,exec"
  }
  artifact {
    disable_filesystem_isolation = true
  }
}
plugin "raw_exec" {
  config {
    enabled = true
  }
}
`, ports[0], ports[1], ports[2], a.dataDir, hex.EncodeToString(rnd[:]), a.cgroup)
	if err := os.WriteFile(a.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(a.dir, "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	a.log = log
	t.Cleanup(a.cleanup)
	a.start()
	return a
}

// start runs the agent and waits until it is healthy and its node ready.
func (a *privateAgent) start() {
	t := a.t
	t.Helper()
	a.cmd = exec.Command(a.bin, "agent", "-dev", "-config", a.config)
	// raw_exec tasks inherit the agent's environment: keep the test's
	// TRIBUTARY_* (make test exports the stack's addresses) away from them,
	// or a worker would read its config from the stack's database.
	a.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test binary
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start Nomad agent: %v", err)
	}
	exited := make(chan struct{})
	a.exited = exited
	go func() { a.cmd.Wait(); close(exited) }()
	t.Logf("private Nomad agent pid %d at %s (data %s)", a.cmd.Process.Pid, a.addr, a.dataDir)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	start := time.Now()
	// Before the agent answers there is nothing to block on: poll health.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := http.Get(a.addr + "/v1/agent/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-a.exited:
			t.Fatalf("Nomad agent exited while starting: %v\n%s", a.cmd.ProcessState, a.logTail())
		case <-ctx.Done():
			t.Fatalf("Nomad agent not healthy after 60s\n%s", a.logTail())
		case <-tick.C:
		}
	}
	// Then block on the node list until the node is ready with raw_exec.
	client := a.client()
	var index uint64
	for {
		nodes, meta, err := client.Nodes().List((&api.QueryOptions{WaitIndex: index}).WithContext(ctx))
		if err != nil {
			t.Fatalf("Nomad agent's nodes: %v\n%s", err, a.logTail())
		}
		index = meta.LastIndex
		ready := slices.ContainsFunc(nodes, func(n *api.NodeListStub) bool {
			d := n.Drivers["raw_exec"]
			return n.Status == api.NodeStatusReady && n.SchedulingEligibility == api.NodeSchedulingEligible && d != nil && d.Healthy
		})
		if ready {
			break
		}
	}
	t.Logf("private Nomad agent ready after %s", time.Since(start).Round(time.Millisecond))
}

func (a *privateAgent) client() *api.Client {
	c, err := api.NewClient(&api.Config{Address: a.addr})
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

// stop interrupts the agent and waits for it to exit; it kills it (and
// reports an error) if it does not exit within the deadline.
func (a *privateAgent) stop() {
	if a.cmd == nil || a.cmd.Process == nil {
		return
	}
	select {
	case <-a.exited:
		return
	default:
	}
	start := time.Now()
	a.cmd.Process.Signal(os.Interrupt)
	select {
	case <-a.exited:
		a.t.Logf("private Nomad agent stopped after %s", time.Since(start).Round(time.Millisecond))
	case <-time.After(60 * time.Second):
		a.cmd.Process.Kill()
		<-a.exited
		a.t.Errorf("private Nomad agent did not stop within 60s of SIGINT; killed\n%s", a.logTail())
	}
}

func (a *privateAgent) logTail() string {
	data, _ := os.ReadFile(a.log.Name())
	if len(data) > 6000 {
		data = data[len(data)-6000:]
	}
	return string(data)
}

// tasks returns the pids of the processes the agent's client started: the
// raw_exec tasks (whose binary lives in the alloc dir) and their executors
// (whose command line names the alloc dir).
func (a *privateAgent) tasks() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.HasPrefix(exe, a.dataDir+"/") || bytes.Contains(cmdline, []byte(a.dataDir+"/")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// mounts returns the mount points below the agent's data dir, deepest first.
func (a *privateAgent) mounts() []string {
	data, _ := os.ReadFile("/proc/self/mounts")
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.HasPrefix(f[1], a.dataDir+"/") {
			out = append(out, f[1])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

// cleanup purges the agent's jobs, collects garbage, stops the agent and
// makes sure nothing it started is left: no task process, no mount, no
// cgroup.
func (a *privateAgent) cleanup() {
	t := a.t
	defer a.log.Close()
	select {
	case <-a.exited:
	default:
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		c := a.client()
		jobs, _, err := c.Jobs().List((&api.QueryOptions{}).WithContext(ctx))
		if err != nil {
			t.Errorf("private agent: list jobs: %v", err)
		}
		for _, j := range jobs {
			if _, _, err := c.Jobs().DeregisterOpts(j.ID, &api.DeregisterOptions{Purge: true}, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
				t.Errorf("private agent: purge %s: %v", j.ID, err)
			}
		}
		// Wait (blocking queries) until no allocation runs any more.
		var index uint64
		for {
			allocs, meta, err := c.Allocations().List((&api.QueryOptions{WaitIndex: index}).WithContext(ctx))
			if err != nil {
				t.Errorf("private agent: allocations: %v", err)
				break
			}
			index = meta.LastIndex
			if !slices.ContainsFunc(allocs, func(al *api.AllocationListStub) bool {
				return al.ClientStatus == api.AllocClientStatusRunning || al.ClientStatus == api.AllocClientStatusPending
			}) {
				break
			}
		}
		// The client unmounts and removes an allocation's directory when it
		// collects it: force that (synchronously) before stopping, or the
		// agent may exit halfway and leave mounts behind.
		// A loaded machine can leave the collection half done when the
		// agent answers early (EOF), so collect until the mounts are gone,
		// for up to ten seconds.
		for deadline := time.Now().Add(10 * time.Second); ; {
			if nodes, _, err := c.Nodes().List((&api.QueryOptions{}).WithContext(ctx)); err != nil {
				t.Errorf("private agent: nodes: %v", err)
			} else {
				for _, n := range nodes {
					if err := c.Nodes().GC(n.ID, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
						// Nomad 1.6.3 collects the allocations but may
						// answer with a closed connection (EOF); the mount
						// and process checks below are what count.
						t.Logf("private agent: client gc of node %s: %v", n.ID, err)
					}
				}
			}
			if len(a.mounts()) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		if err := c.System().GarbageCollect(); err != nil {
			t.Errorf("private agent: gc: %v", err)
		}
		a.stop()
	}
	if t.Failed() {
		t.Logf("private agent log (tail):\n%s", a.logTail())
	}
	a.checkClean("after the final stop")
	a.removeCgroups()
}

// checkClean fails the test if a task process or a mount of the agent is
// left, and removes them.
func (a *privateAgent) checkClean(when string) {
	t := a.t
	if pids := a.tasks(); len(pids) > 0 {
		t.Errorf("%s: task processes of the private agent still run: %v; killing them", when, pids)
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if ms := a.mounts(); len(ms) > 0 {
		t.Errorf("%s: mounts left below the private agent's data dir: %v; unmounting them", when, ms)
		for _, m := range ms {
			if err := syscall.Unmount(m, 0); err != nil {
				syscall.Unmount(m, syscall.MNT_DETACH)
			}
		}
	}
}

// removeCgroups removes the agent's (empty) cgroup_parent hierarchies.
func (a *privateAgent) removeCgroups() {
	roots, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", strings.TrimPrefix(a.cgroup, "/")))
	for _, root := range roots {
		var dirs []string
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for _, d := range slices.Backward(dirs) {
			if err := syscall.Rmdir(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				a.t.Errorf("remove cgroup %s: %v", d, err)
			}
		}
	}
}

func TestReconcileAfterAgentRestart(t *testing.T) {
	t.Parallel()
	agent := startPrivateAgent(t)
	s, err := scheduler.New(agent.client(), filepath.Join(repoRoot, "jobs", "worker.nomad.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 240*time.Second)
	defer cancel()
	desired, prefix := reconcileWorkers(t, s, 2)

	rep := reconcile(t, ctx, s, desired, prefix)
	if got := workersOf(rep.Registered); len(got) != 2 {
		t.Fatalf("first pass registered %v, want both workers", got)
	}
	for _, spec := range desired {
		waitHealthy(t, ctx, s, spec.Worker, 1)
	}
	if pids := agent.tasks(); len(pids) == 0 {
		t.Fatalf("no task process of the private agent found under %s", agent.dataDir)
	} else {
		t.Logf("task processes before the restart: %v", pids)
	}

	agent.stop()
	agent.checkClean("after the agent stopped")
	agent.start()

	jobs, _, err := agent.client().Jobs().List((&api.QueryOptions{Prefix: prefix}).WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d jobs after the restart", len(jobs))

	start := time.Now()
	rep = reconcile(t, ctx, s, desired, prefix)
	if got, want := workersOf(rep.Registered), workersOf([]scheduler.ReconcileAction{{Worker: desired[0].Worker}, {Worker: desired[1].Worker}}); !slices.Equal(got, want) {
		t.Fatalf("pass after the restart registered %v, want %v", got, want)
	}
	if len(rep.Failed)+len(rep.Removed)+len(rep.Unchanged) > 0 {
		t.Errorf("pass after the restart: %+v, want only registrations", rep)
	}
	for _, spec := range desired {
		waitHealthy(t, ctx, s, spec.Worker, 1)
	}
	t.Logf("both workers healthy again %s after the reconcile", time.Since(start).Round(time.Millisecond))

	rep = reconcile(t, ctx, s, desired, prefix)
	if len(rep.Registered)+len(rep.Removed)+len(rep.Failed) > 0 || len(rep.Unchanged) != 2 {
		t.Errorf("second pass after the restart: %+v, want both unchanged and nothing registered", rep)
	}
}

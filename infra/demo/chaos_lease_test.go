package demo_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/infra/demo"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// leaseTTL is the control plane's lease in the lease scenarios: short, so
// that a takeover is quick to see.
const leaseTTL = 3 * time.Second

// leaseHolder is the holder of the control lease in db ("" when none).
func leaseHolder(t *testing.T, db *sql.DB) string {
	t.Helper()
	var h string
	err := db.QueryRow("SELECT holder FROM control_leases WHERE name = 'control' AND expires_at > NOW(6)").Scan(&h)
	if err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return h
}

// holds reports whether holder is a (holder ids are <host>/<listen address>).
func (a *privateAPI) holds(holder string) bool {
	return a.cmd != nil && strings.HasSuffix(holder, "/"+a.addr)
}

// logCount counts the lines of a's log that contain s.
func (a *privateAPI) logCount(s string) int {
	b, _ := os.ReadFile(filepath.Join(a.logs, "apiserver.log"))
	return strings.Count(string(b), s)
}

// event is the part of an event the scenarios read.
type event struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Reason string    `json:"reason"`
}

func workerEvents(ctx context.Context, t *testing.T, c *demo.Client, worker int64) []event {
	t.Helper()
	var evs []event
	if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/events?worker_id=%d", worker), nil, &evs); err != nil {
		t.Fatal(err)
	}
	return evs
}

func countEvents(evs []event, action, actor string) int {
	n := 0
	for _, e := range evs {
		if e.Action == action && e.Actor == actor {
			n++
		}
	}
	return n
}

// stopOutOfBand stops a job behind the API's back, as `nomad job stop`.
func stopOutOfBand(t *testing.T, job string) {
	t.Helper()
	req, _ := http.NewRequest("DELETE", stacktest.NomadAddr()+"/v1/job/"+url.PathEscape(job), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stop %s: HTTP %d", job, resp.StatusCode)
	}
}

// TestChaosTwoServersOneLease runs two API servers on one database: only
// the lease holder's reconciler acts (a job stopped out of band is
// repaired once, by it); SIGKILL it, and the other takes the lease over
// within its TTL and repairs the next stop.
func TestChaosTwoServersOneLease(t *testing.T) {
	stacktest.Nomad(t)
	brokers := stacktest.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sqldb, dsn := stacktest.MySQL(t)
	opts := apiOptions{dsn: dsn, env: []string{"TRIBUTARY_LEASE_TTL=" + leaseTTL.String(), "TRIBUTARY_RECONCILE_INTERVAL=1s",
		"TRIBUTARY_AUTOSCALE_INTERVAL=1s"}}
	servers := []*privateAPI{newPrivateAPI(t, opts), newPrivateAPI(t, opts)}
	c := servers[0].admin(ctx)

	name := strings.ReplaceAll(stacktest.Name(t, "lease"), "_", "-")
	t.Cleanup(func() { purgeJobs(t, name) })
	repo, _ := filepath.Abs("../..")
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
	if err := c.Do(ctx, "POST", "/api/v1/workers", map[string]any{"name": name, "input_topics": []string{name + ".in"},
		"cluster_id": cluster, "function": "template", "function_version": versions["template"],
		// One decision to take, whatever the lag: 1 instance is outside [2, 2].
		"autoscale": map[string]any{"enabled": true, "min": 2, "max": 2, "lag_per_instance": 1000}}, &w); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/workers/%d/deploy", w.ID), nil, nil); err != nil {
		t.Fatal(err)
	}

	// Exactly one server holds the lease, and only it ever took it.
	var holder string
	for deadline := time.Now().Add(2 * leaseTTL); holder == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		holder = leaseHolder(t, sqldb)
	}
	leader, follower := servers[0], servers[1]
	if servers[1].holds(holder) {
		leader, follower = servers[1], servers[0]
	}
	if !leader.holds(holder) {
		t.Fatalf("lease holder %q is neither server", holder)
	}
	if n, m := leader.logCount("lease taken"), follower.logCount("lease taken"); n != 1 || m != 0 {
		t.Fatalf("the lease was taken %d times by its holder and %d by the other server, want 1 and 0", n, m)
	}

	// The autoscaler decides once, on the holder.
	for deadline := time.Now().Add(time.Minute); countEvents(workerEvents(ctx, t, c, w.ID), "autoscale", "autoscaler") == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no autoscale decision within a minute")
		}
	}

	// A job stopped out of band is repaired exactly once: by the holder.
	waitRepairs := func(c *demo.Client, want int, within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		for time.Since(start) < within {
			if n := countEvents(workerEvents(ctx, t, c, w.ID), "reconcile_repair", "reconciler"); n >= want {
				return time.Since(start)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("fewer than %d reconciler repairs of worker %d within %s", want, w.ID, within)
		return 0
	}
	stopOutOfBand(t, "tributary-"+name)
	repaired := waitRepairs(c, 1, time.Minute)
	// Several of the holder's passes (every second) go by: none repairs
	// again, and the other server never passes.
	<-time.After(3 * time.Second) // an observation window: nothing may happen in it, so no condition to poll for
	if n := countEvents(workerEvents(ctx, t, c, w.ID), "reconcile_repair", "reconciler"); n != 1 {
		t.Errorf("%d repairs of one out-of-band stop, want 1", n)
	}
	if n := follower.logCount("reconcile pass"); n != 0 {
		t.Errorf("the server without the lease logged %d reconcile passes", n)
	}
	if n := countEvents(workerEvents(ctx, t, c, w.ID), "autoscale", "autoscaler"); n != 1 {
		t.Errorf("%d autoscale decisions, want 1", n)
	}
	if n, m := leader.logCount("autoscale: scale"), follower.logCount("autoscale:"); n != 1 || m != 0 {
		t.Errorf("autoscaler lines: %d in the holder's log, %d in the other's; want 1 and 0", n, m)
	}

	// SIGKILL the holder: the other server takes over within the TTL (plus
	// one renewal period, its polling pace).
	leader.kill()
	killed := time.Now()
	for !follower.holds(leaseHolder(t, sqldb)) {
		if time.Since(killed) > leaseTTL+leaseTTL/3+2*time.Second {
			t.Fatalf("the surviving server did not take the lease over within %s of the kill", time.Since(killed).Round(time.Millisecond))
		}
		time.Sleep(100 * time.Millisecond)
	}
	takeover := time.Since(killed)
	fc, err := demo.Login(ctx, follower.url(), "chaos@tributary.local", "chaos-password-1")
	if err != nil {
		t.Fatal(err)
	}
	stopOutOfBand(t, "tributary-"+name)
	repairedAgain := waitRepairs(fc, 2, time.Minute)
	t.Logf("lease: holder repaired an out-of-band stop in %s; after SIGKILL the other server held the lease in %s (TTL %s) and repaired the next stop in %s",
		repaired.Round(time.Millisecond), takeover.Round(time.Millisecond), leaseTTL, repairedAgain.Round(time.Millisecond))
}

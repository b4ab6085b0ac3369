package instances

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

func newScheduler(t *testing.T, addr string) *scheduler.Scheduler {
	t.Helper()
	nc, err := nomad.NewClient(&nomad.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	s, err := scheduler.New(nc, "../../jobs/worker.nomad.hcl")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCollector reads the stack's Nomad and a private database: a worker
// marked running with no allocation has its desired count and 0 healthy;
// a stopped one is not exported; readings are cached for CacheFor.
func TestCollector(t *testing.T) {
	sqldb, _ := stacktest.MySQL(t)
	db := mysql.New(sqldb)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	running, stopped := stacktest.Name(t, "running"), stacktest.Name(t, "stopped")
	for _, w := range []struct {
		name, state string
		n           int
	}{{running, "running", 3}, {stopped, "stopped", 2}} {
		if _, err := sqldb.Exec(`INSERT INTO consumer_configs (consumer_name, topics_input, topics_output, kafka_bootstrap_server, instances, desired_state)
		  VALUES (?, '["in"]', '[]', '127.0.0.1:9092', ?, ?)`, w.name, w.n, w.state); err != nil {
			t.Fatal(err)
		}
	}
	c := New(db.DesiredInstances, newScheduler(t, stacktest.Nomad(t)), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	clock := time.Now()
	c.now = func() time.Time { return clock }
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	want := `# HELP tributary_nomad_up 1 when Nomad answered the last list of worker allocations, else 0.
# TYPE tributary_nomad_up gauge
tributary_nomad_up 1
# HELP tributary_worker_desired_instances Instances a worker marked running should have.
# TYPE tributary_worker_desired_instances gauge
tributary_worker_desired_instances{worker="` + running + `"} 3
# HELP tributary_worker_healthy_instances A running worker's allocations that are running and healthy in Nomad.
# TYPE tributary_worker_healthy_instances gauge
tributary_worker_healthy_instances{worker="` + running + `"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	// Within CacheFor a scrape reuses the reading; after it, it reads again.
	if _, err := sqldb.Exec("UPDATE consumer_configs SET instances = 5 WHERE consumer_name = ?", running); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Errorf("a scrape within CacheFor read again: %v", err)
	}
	clock = clock.Add(CacheFor)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(strings.Replace(want, "} 3", "} 5", 1))); err != nil {
		t.Errorf("after CacheFor: %v", err)
	}
}

func TestCollectorWithoutNomad(t *testing.T) {
	desired := func(context.Context) (map[string]int, error) { return map[string]int{"w": 2}, nil }
	c := New(desired, newScheduler(t, "http://127.0.0.1:1"), slog.New(slog.NewJSONHandler(io.Discard, nil))) // nothing listens on port 1
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	want := `# HELP tributary_nomad_up 1 when Nomad answered the last list of worker allocations, else 0.
# TYPE tributary_nomad_up gauge
tributary_nomad_up 0
# HELP tributary_worker_desired_instances Instances a worker marked running should have.
# TYPE tributary_worker_desired_instances gauge
tributary_worker_desired_instances{worker="w"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

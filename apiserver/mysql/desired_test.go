package mysql

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestDesiredWorkers: only workers marked running with a function version
// that exists become specs, each carrying what the worker and Nomad need.
func TestDesiredWorkers(t *testing.T) {
	ctx := context.Background()
	sqldb, _ := stacktest.MySQL(t)
	db := New(sqldb)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	sha := strings.Repeat("ab", 32)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := sqldb.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec("INSERT INTO functions (name, version, sha256, size_bytes) VALUES ('template', '1.0.0', ?, 10)", sha)
	insert := func(name, fn, version, state string, instances, cfgVersion int) {
		t.Helper()
		exec(`INSERT INTO consumer_configs (consumer_name, topics_input, topics_output, kafka_bootstrap_server,
		  function_name, function_version, instances, desired_state, config_version)
		  VALUES (?, '["a"]', '[]', '10.0.0.1:9092,10.0.0.2:9092', NULLIF(?, ''), NULLIF(?, ''), ?, ?, ?)`,
			name, fn, version, instances, state, cfgVersion)
	}
	insert("runs", "template", "1.0.0", "running", 3, 4)
	insert("stopped", "template", "1.0.0", "stopped", 1, 1)
	insert("no-function", "", "", "running", 1, 1)
	insert("version-gone", "template", "9.9.9", "running", 1, 1)

	var logs bytes.Buffer
	set := JobSettings{PublicURL: "http://127.0.0.1:8080", WorkerMySQLDSN: "u:p@tcp(127.0.0.1:3306)/db",
		RedisAddr: "127.0.0.1:6379", WorkerOTLP: "127.0.0.1:4317"}
	specs, err := db.Desired(set, slog.New(slog.NewTextHandler(&logs, nil))).Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 1 {
		t.Fatalf("desired specs %+v, want only worker runs", specs)
	}
	owner, err := db.OwnerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := specs[0]
	want := scheduler.WorkerSpec{Worker: "runs", WorkerID: "1", Owner: owner, Instances: 3,
		ArtifactURL: "http://127.0.0.1:8080/artifacts/template/1.0.0", ArtifactSHA256: sha,
		FunctionName: "template", FunctionVersion: "1.0.0", ConfigVersion: "4"}
	wantEnv := map[string]string{"TRIBUTARY_REDIS_ADDR": set.RedisAddr,
		"TRIBUTARY_KAFKA_BROKERS": "10.0.0.1:9092,10.0.0.2:9092", "OTEL_EXPORTER_OTLP_ENDPOINT": set.WorkerOTLP}
	want.Env = wantEnv
	// The DSN holds a password: a secret, never the job's environment.
	want.Secrets = map[string]string{"TRIBUTARY_MYSQL_DSN": set.WorkerMySQLDSN}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spec\n %+v\nwant\n %+v", got, want)
	}
	for _, w := range []string{"no-function", "version-gone"} {
		if !strings.Contains(logs.String(), "worker="+w) {
			t.Errorf("worker %s left out without a log line; logs:\n%s", w, logs.String())
		}
	}

	// Without a trace collector the worker gets no OTLP endpoint.
	set.WorkerOTLP = ""
	specs, err = db.Desired(set, nil).Workers(ctx)
	if err != nil || len(specs) != 1 {
		t.Fatalf("specs %+v, %v", specs, err)
	}
	if _, ok := specs[0].Env["OTEL_EXPORTER_OTLP_ENDPOINT"]; ok {
		t.Errorf("OTLP endpoint set without a collector: %v", specs[0].Env)
	}

	// A worker's cluster is a reference: its job gets the cluster's servers
	// as they are now, not the copy in its row.
	exec(`INSERT INTO clusters (id, name, bootstrap_servers) VALUES (7, 'c', '["10.0.0.9:9092"]')`)
	exec("UPDATE consumer_configs SET cluster_id = 7 WHERE consumer_name = 'runs'")
	if specs, err = db.Desired(set, nil).Workers(ctx); err != nil || len(specs) != 1 || specs[0].Env["TRIBUTARY_KAFKA_BROKERS"] != "10.0.0.9:9092" {
		t.Fatalf("with cluster 7: specs %+v, %v", specs, err)
	}

	// Stopping the only running worker empties the desired state.
	exec("UPDATE consumer_configs SET desired_state = 'stopped' WHERE consumer_name = 'runs'")
	if specs, err = db.Desired(set, nil).Workers(ctx); err != nil || len(specs) != 0 {
		t.Fatalf("after stop: specs %+v, %v", specs, err)
	}
}

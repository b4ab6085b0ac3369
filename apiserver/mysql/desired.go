package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/scheduler"
)

// JobSettings are what a worker's Nomad job needs beyond its row: where
// the worker finds its config store, Redis and the trace collector.
type JobSettings struct {
	// PublicURL becomes the installation's artifact base URL if none is
	// recorded yet (see DB.ArtifactBaseURL); jobs use the recorded one.
	PublicURL string
	// WorkerMySQLDSN is how the worker loads its config from
	// consumer_configs by name; it holds a password, so it goes to the
	// job's secrets, never its spec.
	WorkerMySQLDSN string
	RedisAddr      string
	WorkerOTLP     string // "" leaves OTEL_EXPORTER_OTLP_ENDPOINT unset
}

// WorkerSpec is the job of worker w running function version fn, owned by
// this installation, downloading its binary under artifactBase (the
// installation's, from DB.ArtifactBaseURL). A Python fn is run by runtime
// (DB.PythonRuntimeVersion), whose binary the job downloads with fn's code;
// runtime is ignored for a Go fn. It is the only conversion from
// a row to a job: the deploy routes and the reconciler both use it, so
// that a reconcile pass finds a job a route registered unchanged (same
// spec hash), whichever server rendered either.
func WorkerSpec(w apiserver.ConsumerConfig, fn, runtime apiserver.Function, owner, artifactBase string, set JobSettings) scheduler.WorkerSpec {
	env := map[string]string{
		"TRIBUTARY_REDIS_ADDR":    set.RedisAddr,
		"TRIBUTARY_KAFKA_BROKERS": w.KafkaBootstrapServer,
	}
	if set.WorkerOTLP != "" {
		env["OTEL_EXPORTER_OTLP_ENDPOINT"] = set.WorkerOTLP
	}
	var secrets map[string]string
	if set.WorkerMySQLDSN != "" {
		secrets = map[string]string{"TRIBUTARY_MYSQL_DSN": set.WorkerMySQLDSN}
	}
	spec := scheduler.WorkerSpec{
		Worker: w.ConsumerName, WorkerID: strconv.FormatInt(w.ID, 10), Owner: owner, Instances: w.Instances,
		ArtifactURL: ArtifactURL(artifactBase, fn.Name, fn.Version), ArtifactSHA256: fn.SHA256,
		FunctionName: fn.Name, FunctionVersion: fn.Version, ConfigVersion: strconv.Itoa(w.ConfigVersion),
		Env: env, Secrets: secrets,
	}
	if fn.IsPython() {
		spec.Code = scheduler.Code{URL: spec.ArtifactURL, SHA256: fn.SHA256, Archive: fn.Kind == apiserver.FunctionPythonArchive}
		spec.ArtifactURL, spec.ArtifactSHA256 = ArtifactURL(artifactBase, runtime.Name, runtime.Version), runtime.SHA256
	}
	return spec
}

// ArtifactURL is where Nomad's artifact getter downloads a version from.
func ArtifactURL(base, name, version string) string {
	return base + "/artifacts/" + name + "/" + version
}

// Desired is the reconciler's input read from MySQL: the workers whose
// desired_state is running. It is safe for concurrent use.
type Desired struct {
	db  *DB
	set JobSettings
	log *slog.Logger
}

// Desired returns the desired state of this installation's workers; log
// receives the workers marked running that cannot run (nil: slog.Default).
func (db *DB) Desired(set JobSettings, log *slog.Logger) *Desired {
	if log == nil {
		log = slog.Default()
	}
	return &Desired{db: db, set: set, log: log}
}

// Workers returns the spec of every worker marked running, by id. A worker
// marked running without a function version to run (none chosen, or its
// row gone) is logged and left out, which makes the reconciler stop its job.
func (d *Desired) Workers(ctx context.Context) ([]scheduler.WorkerSpec, error) {
	owner, err := d.db.OwnerID(ctx)
	if err != nil {
		return nil, err
	}
	base, err := d.db.ArtifactBaseURL(ctx, d.set.PublicURL)
	if err != nil {
		return nil, err
	}
	// A worker's cluster is a reference: its job gets the cluster's servers
	// as they are now, so that a change of them rolls the job (a different
	// spec). A worker without a cluster, or whose cluster is gone, keeps
	// the servers of its row.
	// Python workers run the newest python runtime; looked up once a pass,
	// when one is needed.
	var runtime *apiserver.Function
	var runtimeErr error
	pythonRuntime := func() (apiserver.Function, error) {
		if runtime == nil && runtimeErr == nil {
			var f apiserver.Function
			f, runtimeErr = d.db.PythonRuntimeVersion(ctx)
			runtime = &f
		}
		return *runtime, runtimeErr
	}
	rows, err := d.db.db.QueryContext(ctx, `SELECT `+ccPrefixed+`, f.sha256, f.kind, cl.bootstrap_servers
	  FROM consumer_configs c LEFT JOIN functions f ON f.name = c.function_name AND f.version = c.function_version
	  LEFT JOIN clusters cl ON cl.id = c.cluster_id
	  WHERE c.desired_state = 'running' ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("list running workers: %w", err)
	}
	defer rows.Close()
	specs := []scheduler.WorkerSpec{}
	for rows.Next() {
		var sha, kind, servers sql.NullString
		w, err := scanConfig(rowWith{rows, []any{&sha, &kind, &servers}})
		if err != nil {
			return nil, fmt.Errorf("list running workers: %w", err)
		}
		if servers.Valid {
			var list []string
			if err := json.Unmarshal([]byte(servers.String), &list); err != nil {
				return nil, fmt.Errorf("servers of cluster %d: %w", w.ClusterID, err)
			}
			w.KafkaBootstrapServer = strings.Join(list, ",")
		}
		if !sha.Valid {
			d.log.Warn("reconcile: worker marked running has no function version to run; its job is stopped",
				slog.String("worker", w.ConsumerName), slog.String("function", w.FunctionName+" "+w.FunctionVersion))
			continue
		}
		fn := apiserver.Function{Name: w.FunctionName, Version: w.FunctionVersion, SHA256: sha.String, Kind: kind.String}
		var rt apiserver.Function
		if fn.IsPython() {
			if rt, err = pythonRuntime(); apiserver.ErrorCode(err) == apiserver.CodeInvalid {
				d.log.Warn("reconcile: Python worker marked running has no python runtime to run it; its job is stopped",
					slog.String("worker", w.ConsumerName), slog.String("error", err.Error()))
				continue
			} else if err != nil {
				return nil, err
			}
		}
		specs = append(specs, WorkerSpec(w, fn, rt, owner, base, d.set))
	}
	return specs, rows.Err()
}

// ccPrefixed is ccColumns qualified by the alias c, for joins.
var ccPrefixed = func() string {
	cols := strings.Split(ccColumns, ",")
	for i, c := range cols {
		cols[i] = "c." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// rowWith scans a row's config columns and then extra columns.
type rowWith struct {
	s     scanner
	extra []any
}

func (r rowWith) Scan(dest ...any) error { return r.s.Scan(append(dest, r.extra...)...) }

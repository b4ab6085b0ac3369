package mysql

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tributary-etl/tributary/apiserver"
)

// Workers lists the workers, by id; pipelineID > 0 keeps that pipeline's.
func (db *DB) Workers(ctx context.Context, pipelineID int64) ([]apiserver.ConsumerConfig, error) {
	q, args := "SELECT "+ccColumns+" FROM consumer_configs", []any{}
	if pipelineID > 0 {
		q, args = q+" WHERE pipeline_id = ?", append(args, pipelineID)
	}
	rows, err := db.db.QueryContext(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	defer rows.Close()
	out := []apiserver.ConsumerConfig{}
	for rows.Next() {
		c, err := scanConfig(rows)
		if err != nil {
			return nil, fmt.Errorf("list workers: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateWorker stores a new worker with every setting of c, as config
// version 1.
func (db *DB) CreateWorker(ctx context.Context, c apiserver.ConsumerConfig, by *int64) (apiserver.ConsumerConfig, error) {
	var saved apiserver.ConsumerConfig
	err := db.Transact(ctx, func(tx *sql.Tx) (err error) {
		saved, err = createWorker(ctx, tx, c, by)
		return err
	})
	return saved, err
}

// UpdateWorker replaces the settings of the worker with that id; a change
// makes a new config version, no change makes none. A pipeline's worker
// stays in its pipeline and keeps its name: the pipeline's graph matches
// workers by name, so a rename there would orphan it.
func (db *DB) UpdateWorker(ctx context.Context, id int64, c apiserver.ConsumerConfig, by *int64) (apiserver.ConsumerConfig, error) {
	var saved apiserver.ConsumerConfig
	err := db.Transact(ctx, func(tx *sql.Tx) error {
		cur, err := getConfig(ctx, tx, "id = ?", id, true)
		if err != nil {
			return notFoundWorker(err)
		}
		c.PipelineID = cur.PipelineID
		if err := keepPipelineName(cur, c, "name"); err != nil {
			return err
		}
		saved, err = updateWorker(ctx, tx, cur, c, by)
		return err
	})
	return saved, err
}

// RollbackWorker writes the settings of an earlier config version as a new
// version; history is never rewritten.
func (db *DB) RollbackWorker(ctx context.Context, id int64, version int, by *int64) (apiserver.ConsumerConfig, error) {
	var saved apiserver.ConsumerConfig
	err := db.Transact(ctx, func(tx *sql.Tx) error {
		cur, err := getConfig(ctx, tx, "id = ?", id, true)
		if err != nil {
			return notFoundWorker(err)
		}
		var raw []byte
		err = tx.QueryRowContext(ctx, "SELECT snapshot FROM config_versions WHERE worker_id = ? AND version = ?", id, version).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return apiserver.FieldErrorf(apiserver.CodeInvalid, "version", "worker %d has no config version %d", id, version)
		}
		if err != nil {
			return fmt.Errorf("read config version: %w", err)
		}
		var sn snapshot
		if err := json.Unmarshal(raw, &sn); err != nil {
			return fmt.Errorf("config version %d of worker %d: %w", version, id, err)
		}
		if sn.Deleted {
			return apiserver.FieldErrorf(apiserver.CodeInvalid, "version", "version %d records the deletion", version)
		}
		old := sn.config()
		old.PipelineID, old.Autoscale = cur.PipelineID, cur.Autoscale // not versioned
		if err := keepPipelineName(cur, old, "version"); err != nil {
			return err
		}
		if err := checkReferences(ctx, tx, &old, "version"); err != nil {
			return err
		}
		saved, err = updateWorker(ctx, tx, cur, old, by)
		return err
	})
	return saved, err
}

// keepPipelineName refuses renaming a pipeline's worker outside its graph.
func keepPipelineName(cur, c apiserver.ConsumerConfig, field string) error {
	if cur.PipelineID == 0 || cur.ConsumerName == c.ConsumerName {
		return nil
	}
	return apiserver.FieldErrorf(apiserver.CodeInvalid, field,
		"worker %q belongs to pipeline %d, which knows it by name: rename it in the pipeline's graph", cur.ConsumerName, cur.PipelineID)
}

// DeleteWorker is DeleteConsumerConfig with a worker's wording.
func (db *DB) DeleteWorker(ctx context.Context, id int64, by *int64) error {
	return notFoundWorker(db.DeleteConsumerConfig(ctx, id, by))
}

// SetDesiredState records whether the worker's job should run.
func (db *DB) SetDesiredState(ctx context.Context, id int64, state string) error {
	return db.execOne(ctx, "UPDATE consumer_configs SET desired_state = ? WHERE id = ?", state, id)
}

// SetDesiredStates sets the desired state of every worker in ids, in one
// statement: all of them or none.
func (db *DB) SetDesiredStates(ctx context.Context, ids []int64, state string) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{state}
	for _, id := range ids {
		args = append(args, id)
	}
	q := "UPDATE consumer_configs SET desired_state = ? WHERE id IN (?" + strings.Repeat(",?", len(ids)-1) + ")"
	if _, err := db.db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("update workers: %w", err)
	}
	return nil
}

// SetInstances records the instance count, a deployment setting: it makes
// no config version.
func (db *DB) SetInstances(ctx context.Context, id int64, n int) error {
	return db.execOne(ctx, "UPDATE consumer_configs SET instances = ? WHERE id = ?", n, id)
}

func (db *DB) execOne(ctx context.Context, q string, args ...any) error {
	res, err := db.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("update worker: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := db.db.QueryRowContext(ctx, "SELECT 1 FROM consumer_configs WHERE id = ?", args[len(args)-1]).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return apiserver.Errorf(apiserver.CodeNotFound, "no worker with that id")
		}
	}
	return nil
}

func notFoundWorker(err error) error {
	if e, ok := errors.AsType[*apiserver.Error](err); ok && e.Code == apiserver.CodeNotFound {
		return apiserver.Errorf(apiserver.CodeNotFound, "no worker with that id")
	}
	return err
}

func createWorker(ctx context.Context, tx *sql.Tx, c apiserver.ConsumerConfig, by *int64) (apiserver.ConsumerConfig, error) {
	if err := checkReferences(ctx, tx, &c, ""); err != nil {
		return c, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO consumer_configs
	  (consumer_name, topics_input, topics_output, kafka_bootstrap_server, metadatas, timeout_seconds, join_key,
	   expiry_topic, dead_letter_topic, config_version, function_name, function_version, instances, cluster_id, pipeline_id,
	   tombstone_ttl_seconds, autoscale)
	  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)`, append(workerArgs(c), autoscaleArg(c.Autoscale))...)
	if err != nil {
		return c, withField(workerConflict(err), "name")
	}
	id, err := res.LastInsertId()
	if err != nil {
		return c, err
	}
	saved, err := getConfig(ctx, tx, "id = ?", id, false)
	if err != nil {
		return saved, err
	}
	return saved, recordVersion(ctx, tx, saved, false, by)
}

func updateWorker(ctx context.Context, tx *sql.Tx, cur, c apiserver.ConsumerConfig, by *int64) (apiserver.ConsumerConfig, error) {
	if err := checkReferences(ctx, tx, &c, ""); err != nil {
		return cur, err
	}
	same := cur.SameSettings(c)
	if same && cur.PipelineID == c.PipelineID && cur.Autoscale == c.Autoscale {
		return cur, nil
	}
	// Only a change of settings makes a version: the pipeline and the
	// autoscaling policy are not the runtime's, and a new version would
	// roll the job.
	bump := 1
	if same {
		bump = 0
	}
	args := append(workerArgs(c), autoscaleArg(c.Autoscale), bump, cur.ID)
	_, err := tx.ExecContext(ctx, `UPDATE consumer_configs SET consumer_name = ?, topics_input = ?, topics_output = ?,
	  kafka_bootstrap_server = ?, metadatas = ?, timeout_seconds = ?, join_key = ?, expiry_topic = ?, dead_letter_topic = ?,
	  function_name = ?, function_version = ?, instances = ?, cluster_id = ?, pipeline_id = ?,
	  tombstone_ttl_seconds = ?, autoscale = ?, config_version = config_version + ? WHERE id = ?`, args...)
	if err != nil {
		return cur, withField(workerConflict(err), "name")
	}
	saved, err := getConfig(ctx, tx, "id = ?", cur.ID, false)
	if err != nil {
		return saved, err
	}
	if same { // only the pipeline or the policy changed: no new settings to record
		return saved, nil
	}
	return saved, recordVersion(ctx, tx, saved, false, by)
}

func workerArgs(c apiserver.ConsumerConfig) []any {
	return []any{c.ConsumerName, mustJSON(c.TopicsInput), mustJSON(c.TopicsOutput), c.KafkaBootstrapServer,
		nullJSON(c.Metadatas), c.TimeoutSeconds, c.JoinKey, nullString(c.ExpiryTopic), nullString(c.DeadLetterTopic),
		nullString(c.FunctionName), nullString(c.FunctionVersion), c.Instances, nullZero(c.ClusterID), nullZero(c.PipelineID),
		nullZero(c.TombstoneTTLSeconds)}
}

func workerConflict(err error) error {
	if isMySQLError(err, errDupEntry) {
		return apiserver.Errorf(apiserver.CodeConflict, "another worker has this name")
	}
	return fmt.Errorf("write worker: %w", err)
}

// checkReferences checks that c's function version and cluster exist, that
// c's metadata fits the version's metadata schema, and fills
// KafkaBootstrapServer from the cluster. field, when set, replaces
// the field names of its errors (a rollback reports "version").
func checkReferences(ctx context.Context, tx *sql.Tx, c *apiserver.ConsumerConfig, field string) error {
	name := func(f string) string { return cmp.Or(field, f) }
	if c.FunctionName != "" {
		var schema []byte
		err := tx.QueryRowContext(ctx, "SELECT metadata_schema FROM functions WHERE name = ? AND version = ? LOCK IN SHARE MODE",
			c.FunctionName, c.FunctionVersion).Scan(&schema)
		if errors.Is(err, sql.ErrNoRows) {
			return apiserver.FieldErrorf(apiserver.CodeInvalid, name("function_version"),
				"function %s has no version %q; upload it first (POST /api/v1/functions)", c.FunctionName, c.FunctionVersion)
		}
		if err != nil {
			return fmt.Errorf("check function: %w", err)
		}
		if err := apiserver.CheckMetadata(schema, c.Metadatas); err != nil {
			return err
		}
	}
	if c.ClusterID != 0 {
		var servers []byte
		err := tx.QueryRowContext(ctx, "SELECT bootstrap_servers FROM clusters WHERE id = ?", c.ClusterID).Scan(&servers)
		if errors.Is(err, sql.ErrNoRows) {
			return apiserver.FieldErrorf(apiserver.CodeInvalid, name("cluster_id"), "no cluster with id %d", c.ClusterID)
		}
		if err != nil {
			return fmt.Errorf("check cluster: %w", err)
		}
		var list []string
		if err := json.Unmarshal(servers, &list); err != nil {
			return fmt.Errorf("cluster %d: %w", c.ClusterID, err)
		}
		c.KafkaBootstrapServer = strings.Join(list, ",")
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullZero is NULL for 0 (no reference, or a setting left at its
// default), else v.
func nullZero[T int | int64](v T) any {
	if v == 0 {
		return nil
	}
	return v
}

// WorkerID is the id of the worker whose consumer name is name; ok is
// false when there is none.
func (db *DB) WorkerID(ctx context.Context, name string) (id int64, ok bool, err error) {
	err = db.db.QueryRowContext(ctx, "SELECT id FROM consumer_configs WHERE consumer_name = ?", name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("worker named %s: %w", name, err)
	}
	return id, true, nil
}

// DesiredInstances is the instance count of every worker marked running,
// by consumer name: what its Nomad job should run.
func (db *DB) DesiredInstances(ctx context.Context) (map[string]int, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT consumer_name, instances FROM consumer_configs WHERE desired_state = ?", apiserver.DesiredRunning)
	if err != nil {
		return nil, fmt.Errorf("desired instances: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("desired instances: %w", err)
		}
		out[name] = n
	}
	return out, rows.Err()
}

package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tributary-etl/tributary/apiserver"
)

const plColumns = `p.id, p.name, p.version, p.graph, p.created_at, p.updated_at,
  (SELECT COUNT(*) FROM consumer_configs c WHERE c.pipeline_id = p.id)`

func scanPipeline(s scanner) (apiserver.Pipeline, error) {
	var p apiserver.Pipeline
	var graph []byte
	err := s.Scan(&p.ID, &p.Name, &p.Version, &graph, &p.CreatedAt, &p.UpdatedAt, &p.Workers)
	p.Graph = graph
	return p, err
}

// Pipelines lists every pipeline by name.
func (db *DB) Pipelines(ctx context.Context) ([]apiserver.Pipeline, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT "+plColumns+" FROM pipelines p ORDER BY p.name")
	if err != nil {
		return nil, fmt.Errorf("list pipelines: %w", err)
	}
	defer rows.Close()
	out := []apiserver.Pipeline{}
	for rows.Next() {
		p, err := scanPipeline(rows)
		if err != nil {
			return nil, fmt.Errorf("list pipelines: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Pipeline returns one pipeline, or CodeNotFound.
func (db *DB) Pipeline(ctx context.Context, id int64) (apiserver.Pipeline, error) {
	return getPipeline(ctx, db.db, id, false)
}

func getPipeline(ctx context.Context, q querier, id int64, lock bool) (apiserver.Pipeline, error) {
	query := "SELECT " + plColumns + " FROM pipelines p WHERE p.id = ?"
	if lock {
		query += " FOR UPDATE"
	}
	p, err := scanPipeline(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, apiserver.Errorf(apiserver.CodeNotFound, "no pipeline with that id")
	}
	if err != nil {
		return p, fmt.Errorf("read pipeline: %w", err)
	}
	return p, nil
}

// PipelineSave is one save of a pipeline: its row and its workers.
type PipelineSave struct {
	ID      int64            // 0 creates the pipeline
	Version *int             // the version the editor started from; nil: last write wins
	Name    string           // the pipeline's name
	Graph   []byte           // the editor's JSON, stored as given
	Workers []PipelineWorker // the graph's workers, validated
}

// PipelineWorker is one worker of a graph being saved. A setting the graph
// left out keeps the stored worker's value, so that a graph that says
// nothing about a worker's function, cluster or instances (the original
// visualizer's never does) does not undo what was set through the worker
// routes; a new worker gets the defaults Config holds.
type PipelineWorker struct {
	Config apiserver.ConsumerConfig
	Field  string          // the worker's path in the request ("graph.workers[2]"), for errors
	Given  map[string]bool // JSON names of the settings the graph gave
	// NoCluster: the graph gave neither cluster_id nor
	// kafka_bootstrap_server and no cluster is registered, so Config's
	// servers are a placeholder; a new worker is refused.
	NoCluster bool
}

// merged is w's config with what the graph left out taken from cur.
func (w PipelineWorker) merged(cur apiserver.ConsumerConfig) apiserver.ConsumerConfig {
	c, given := w.Config, w.Given
	if !given["cluster_id"] && !given["kafka_bootstrap_server"] {
		c.ClusterID, c.KafkaBootstrapServer = cur.ClusterID, cur.KafkaBootstrapServer
	}
	if !given["function"] && !given["function_version"] {
		c.FunctionName, c.FunctionVersion = cur.FunctionName, cur.FunctionVersion
	}
	keep := func(name string, dst *string, stored string) {
		if !given[name] {
			*dst = stored
		}
	}
	keep("join_key", &c.JoinKey, cur.JoinKey)
	keep("expiry_topic", &c.ExpiryTopic, cur.ExpiryTopic)
	keep("dead_letter_topic", &c.DeadLetterTopic, cur.DeadLetterTopic)
	if !given["metadata"] {
		c.Metadatas = cur.Metadatas
	}
	if !given["timeout_seconds"] {
		c.TimeoutSeconds = cur.TimeoutSeconds
	}
	if !given["tombstone_ttl_seconds"] {
		c.TombstoneTTLSeconds = cur.TombstoneTTLSeconds
	}
	if !given["instances"] {
		c.Instances = cur.Instances
	}
	if !given["autoscale"] {
		c.Autoscale = cur.Autoscale
	}
	return c
}

// SavePipeline writes the pipeline and creates, updates and deletes its
// workers to match, all in one transaction: on any error nothing changes.
// It returns the pipeline and its workers' ids by name.
func (db *DB) SavePipeline(ctx context.Context, ps PipelineSave, by *int64) (apiserver.Pipeline, map[string]int64, error) {
	var p apiserver.Pipeline
	ids := map[string]int64{}
	err := db.Transact(ctx, func(tx *sql.Tx) error {
		id, err := upsertPipelineRow(ctx, tx, ps)
		if err != nil {
			return err
		}
		old, err := pipelineWorkers(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, w := range ps.Workers {
			saved, err := savePipelineWorker(ctx, tx, id, w, by)
			if err != nil {
				return err
			}
			ids[saved.ConsumerName] = saved.ID
			delete(old, saved.ID)
		}
		for _, gone := range old {
			if err := deleteWorkerTx(ctx, tx, gone, by); err != nil {
				return err
			}
		}
		p, err = getPipeline(ctx, tx, id, false)
		return err
	})
	if isMySQLError(err, errDeadlock) { // two saves creating the same worker name at once
		err = &apiserver.Error{Code: apiserver.CodeConflict, Err: err,
			Message: "another save changed the same workers at the same time; nothing was written: save again"}
	}
	return p, ids, err
}

func upsertPipelineRow(ctx context.Context, tx *sql.Tx, ps PipelineSave) (int64, error) {
	if ps.ID == 0 {
		res, err := tx.ExecContext(ctx, "INSERT INTO pipelines (name, graph) VALUES (?, ?)", ps.Name, string(ps.Graph))
		if isMySQLError(err, errDupEntry) {
			return 0, apiserver.FieldErrorf(apiserver.CodeConflict, "name", "another pipeline is named %q", ps.Name)
		}
		if err != nil {
			return 0, fmt.Errorf("insert pipeline: %w", err)
		}
		return res.LastInsertId()
	}
	cur, err := getPipeline(ctx, tx, ps.ID, true) // serialises saves of one pipeline
	if err != nil {
		return 0, err
	}
	if ps.Version != nil && *ps.Version != cur.Version {
		return 0, &apiserver.Error{Code: apiserver.CodeConflict, Field: "version",
			Message: fmt.Sprintf("the pipeline changed since version %d: it is at version %d; reload it and save again", *ps.Version, cur.Version),
			Err:     &apiserver.StaleVersionError{Current: cur.Version}}
	}
	_, err = tx.ExecContext(ctx, "UPDATE pipelines SET name = ?, graph = ?, version = version + 1 WHERE id = ?", ps.Name, string(ps.Graph), ps.ID)
	if isMySQLError(err, errDupEntry) {
		return 0, apiserver.FieldErrorf(apiserver.CodeConflict, "name", "another pipeline is named %q", ps.Name)
	}
	if err != nil {
		return 0, fmt.Errorf("update pipeline: %w", err)
	}
	return ps.ID, nil
}

// pipelineWorkers locks and returns the pipeline's workers by id.
func pipelineWorkers(ctx context.Context, tx *sql.Tx, id int64) (map[int64]apiserver.ConsumerConfig, error) {
	rows, err := tx.QueryContext(ctx, "SELECT "+ccColumns+" FROM consumer_configs WHERE pipeline_id = ? FOR UPDATE", id)
	if err != nil {
		return nil, fmt.Errorf("read pipeline workers: %w", err)
	}
	defer rows.Close()
	out := map[int64]apiserver.ConsumerConfig{}
	for rows.Next() {
		c, err := scanConfig(rows)
		if err != nil {
			return nil, err
		}
		out[c.ID] = c
	}
	return out, rows.Err()
}

func savePipelineWorker(ctx context.Context, tx *sql.Tx, pipeline int64, pw PipelineWorker, by *int64) (apiserver.ConsumerConfig, error) {
	w, field := pw.Config, pw.Field
	w.PipelineID = pipeline
	cur, err := getConfig(ctx, tx, "consumer_name = ?", w.ConsumerName, true)
	switch {
	case apiserver.ErrorCode(err) == apiserver.CodeNotFound && pw.NoCluster:
		return cur, apiserver.FieldErrorf(apiserver.CodeInvalid, field+".cluster_id",
			"no Kafka cluster is registered: add one (POST /api/v1/clusters) or give kafka_bootstrap_server")
	case apiserver.ErrorCode(err) == apiserver.CodeNotFound:
		saved, err := createWorker(ctx, tx, w, by)
		return saved, renameFields(err, field)
	case err != nil:
		return cur, err
	case cur.PipelineID != pipeline:
		owner := "a standalone worker"
		if cur.PipelineID != 0 {
			owner = fmt.Sprintf("a worker of pipeline %d", cur.PipelineID)
		}
		return cur, apiserver.FieldErrorf(apiserver.CodeConflict, field+".name", "%q is already %s", w.ConsumerName, owner)
	}
	w = pw.merged(cur)
	w.PipelineID = pipeline
	saved, err := updateWorker(ctx, tx, cur, w, by)
	return saved, renameFields(err, field)
}

// renameFields puts a graph worker's path before the field of err.
func renameFields(err error, prefix string) error {
	if e, ok := errors.AsType[*apiserver.Error](err); ok && !strings.HasPrefix(e.Field, prefix) {
		e.Field = prefix + "." + e.Field
	}
	return err
}

func deleteWorkerTx(ctx context.Context, tx *sql.Tx, c apiserver.ConsumerConfig, by *int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM consumer_configs WHERE id = ?", c.ID); err != nil {
		return fmt.Errorf("delete worker %s: %w", c.ConsumerName, err)
	}
	c.ConfigVersion++
	return recordVersion(ctx, tx, c, true, by)
}

// DeletePipeline deletes a pipeline and its workers.
func (db *DB) DeletePipeline(ctx context.Context, id int64, by *int64) error {
	return db.Transact(ctx, func(tx *sql.Tx) error {
		if _, err := getPipeline(ctx, tx, id, true); err != nil {
			return err
		}
		ws, err := pipelineWorkers(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, w := range ws {
			if err := deleteWorkerTx(ctx, tx, w, by); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM pipelines WHERE id = ?", id)
		return err
	})
}

// DefaultClusterID is the first registered cluster's id, 0 when none is.
func (db *DB) DefaultClusterID(ctx context.Context) (int64, error) {
	var id int64
	err := db.db.QueryRowContext(ctx, "SELECT id FROM clusters ORDER BY id LIMIT 1").Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

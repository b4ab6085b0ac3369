package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
)

const ccColumns = `id, consumer_name, topics_input, topics_output, kafka_bootstrap_server,
  metadatas, timeout_seconds, join_key, expiry_topic, dead_letter_topic, config_version,
  function_name, function_version, instances, cluster_id, pipeline_id, desired_state, updated_at,
  tombstone_ttl_seconds, autoscale`

type scanner interface{ Scan(...any) error }

func scanConfig(s scanner) (apiserver.ConsumerConfig, error) {
	var (
		c                  apiserver.ConsumerConfig
		in, out            []byte
		meta               []byte
		expiry, deadLetter sql.NullString
		fnName, fnVersion  sql.NullString
		cluster, pipeline  sql.NullInt64
		tombstoneTTL       sql.NullInt64
		autoscale          []byte
	)
	if err := s.Scan(&c.ID, &c.ConsumerName, &in, &out, &c.KafkaBootstrapServer, &meta,
		&c.TimeoutSeconds, &c.JoinKey, &expiry, &deadLetter, &c.ConfigVersion,
		&fnName, &fnVersion, &c.Instances, &cluster, &pipeline, &c.DesiredState, &c.UpdatedAt,
		&tombstoneTTL, &autoscale); err != nil {
		return c, err
	}
	var err error
	if c.Autoscale, err = decodeAutoscale(autoscale); err != nil {
		return c, fmt.Errorf("autoscale of %q: %w", c.ConsumerName, err)
	}
	c.FunctionName, c.FunctionVersion = fnName.String, fnVersion.String
	c.ClusterID, c.PipelineID = cluster.Int64, pipeline.Int64
	c.TombstoneTTLSeconds = int(tombstoneTTL.Int64)
	if err := json.Unmarshal(in, &c.TopicsInput); err != nil {
		return c, fmt.Errorf("topics_input of %q: %w", c.ConsumerName, err)
	}
	if err := json.Unmarshal(out, &c.TopicsOutput); err != nil {
		return c, fmt.Errorf("topics_output of %q: %w", c.ConsumerName, err)
	}
	if meta != nil {
		c.Metadatas = json.RawMessage(meta)
	}
	c.ExpiryTopic, c.DeadLetterTopic = expiry.String, deadLetter.String
	return c, nil
}

// ListConsumerConfigs returns every config, by id.
func (db *DB) ListConsumerConfigs(ctx context.Context) ([]apiserver.ConsumerConfig, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT "+ccColumns+" FROM consumer_configs ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list consumer configs: %w", err)
	}
	defer rows.Close()
	out := []apiserver.ConsumerConfig{}
	for rows.Next() {
		c, err := scanConfig(rows)
		if err != nil {
			return nil, fmt.Errorf("list consumer configs: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConsumerConfig returns the config with that id, or CodeNotFound.
func (db *DB) ConsumerConfig(ctx context.Context, id int64) (apiserver.ConsumerConfig, error) {
	return getConfig(ctx, db.db, "id = ?", id, false)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getConfig(ctx context.Context, q querier, where string, arg any, lock bool) (apiserver.ConsumerConfig, error) {
	query := "SELECT " + ccColumns + " FROM consumer_configs WHERE " + where
	if lock {
		query += " FOR UPDATE"
	}
	c, err := scanConfig(q.QueryRowContext(ctx, query, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return c, apiserver.Errorf(apiserver.CodeNotFound, "no consumer config with that id")
	}
	if err != nil {
		return c, fmt.Errorf("read consumer config: %w", err)
	}
	return c, nil
}

// UpsertConsumerConfigs creates or updates each config by ConsumerName, all
// in one transaction: either every item is stored or none is. Only the
// fields of the legacy API (topics, bootstrap server, metadatas) are
// written; a row's other settings are kept. A changed row gets the next
// config_version and a config_versions snapshot; an unchanged row is left
// alone. by is the acting user's id, nil when anonymous. It returns the rows
// as stored, in the order given.
func (db *DB) UpsertConsumerConfigs(ctx context.Context, items []apiserver.ConsumerConfig, by *int64) ([]apiserver.ConsumerConfig, error) {
	out := make([]apiserver.ConsumerConfig, 0, len(items))
	err := db.Transact(ctx, func(tx *sql.Tx) error {
		for i, item := range items {
			cur, err := getConfig(ctx, tx, "consumer_name = ?", item.ConsumerName, true)
			var saved apiserver.ConsumerConfig
			switch {
			case apiserver.ErrorCode(err) == apiserver.CodeNotFound:
				saved, err = insertConfig(ctx, tx, item, by)
			case err != nil:
				return err
			default:
				saved, err = updateConfig(ctx, tx, cur, item, by)
			}
			if err != nil {
				return withField(err, fmt.Sprintf("[%d].consumer_name", i))
			}
			out = append(out, saved)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateConsumerConfig replaces the legacy fields (including the name) of
// the config with that id, as UpsertConsumerConfigs does for one item.
func (db *DB) UpdateConsumerConfig(ctx context.Context, id int64, c apiserver.ConsumerConfig, by *int64) (apiserver.ConsumerConfig, error) {
	var saved apiserver.ConsumerConfig
	err := db.Transact(ctx, func(tx *sql.Tx) error {
		cur, err := getConfig(ctx, tx, "id = ?", id, true)
		if err != nil {
			return err
		}
		saved, err = updateConfig(ctx, tx, cur, c, by)
		return withField(err, "consumer_name")
	})
	return saved, err
}

// DeleteConsumerConfig deletes the config with that id, or returns
// CodeNotFound. Its history stays in config_versions with a final snapshot
// marked deleted.
func (db *DB) DeleteConsumerConfig(ctx context.Context, id int64, by *int64) error {
	return db.Transact(ctx, func(tx *sql.Tx) error {
		cur, err := getConfig(ctx, tx, "id = ?", id, true)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM consumer_configs WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete consumer config: %w", err)
		}
		cur.ConfigVersion++
		return recordVersion(ctx, tx, cur, true, by)
	})
}

func insertConfig(ctx context.Context, tx *sql.Tx, c apiserver.ConsumerConfig, by *int64) (apiserver.ConsumerConfig, error) {
	in, out := mustJSON(c.TopicsInput), mustJSON(c.TopicsOutput)
	res, err := tx.ExecContext(ctx, `INSERT INTO consumer_configs
	  (consumer_name, topics_input, topics_output, kafka_bootstrap_server, metadatas, config_version)
	  VALUES (?, ?, ?, ?, ?, 1)`, c.ConsumerName, in, out, c.KafkaBootstrapServer, nullJSON(c.Metadatas))
	if err != nil {
		return c, translate(err)
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

func updateConfig(ctx context.Context, tx *sql.Tx, cur, c apiserver.ConsumerConfig, by *int64) (apiserver.ConsumerConfig, error) {
	if cur.ConsumerName == c.ConsumerName && slices.Equal(cur.TopicsInput, c.TopicsInput) &&
		slices.Equal(cur.TopicsOutput, c.TopicsOutput) && cur.KafkaBootstrapServer == c.KafkaBootstrapServer &&
		apiserver.SameJSON(cur.Metadatas, c.Metadatas) {
		return cur, nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE consumer_configs SET consumer_name = ?, topics_input = ?, topics_output = ?,
	  kafka_bootstrap_server = ?, metadatas = ?, config_version = config_version + 1 WHERE id = ?`,
		c.ConsumerName, mustJSON(c.TopicsInput), mustJSON(c.TopicsOutput), c.KafkaBootstrapServer, nullJSON(c.Metadatas), cur.ID)
	if err != nil {
		return cur, translate(err)
	}
	saved, err := getConfig(ctx, tx, "id = ?", cur.ID, false)
	if err != nil {
		return saved, err
	}
	return saved, recordVersion(ctx, tx, saved, false, by)
}

// snapshot is the JSON stored in config_versions: the whole row, enough to
// restore it.
type snapshot struct {
	ID                   int64           `json:"id"`
	ConsumerName         string          `json:"consumer_name"`
	TopicsInput          []string        `json:"topics_input"`
	TopicsOutput         []string        `json:"topics_output"`
	KafkaBootstrapServer string          `json:"kafka_bootstrap_server"`
	Metadatas            json.RawMessage `json:"metadatas"`
	TimeoutSeconds       int             `json:"timeout_seconds"`
	JoinKey              string          `json:"join_key"`
	ExpiryTopic          string          `json:"expiry_topic,omitempty"`
	DeadLetterTopic      string          `json:"dead_letter_topic,omitempty"`
	TombstoneTTLSeconds  int             `json:"tombstone_ttl_seconds,omitempty"`
	ConfigVersion        int             `json:"config_version"`
	FunctionName         string          `json:"function,omitempty"`
	FunctionVersion      string          `json:"function_version,omitempty"`
	Instances            int             `json:"instances,omitempty"`
	ClusterID            int64           `json:"cluster_id,omitempty"`
	Deleted              bool            `json:"deleted,omitempty"`
}

// config is the snapshot's settings as a ConsumerConfig.
func (sn snapshot) config() apiserver.ConsumerConfig {
	return apiserver.ConsumerConfig{ID: sn.ID, ConsumerName: sn.ConsumerName, TopicsInput: sn.TopicsInput,
		TopicsOutput: sn.TopicsOutput, KafkaBootstrapServer: sn.KafkaBootstrapServer, Metadatas: sn.Metadatas,
		TimeoutSeconds: sn.TimeoutSeconds, JoinKey: sn.JoinKey, ExpiryTopic: sn.ExpiryTopic,
		DeadLetterTopic: sn.DeadLetterTopic, TombstoneTTLSeconds: sn.TombstoneTTLSeconds, ConfigVersion: sn.ConfigVersion, FunctionName: sn.FunctionName,
		FunctionVersion: sn.FunctionVersion, Instances: max(sn.Instances, 1), ClusterID: sn.ClusterID}
}

func recordVersion(ctx context.Context, tx *sql.Tx, c apiserver.ConsumerConfig, deleted bool, by *int64) error {
	snap, err := json.Marshal(snapshot{c.ID, c.ConsumerName, nonNil(c.TopicsInput), nonNil(c.TopicsOutput),
		c.KafkaBootstrapServer, c.Metadatas, c.TimeoutSeconds, c.JoinKey, c.ExpiryTopic, c.DeadLetterTopic,
		c.TombstoneTTLSeconds, c.ConfigVersion, c.FunctionName, c.FunctionVersion, c.Instances, c.ClusterID, deleted})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO config_versions (worker_id, version, snapshot, created_by) VALUES (?, ?, ?, ?)",
		c.ID, c.ConfigVersion, string(snap), by); err != nil {
		return fmt.Errorf("record config version: %w", err)
	}
	return nil
}

// ConfigVersion is one stored snapshot of a worker's config.
type ConfigVersion struct {
	WorkerID  int64
	Version   int
	Snapshot  json.RawMessage
	CreatedAt time.Time
	CreatedBy sql.NullInt64
	// CreatedByEmail is that user's email; "" when not known (no user,
	// or the user is gone).
	CreatedByEmail string
}

// ConfigVersions returns a worker's history, oldest first.
func (db *DB) ConfigVersions(ctx context.Context, workerID int64) ([]ConfigVersion, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT v.worker_id, v.version, v.snapshot, v.created_at, v.created_by, COALESCE(u.email, '') "+
		"FROM config_versions v LEFT JOIN users u ON u.id = v.created_by WHERE v.worker_id = ? ORDER BY v.version", workerID)
	if err != nil {
		return nil, fmt.Errorf("list config versions: %w", err)
	}
	defer rows.Close()
	var out []ConfigVersion
	for rows.Next() {
		var v ConfigVersion
		if err := rows.Scan(&v.WorkerID, &v.Version, &v.Snapshot, &v.CreatedAt, &v.CreatedBy, &v.CreatedByEmail); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func translate(err error) error {
	if isMySQLError(err, errDupEntry) {
		return apiserver.Errorf(apiserver.CodeConflict, "another consumer config has this consumer_name")
	}
	return fmt.Errorf("write consumer config: %w", err)
}

// withField names field on a conflict error that has no field yet.
func withField(err error, field string) error {
	if e, ok := errors.AsType[*apiserver.Error](err); ok && e.Code == apiserver.CodeConflict && e.Field == "" {
		e.Field = field
	}
	return err
}

// mustJSON and nullJSON return strings, not []byte: MySQL 8 refuses a JSON
// value sent with the binary character set.
func mustJSON(v []string) string {
	b, _ := json.Marshal(nonNil(v)) // a []string always marshals
	return string(b)
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func nullJSON(m json.RawMessage) any {
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	return string(m)
}

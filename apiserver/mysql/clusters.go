package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tributary-etl/tributary/apiserver"
)

const clusterColumns = "id, name, bootstrap_servers, created_at, updated_at"

func scanCluster(s scanner) (apiserver.Cluster, error) {
	var c apiserver.Cluster
	var servers []byte
	if err := s.Scan(&c.ID, &c.Name, &servers, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return c, err
	}
	if err := json.Unmarshal(servers, &c.BootstrapServers); err != nil {
		return c, fmt.Errorf("bootstrap_servers of cluster %q: %w", c.Name, err)
	}
	return c, nil
}

// ListClusters returns every cluster, by id.
func (db *DB) ListClusters(ctx context.Context) ([]apiserver.Cluster, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT "+clusterColumns+" FROM clusters ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	defer rows.Close()
	out := []apiserver.Cluster{}
	for rows.Next() {
		c, err := scanCluster(rows)
		if err != nil {
			return nil, fmt.Errorf("list clusters: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Cluster returns the cluster with that id, or CodeNotFound.
func (db *DB) Cluster(ctx context.Context, id int64) (apiserver.Cluster, error) {
	return getCluster(ctx, db.db, id)
}

func getCluster(ctx context.Context, q querier, id int64) (apiserver.Cluster, error) {
	c, err := scanCluster(q.QueryRowContext(ctx, "SELECT "+clusterColumns+" FROM clusters WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, apiserver.Errorf(apiserver.CodeNotFound, "no cluster with that id")
	}
	if err != nil {
		return c, fmt.Errorf("read cluster: %w", err)
	}
	return c, nil
}

// CreateCluster inserts c and returns it as stored. A taken name is
// CodeConflict on field "name".
func (db *DB) CreateCluster(ctx context.Context, c apiserver.Cluster) (apiserver.Cluster, error) {
	var saved apiserver.Cluster
	err := db.Transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO clusters (name, bootstrap_servers) VALUES (?, ?)",
			c.Name, mustJSON(c.BootstrapServers))
		if err != nil {
			return translateCluster(err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		saved, err = getCluster(ctx, tx, id)
		return err
	})
	return saved, err
}

// UpdateCluster replaces the name and bootstrap servers of the cluster with
// that id, or returns CodeNotFound; a taken name is CodeConflict on "name".
// The rows of the workers that use the cluster get its servers in the same
// transaction, for the runtime and the legacy API, which read the row; the
// jobs read them through the reference (see Desired), so the reconciler
// rolls those workers onto the new servers. No config version is made: the
// workers' own settings did not change.
func (db *DB) UpdateCluster(ctx context.Context, id int64, c apiserver.Cluster) (apiserver.Cluster, error) {
	var saved apiserver.Cluster
	err := db.Transact(ctx, func(tx *sql.Tx) error {
		if _, err := getCluster(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE clusters SET name = ?, bootstrap_servers = ? WHERE id = ?",
			c.Name, mustJSON(c.BootstrapServers), id); err != nil {
			return translateCluster(err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE consumer_configs SET kafka_bootstrap_server = ? WHERE cluster_id = ?",
			strings.Join(c.BootstrapServers, ","), id); err != nil {
			return fmt.Errorf("update the cluster's workers: %w", err)
		}
		var err error
		saved, err = getCluster(ctx, tx, id)
		return err
	})
	return saved, err
}

// DeleteCluster deletes the cluster with that id, or returns CodeNotFound.
func (db *DB) DeleteCluster(ctx context.Context, id int64) error {
	res, err := db.db.ExecContext(ctx, "DELETE FROM clusters WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete cluster: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete cluster: %w", err)
	} else if n == 0 {
		return apiserver.Errorf(apiserver.CodeNotFound, "no cluster with that id")
	}
	return nil
}

func translateCluster(err error) error {
	if isMySQLError(err, errDupEntry) {
		return apiserver.FieldErrorf(apiserver.CodeConflict, "name", "another cluster has this name")
	}
	return fmt.Errorf("write cluster: %w", err)
}

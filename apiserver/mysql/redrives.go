package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tributary-etl/tributary/apiserver/deadletter"
)

var _ deadletter.Ledger = (*DB)(nil)

// Claim implements deadletter.Ledger with two atomic statements: an
// INSERT IGNORE that claims a record nobody has, then an UPDATE that takes
// over a claim older than staleBefore and not sent. Either way the row is
// read back, so the caller sees who holds it.
func (db *DB) Claim(ctx context.Context, e deadletter.Entry, staleBefore time.Time) (deadletter.Entry, error) {
	k := e.Key
	_, err := db.db.ExecContext(ctx, `INSERT IGNORE INTO redrives
	  (kafka_cluster, dlq_topic, dlq_partition, dlq_offset, worker_id, state, claim_token, claimed_at,
	   target_topic, target_partition, target_offset, redrive_count, actor)
	  VALUES (?, ?, ?, ?, ?, 'claimed', ?, ?, ?, ?, -1, ?, ?)`,
		k.Cluster, k.Topic, k.Partition, k.Offset, e.WorkerID, e.Token, e.ClaimedAt.UTC(),
		e.Target.Topic, e.Target.Partition, e.Count, e.Actor)
	if err != nil {
		return deadletter.Entry{}, fmt.Errorf("claim redrive: %w", err)
	}
	_, err = db.db.ExecContext(ctx, `UPDATE redrives SET worker_id = ?, claim_token = ?, claimed_at = ?,
	  target_topic = ?, target_partition = ?, redrive_count = ?, actor = ?
	  WHERE kafka_cluster = ? AND dlq_topic = ? AND dlq_partition = ? AND dlq_offset = ?
	    AND state = 'claimed' AND claim_token <> ? AND claimed_at < ?`,
		e.WorkerID, e.Token, e.ClaimedAt.UTC(), e.Target.Topic, e.Target.Partition, e.Count, e.Actor,
		k.Cluster, k.Topic, k.Partition, k.Offset, e.Token, staleBefore.UTC())
	if err != nil {
		return deadletter.Entry{}, fmt.Errorf("take over redrive claim: %w", err)
	}
	row := db.db.QueryRowContext(ctx, `SELECT `+redriveColumns+` FROM redrives
	  WHERE kafka_cluster = ? AND dlq_topic = ? AND dlq_partition = ? AND dlq_offset = ?`,
		k.Cluster, k.Topic, k.Partition, k.Offset)
	return scanRedrive(row)
}

// Confirm implements deadletter.Ledger.
func (db *DB) Confirm(ctx context.Context, k deadletter.Key, token string, t deadletter.Target, at time.Time) error {
	res, err := db.db.ExecContext(ctx, `UPDATE redrives SET state = 'sent', target_topic = ?, target_partition = ?,
	  target_offset = ?, sent_at = ?
	  WHERE kafka_cluster = ? AND dlq_topic = ? AND dlq_partition = ? AND dlq_offset = ? AND claim_token = ? AND state = 'claimed'`,
		t.Topic, t.Partition, t.Offset, at.UTC(), k.Cluster, k.Topic, k.Partition, k.Offset, token)
	return claimHeld(res, err, "confirm")
}

// Release implements deadletter.Ledger.
func (db *DB) Release(ctx context.Context, k deadletter.Key, token string) error {
	res, err := db.db.ExecContext(ctx, `DELETE FROM redrives
	  WHERE kafka_cluster = ? AND dlq_topic = ? AND dlq_partition = ? AND dlq_offset = ? AND claim_token = ? AND state = 'claimed'`,
		k.Cluster, k.Topic, k.Partition, k.Offset, token)
	return claimHeld(res, err, "release")
}

func claimHeld(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s redrive: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%s redrive: %w", what, deadletter.ErrNotClaimed)
	}
	return nil
}

// Sent implements deadletter.Ledger.
func (db *DB) Sent(ctx context.Context, cluster, topic string, partition int32, from, to int64) (map[int64]deadletter.Entry, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+redriveColumns+` FROM redrives
	  WHERE kafka_cluster = ? AND dlq_topic = ? AND dlq_partition = ? AND dlq_offset BETWEEN ? AND ? AND state = 'sent'`,
		cluster, topic, partition, from, to)
	if err != nil {
		return nil, fmt.Errorf("redrives of %s/%d: %w", topic, partition, err)
	}
	defer rows.Close()
	out := map[int64]deadletter.Entry{}
	for rows.Next() {
		e, err := scanRedrive(rows)
		if err != nil {
			return nil, err
		}
		out[e.Offset] = e
	}
	return out, rows.Err()
}

const redriveColumns = `kafka_cluster, dlq_topic, dlq_partition, dlq_offset, worker_id, state, claim_token, claimed_at,
  target_topic, target_partition, target_offset, redrive_count, actor, sent_at`

func scanRedrive(s scanner) (deadletter.Entry, error) {
	var e deadletter.Entry
	var sent sql.NullTime
	err := s.Scan(&e.Cluster, &e.Topic, &e.Partition, &e.Offset, &e.WorkerID, &e.State, &e.Token, &e.ClaimedAt,
		&e.Target.Topic, &e.Target.Partition, &e.Target.Offset, &e.Count, &e.Actor, &sent)
	if err != nil {
		return e, fmt.Errorf("read redrive: %w", err)
	}
	e.SentAt = sent.Time
	return e, nil
}

// Package events is Tributary's event log: one row per operational action
// (deploy, scale, stop, rollback, autoscale, reconciler repair, redrive,
// offset reset, ...) saying who did it, when, to which worker, from what to
// what, and why. Events are kept in MySQL and pruned by age.
//
// Recording is best effort for the caller's action but never silent: an
// action that happened is not undone because its event could not be
// written; the caller logs the failure.
package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Actions an event may record. Others may be added by their owners; the
// column holds up to 32 bytes.
const (
	ActionDeploy          = "deploy"
	ActionScale           = "scale"
	ActionStop            = "stop"
	ActionRollback        = "rollback"
	ActionAutoscale       = "autoscale"
	ActionReconcileRepair = "reconcile_repair"
	ActionRedeploy        = "redeploy" // a change elsewhere (a cluster's servers) rolled the worker
	ActionRedrive         = "redrive"
	ActionOffsetReset     = "offset_reset"
)

// Actors that are not users.
const (
	ActorReconciler = "reconciler"
	ActorAutoscaler = "autoscaler"
)

// DefaultRetention is how long events are kept when the configuration
// does not say (TRIBUTARY_EVENTS_RETENTION).
const DefaultRetention = 30 * 24 * time.Hour

// Event is one recorded action. WorkerID and PipelineID are 0 when the
// event is about none; From and To are JSON values (nil: none).
type Event struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	WorkerID   int64           `json:"worker_id,omitempty"`
	PipelineID int64           `json:"pipeline_id,omitempty"`
	From       json.RawMessage `json:"from,omitempty"`
	To         json.RawMessage `json:"to,omitempty"`
	Reason     string          `json:"reason"`
}

// Log reads and writes the events table. It is safe for concurrent use.
type Log struct {
	db  *sql.DB
	now func() time.Time
}

// New returns the log over db (opened with parseTime=true, migrated).
func New(db *sql.DB) *Log { return &Log{db: db, now: time.Now} }

// Record stores e. At defaults to now; Actor and Action are required.
func (l *Log) Record(ctx context.Context, e Event) error {
	if e.Actor == "" || e.Action == "" {
		return errors.New("events: an event needs an actor and an action")
	}
	if e.At.IsZero() {
		e.At = l.now()
	}
	_, err := l.db.ExecContext(ctx, `INSERT INTO events (at, actor, action, worker_id, pipeline_id, from_state, to_state, reason)
	  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.At.UTC(), truncate(e.Actor, 255), e.Action, nullID(e.WorkerID), nullID(e.PipelineID),
		nullJSON(e.From), nullJSON(e.To), e.Reason)
	if err != nil {
		return fmt.Errorf("record %s event: %w", e.Action, err)
	}
	return nil
}

// Filter selects events for List. Zero fields do not filter.
type Filter struct {
	WorkerID   int64
	PipelineID int64
	Action     string
	Before     int64 // only events with a smaller id: the page after one ending at Before
	Limit      int   // at most this many; 0 means DefaultLimit
}

// DefaultLimit and MaxLimit bound a page of List.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// List returns the events f selects, newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Event, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if f.WorkerID > 0 {
		add("worker_id = ?", f.WorkerID)
	}
	if f.PipelineID > 0 {
		add("pipeline_id = ?", f.PipelineID)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	q := "SELECT id, at, actor, action, worker_id, pipeline_id, from_state, to_state, reason FROM events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	rows, err := l.db.QueryContext(ctx, q+" ORDER BY id DESC LIMIT ?", append(args, min(limit, MaxLimit))...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var worker, pipeline sql.NullInt64
		var from, to []byte
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &worker, &pipeline, &from, &to, &e.Reason); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		e.WorkerID, e.PipelineID, e.At = worker.Int64, pipeline.Int64, e.At.UTC()
		if from != nil {
			e.From = json.RawMessage(from)
		}
		if to != nil {
			e.To = json.RawMessage(to)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Last returns the newest event of action about worker, and whether there
// is one.
func (l *Log) Last(ctx context.Context, worker int64, action string) (Event, bool, error) {
	es, err := l.List(ctx, Filter{WorkerID: worker, Action: action, Limit: 1})
	if err != nil || len(es) == 0 {
		return Event{}, false, err
	}
	return es[0], true, nil
}

// Prune deletes events older than maxAge and returns how many, in batches
// so that no statement holds locks for long.
func (l *Log) Prune(ctx context.Context, maxAge time.Duration) (int64, error) {
	cut := l.now().Add(-maxAge).UTC()
	var total int64
	for {
		res, err := l.db.ExecContext(ctx, "DELETE FROM events WHERE at < ? ORDER BY id LIMIT 5000", cut)
		if err != nil {
			return total, fmt.Errorf("prune events: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < 5000 {
			return total, nil
		}
	}
}

// JSON marshals v for Event.From and Event.To; a value that cannot be
// marshalled (never the case for the maps and structs callers pass) is
// recorded as null.
func JSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullJSON(m json.RawMessage) any {
	if len(m) == 0 {
		return nil
	}
	return []byte(m)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// PruneEvery is how often RunPruner prunes.
const PruneEvery = time.Hour

// RunPruner prunes events older than maxAge now and every PruneEvery until
// ctx ends, logging failures through logf. Every API server may run it:
// a prune is idempotent, so servers racing on it only repeat a DELETE.
func (l *Log) RunPruner(ctx context.Context, maxAge time.Duration, logf func(msg string, args ...any)) error {
	t := time.NewTicker(PruneEvery)
	defer t.Stop()
	for {
		if n, err := l.Prune(ctx, maxAge); err != nil && ctx.Err() == nil {
			logf("prune events", "error", err.Error())
		} else if n > 0 {
			logf("pruned events", "deleted", n, "older_than", maxAge.String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

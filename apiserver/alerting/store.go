package alerting

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
)

// DefaultRetention is how long an alert is kept after it resolved (or
// after Alertmanager last sent it) unless TRIBUTARY_ALERTS_RETENTION says
// otherwise.
const DefaultRetention = 7 * 24 * time.Hour

// PruneEvery is how often RunPruner prunes.
const PruneEvery = time.Hour

// DefaultLimit and MaxLimit bound a page of List.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// States List selects by; StateAll selects every alert.
const StateAll = "all"

// Store reads and writes the alerts table. It is safe for concurrent use.
type Store struct {
	db  *sql.DB
	now func() time.Time
}

// NewStore returns the store over db (opened with parseTime=true, migrated).
func NewStore(db *sql.DB) *Store { return &Store{db: db, now: time.Now} }

// Upsert stores a by (fingerprint, starts_at) and reports whether its
// status changed: true for an occurrence not seen before, or one whose
// stored status differs. prev is the status it had ("" when new). Each
// step is one statement whose row count decides, so concurrent upserts
// of the same alert report one change between them.
func (s *Store) Upsert(ctx context.Context, a Alert) (changed bool, prev string, err error) {
	labels, err := json.Marshal(a.Labels)
	if err != nil {
		return false, "", fmt.Errorf("store alert %s: labels: %w", a.Fingerprint, err)
	}
	annotations, err := json.Marshal(a.Annotations)
	if err != nil {
		return false, "", fmt.Errorf("store alert %s: annotations: %w", a.Fingerprint, err)
	}
	now := s.now().UTC()
	var end any
	if a.EndsAt != nil {
		end = a.EndsAt.UTC()
	}
	set := `SET status = ?, ends_at = ?, name = ?, severity = ?, worker = ?, summary = ?, description = ?,
	  labels = ?, annotations = ?, generator_url = ?, updated_at = ? WHERE fingerprint = ? AND starts_at = ?`
	args := []any{a.Status, end, a.Name, a.Severity, a.Worker, a.Summary, a.Description,
		labels, annotations, a.GeneratorURL, now, a.Fingerprint, a.StartsAt.UTC()}

	// 1. A known occurrence in the other status: the change.
	if n, err := s.exec(ctx, "UPDATE alerts "+set+" AND status <> ?", append(args, a.Status)...); err != nil || n > 0 {
		return n > 0, other(a.Status), err
	}
	// 2. An occurrence not seen before.
	n, err := s.exec(ctx, `INSERT INTO alerts (fingerprint, starts_at, status, ends_at, name, severity, worker, summary,
	  description, labels, annotations, generator_url, received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	  ON DUPLICATE KEY UPDATE id = id`, a.Fingerprint, a.StartsAt.UTC(), a.Status, end, a.Name, a.Severity, a.Worker,
		a.Summary, a.Description, labels, annotations, a.GeneratorURL, now, now)
	if err != nil || n > 0 {
		return n > 0, "", err
	}
	// 3. Known, same status: refresh what else Alertmanager says (ends_at,
	// annotations, the time it last sent it).
	_, err = s.exec(ctx, "UPDATE alerts "+set, args...)
	return false, "", err
}

func (s *Store) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("store alert: %w", err)
	}
	return res.RowsAffected()
}

func other(status string) string {
	if status == StatusFiring {
		return StatusResolved
	}
	return StatusFiring
}

// Filter selects alerts for List. Zero fields do not filter.
type Filter struct {
	State  string // StatusFiring, StatusResolved, or StateAll / "" for both
	Worker string // only alerts whose worker label is this
	Limit  int    // at most this many, up to MaxLimit; 0 means DefaultLimit
}

// ParseState checks a state List takes; "" is StateAll.
func ParseState(s string) (string, error) {
	switch s {
	case "", StateAll:
		return StateAll, nil
	case StatusFiring, StatusResolved:
		return s, nil
	}
	return "", apiserver.FieldErrorf(apiserver.CodeBadRequest, "state", "must be %s, %s or %s", StatusFiring, StatusResolved, StateAll)
}

// List returns the alerts f selects, newest (latest starts_at) first.
func (s *Store) List(ctx context.Context, f Filter) ([]Alert, error) {
	var where []string
	var args []any
	if f.State != "" && f.State != StateAll {
		where, args = append(where, "status = ?"), append(args, f.State)
	}
	if f.Worker != "" {
		where, args = append(where, "worker = ?"), append(args, f.Worker)
	}
	q := `SELECT id, fingerprint, name, status, severity, worker, summary, description, labels, annotations,
	  generator_url, starts_at, ends_at, updated_at FROM alerts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY starts_at DESC, id DESC LIMIT ?", append(args, min(limit, MaxLimit))...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		var a Alert
		var labels, annotations []byte
		var end sql.NullTime
		if err := rows.Scan(&a.ID, &a.Fingerprint, &a.Name, &a.Status, &a.Severity, &a.Worker, &a.Summary, &a.Description,
			&labels, &annotations, &a.GeneratorURL, &a.StartsAt, &end, &a.UpdatedAt); err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		if err := json.Unmarshal(labels, &a.Labels); err != nil {
			return nil, fmt.Errorf("list alerts: labels of %d: %w", a.ID, err)
		}
		if err := json.Unmarshal(annotations, &a.Annotations); err != nil {
			return nil, fmt.Errorf("list alerts: annotations of %d: %w", a.ID, err)
		}
		a.StartsAt, a.UpdatedAt = a.StartsAt.UTC(), a.UpdatedAt.UTC()
		if end.Valid {
			t := end.Time.UTC()
			a.EndsAt = &t
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// FiringByName counts the firing alerts per alertname.
func (s *Store) FiringByName(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name, COUNT(*) FROM alerts WHERE status = ? GROUP BY name", StatusFiring)
	if err != nil {
		return nil, fmt.Errorf("count firing alerts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("count firing alerts: %w", err)
		}
		out[name] = n
	}
	return out, rows.Err()
}

// pruneBatch bounds one DELETE so that no statement holds locks for long.
const pruneBatch = 5000

// Prune deletes resolved alerts that ended (or were last sent) more than
// maxAge ago, and firing alerts not sent again for as long, and returns
// how many.
func (s *Store) Prune(ctx context.Context, maxAge time.Duration) (int64, error) {
	cut := s.now().Add(-maxAge).UTC()
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, `DELETE FROM alerts WHERE updated_at < ?
		  AND (status = ? OR COALESCE(ends_at, updated_at) < ?) ORDER BY id LIMIT ?`, cut, StatusFiring, cut, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune alerts: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

// RunPruner prunes alerts older than maxAge now and every PruneEvery until
// ctx ends, logging through logf. Every API server may run it: a prune is
// idempotent.
func (s *Store) RunPruner(ctx context.Context, maxAge time.Duration, logf func(msg string, args ...any)) error {
	t := time.NewTicker(PruneEvery)
	defer t.Stop()
	for {
		if n, err := s.Prune(ctx, maxAge); err != nil && ctx.Err() == nil {
			logf("prune alerts", "error", err.Error())
		} else if n > 0 {
			logf("pruned alerts", "deleted", n, "older_than", maxAge.String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

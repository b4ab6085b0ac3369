package controlplane

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Lease is one row of control_leases: a named right to act that one holder
// has at a time. Expiry is judged by the database's clock, so API servers
// with skewed clocks agree on it. A Lease is safe for concurrent use.
//
// Why a row and not a MySQL named lock (GET_LOCK): a named lock lives as
// long as its connection, and a holder that vanished without closing it
// (a partitioned or frozen machine) keeps it until the server's
// wait_timeout, 8 hours by default. A row's expiry bounds that by the TTL,
// shows who holds it (SELECT * FROM control_leases), and does not pin a
// connection.
type Lease struct {
	db     *sql.DB
	name   string
	holder string
	ttl    time.Duration

	mu    sync.Mutex
	until time.Time // local time up to which this holder may act
}

// NewLease returns the lease name for holder ("" picks a unique one).
func NewLease(db *sql.DB, name, holder string, ttl time.Duration) *Lease {
	if holder == "" {
		host, _ := os.Hostname()
		holder = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), rand.Text()[:8])
	}
	return &Lease{db: db, name: name, holder: holder, ttl: ttl}
}

// HolderID is the id this server holds the lease under.
func (l *Lease) HolderID() string { return l.holder }

// TTL is the lease's lifetime without renewal.
func (l *Lease) TTL() time.Duration { return l.ttl }

// Acquire takes the lease if it is free or expired, or renews it if this
// holder has it, and reports whether this holder has it now. A failure
// to ask leaves the local validity as it was: the holder keeps acting
// until it runs out.
func (l *Lease) Acquire(ctx context.Context) (bool, error) {
	start := time.Now()
	us := l.ttl.Microseconds()
	// The row must exist for the conditional UPDATE; a fresh one is
	// already expired, so that the UPDATE decides who gets it.
	if _, err := l.db.ExecContext(ctx, `INSERT IGNORE INTO control_leases (name, holder, expires_at, acquired_at)
	  VALUES (?, '', NOW(6) - INTERVAL 1 SECOND, NOW(6))`, l.name); err != nil {
		return l.Held(), fmt.Errorf("lease %s: %w", l.name, err)
	}
	res, err := l.db.ExecContext(ctx, `UPDATE control_leases
	  SET acquired_at = IF(holder = ?, acquired_at, NOW(6)), holder = ?, expires_at = NOW(6) + INTERVAL ? MICROSECOND
	  WHERE name = ? AND (holder = ? OR expires_at < NOW(6))`, l.holder, l.holder, us, l.name, l.holder)
	if err != nil {
		return l.Held(), fmt.Errorf("lease %s: %w", l.name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return l.Held(), fmt.Errorf("lease %s: %w", l.name, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n == 1 {
		// Counted from before the statement, less a margin, so that this
		// holder stops before anyone else may start.
		l.until = start.Add(l.ttl - l.ttl/5)
	} else {
		l.until = time.Time{}
	}
	return n == 1, nil
}

// Held reports whether this holder may act now: its last renewal has not
// run out.
func (l *Lease) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Now().Before(l.until)
}

// Release gives the lease up at once (on a graceful stop), so that
// another server takes it over without waiting out the TTL.
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	l.until = time.Time{}
	l.mu.Unlock()
	_, err := l.db.ExecContext(ctx, "UPDATE control_leases SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE name = ? AND holder = ?", l.name, l.holder)
	return err
}

// LeaseHolder is who holds lease name according to the database, and
// until when; holder is "" when nobody holds it (expired or never taken).
func LeaseHolder(ctx context.Context, db *sql.DB, name string) (holder string, expires time.Time, err error) {
	err = db.QueryRowContext(ctx, "SELECT IF(expires_at > NOW(6), holder, ''), expires_at FROM control_leases WHERE name = ?", name).Scan(&holder, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	return holder, expires, err
}

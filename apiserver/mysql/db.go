// Package mysql stores the API server's state in MySQL/MariaDB through
// database/sql with plain, parameterised SQL. A *DB is safe for concurrent
// use.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/tributary-etl/tributary/apiserver"
)

// StatementTimeout bounds each read and write on a connection (the DSN's
// readTimeout and writeTimeout, unless it sets them).
const StatementTimeout = 5 * time.Second

// getLock takes on conn the MySQL named lock whose name is the SQL
// expression name (with args), waiting up to wait. It asks in slices of a
// second so that no single statement outlasts StatementTimeout. It reports
// whether it got the lock.
func getLock(ctx context.Context, conn *sql.Conn, wait time.Duration, name string, args ...any) (bool, error) {
	deadline := time.Now().Add(wait)
	for {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK("+name+", 1)", args...).Scan(&got); err != nil {
			return false, err
		}
		if got.Int64 == 1 {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
	}
}

// DB is the API server's database.
type DB struct {
	db *sql.DB
}

// Open connects to dsn (parseTime is forced on) and checks the connection.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := driver.ParseDSN(dsn)
	if err != nil {
		return nil, errors.New("invalid MySQL DSN") // the driver's error may quote the password
	}
	cfg.ParseTime = true
	// Unless the DSN says otherwise, no network wait is unbounded: a MySQL
	// that accepts connections but stops answering (a dropped link) fails
	// each request after a few seconds, as a 503, instead of holding it.
	// No statement of this server waits longer (locks are taken in slices,
	// see getLock).
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = StatementTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = StatementTimeout
	}
	sqldb, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	sqldb.SetMaxOpenConns(50)
	sqldb.SetMaxIdleConns(25)
	sqldb.SetConnMaxLifetime(30 * time.Minute)
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("connect to MySQL at %s: %w", cfg.Addr, err)
	}
	return &DB{db: sqldb}, nil
}

// New wraps an open *sql.DB, which must have been opened with parseTime=true.
func New(db *sql.DB) *DB { return &DB{db: db} }

// SQL is the pool itself, for the packages that keep their own tables
// (events, the control plane's lease).
func (db *DB) SQL() *sql.DB { return db.db }

// Close closes the pool.
func (db *DB) Close() error { return db.db.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return &apiserver.Error{Code: apiserver.CodeUnavailable, Message: "database unreachable", Err: err}
	}
	return nil
}

// Transact runs fn in a transaction, committing when fn returns nil and
// rolling back otherwise (also on panic, which is re-raised).
func (db *DB) Transact(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// MySQL error numbers the adapter translates.
const (
	errDupEntry = 1062
	errDeadlock = 1213
)

func isMySQLError(err error, number uint16) bool {
	var me *driver.MySQLError
	return errors.As(err, &me) && me.Number == number
}

// OwnerID is this installation's id, written once by the migrations; jobs
// this installation deploys carry it (scheduler.WorkerSpec.Owner).
func (db *DB) OwnerID(ctx context.Context) (string, error) {
	var id string
	if err := db.db.QueryRowContext(ctx, "SELECT owner_id FROM installation WHERE id = 1").Scan(&id); err != nil {
		return "", fmt.Errorf("read installation id: %w", err)
	}
	return id, nil
}

// NomadLock takes the installation's Nomad lock, a MySQL named lock scoped
// to this database, waiting up to wait. Deploys, stops, scales and
// reconcile passes hold it while they read desired state and act on Nomad,
// so that, across every API server of the installation, a pass never acts
// on a desired state older than a job a route just registered or stopped.
// It returns the function that releases it; holding it pins one pooled
// connection. A lock not obtained within wait is CodeUnavailable.
func (db *DB) NomadLock(ctx context.Context, wait time.Duration) (unlock func(), err error) {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return nil, &apiserver.Error{Code: apiserver.CodeUnavailable, Message: "database unreachable", Err: err}
	}
	got, err := getLock(ctx, conn, wait, nomadLockName)
	if err != nil || !got {
		conn.Close()
		if err == nil {
			return nil, apiserver.Errorf(apiserver.CodeUnavailable, "another deploy or reconcile pass held the Nomad lock for %s; retry", wait)
		}
		return nil, &apiserver.Error{Code: apiserver.CodeUnavailable, Message: "database unreachable", Err: err}
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), StatementTimeout)
		defer cancel()
		// Closing the connection would release the lock too, but a pool
		// keeps it open: release it explicitly first.
		conn.ExecContext(ctx, "SELECT RELEASE_LOCK("+nomadLockName+")")
		conn.Close()
	}, nil
}

// nomadLockName is the SQL expression of NomadLock's name: named locks are
// server-wide, so the database's name keeps installations (and tests) on
// one MySQL apart (hashed: a lock name has at most 64 characters).
const nomadLockName = "CONCAT('tributary_nomad:', MD5(DATABASE()))"

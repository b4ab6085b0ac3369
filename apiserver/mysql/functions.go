package mysql

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
)

// fnSelect reads a version with the email of who uploaded it ("" when
// unknown, or the user was deleted).
const fnSelect = "SELECT f.name, f.version, f.sha256, f.size_bytes, f.created_at, COALESCE(u.email, ''), f.metadata_schema, f.kind " +
	"FROM functions f LEFT JOIN users u ON u.id = f.created_by"

func scanFunction(s scanner) (apiserver.Function, error) {
	var f apiserver.Function
	var schema []byte
	err := s.Scan(&f.Name, &f.Version, &f.SHA256, &f.SizeBytes, &f.CreatedAt, &f.UploadedBy, &schema, &f.Kind)
	f.MetadataSchema = schema
	return f, err
}

// Function returns one version, or CodeNotFound naming function_version.
func (db *DB) Function(ctx context.Context, name, version string) (apiserver.Function, error) {
	f, err := scanFunction(db.db.QueryRowContext(ctx, fnSelect+" WHERE f.name = ? AND f.version = ?", name, version))
	if errors.Is(err, sql.ErrNoRows) {
		return f, apiserver.FieldErrorf(apiserver.CodeNotFound, "function_version", "function %s has no version %q", name, version)
	}
	if err != nil {
		return f, fmt.Errorf("read function: %w", err)
	}
	return f, nil
}

// Functions lists every version, by name and then upload time; name "" means
// every function.
func (db *DB) Functions(ctx context.Context, name string) ([]apiserver.Function, error) {
	q, args := fnSelect, []any{}
	if name != "" {
		q, args = q+" WHERE f.name = ?", append(args, name)
	}
	rows, err := db.db.QueryContext(ctx, q+" ORDER BY f.name, f.created_at, f.id", args...)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	defer rows.Close()
	out := []apiserver.Function{}
	for rows.Next() {
		f, err := scanFunction(rows)
		if err != nil {
			return nil, fmt.Errorf("list functions: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// InsertFunction records an uploaded version; a taken name and version is
// CodeConflict.
func (db *DB) InsertFunction(ctx context.Context, f apiserver.Function, by *int64) (apiserver.Function, error) {
	_, err := db.db.ExecContext(ctx, "INSERT INTO functions (name, version, sha256, size_bytes, created_by, metadata_schema, kind) VALUES (?, ?, ?, ?, ?, ?, ?)",
		f.Name, f.Version, f.SHA256, f.SizeBytes, by, nullJSON(f.MetadataSchema), cmp.Or(f.Kind, apiserver.FunctionGo))
	if isMySQLError(err, errDupEntry) {
		return f, apiserver.FieldErrorf(apiserver.CodeConflict, "version", "%s %s exists already; versions are immutable, upload a new one", f.Name, f.Version)
	}
	if err != nil {
		return f, fmt.Errorf("insert function: %w", err)
	}
	return db.Function(ctx, f.Name, f.Version)
}

// DeleteFunction removes a version no worker uses. It returns the version's
// SHA256 and whether another version still shares that file.
func (db *DB) DeleteFunction(ctx context.Context, name, version string) (sha string, shared bool, err error) {
	err = db.Transact(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT sha256 FROM functions WHERE name = ? AND version = ? FOR UPDATE",
			name, version).Scan(&sha); errors.Is(err, sql.ErrNoRows) {
			return apiserver.Errorf(apiserver.CodeNotFound, "function %s has no version %q", name, version)
		} else if err != nil {
			return fmt.Errorf("read function: %w", err)
		}
		users, err := workersUsing(ctx, tx, name, version)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return apiserver.Errorf(apiserver.CodeConflict, "%s %s is used by worker(s) %s", name, version, strings.Join(users, ", "))
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM functions WHERE name = ? AND version = ?", name, version); err != nil {
			return fmt.Errorf("delete function: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM functions WHERE sha256 = ?", sha).Scan(&n); err != nil {
			return fmt.Errorf("count function files: %w", err)
		}
		shared = n > 0
		return nil
	})
	return sha, shared, err
}

func workersUsing(ctx context.Context, tx *sql.Tx, name, version string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT consumer_name FROM consumer_configs WHERE function_name = ? AND function_version = ? ORDER BY consumer_name LOCK IN SHARE MODE", name, version)
	if err != nil {
		return nil, fmt.Errorf("workers using function: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// FunctionUser is a worker that runs a function version.
type FunctionUser struct {
	ID   int64
	Name string
}

// FunctionUsers lists, by "name version", the workers that run each
// function version, by worker id; versions no worker runs are absent.
func (db *DB) FunctionUsers(ctx context.Context) (map[string][]FunctionUser, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT function_name, function_version, id, consumer_name FROM consumer_configs "+
		"WHERE function_name IS NOT NULL AND function_version IS NOT NULL ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("workers using functions: %w", err)
	}
	defer rows.Close()
	out := map[string][]FunctionUser{}
	for rows.Next() {
		var name, version string
		var u FunctionUser
		if err := rows.Scan(&name, &version, &u.ID, &u.Name); err != nil {
			return nil, fmt.Errorf("workers using functions: %w", err)
		}
		out[FunctionKey(name, version)] = append(out[FunctionKey(name, version)], u)
	}
	return out, rows.Err()
}

// FunctionKey is the key of a version in FunctionUsers.
func FunctionKey(name, version string) string { return name + " " + version }

// FunctionFileUsed reports whether any version's binary has this sha256.
func (db *DB) FunctionFileUsed(ctx context.Context, sha string) (bool, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM functions WHERE sha256 = ?", sha).Scan(&n); err != nil {
		return false, fmt.Errorf("count function files: %w", err)
	}
	return n > 0, nil
}

// fileLock names the advisory lock of one artifact file, scoped to this
// database (one installation) and short enough for MySQL's 64-character limit.
const fileLock = "SHA2(CONCAT_WS(':', 'tributary-artifact', DATABASE(), ?), 256)"

// LockFunctionFile runs fn while holding a lock on the artifact file named
// sha, shared by every API server on this database. Uploads hold it from
// placing the file to inserting its row and deletes from deleting the row to
// removing the file, so no row is ever left without its file. It waits up to
// ten seconds for the lock, then answers CodeUnavailable.
func (db *DB) LockFunctionFile(ctx context.Context, sha string, fn func() error) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("lock artifact file: %w", err)
	}
	defer conn.Close()
	got, err := getLock(ctx, conn, 10*time.Second, fileLock, sha)
	if err != nil {
		return fmt.Errorf("lock artifact file: %w", err)
	}
	if !got {
		return apiserver.Errorf(apiserver.CodeUnavailable, "another upload or delete of the same binary is in progress; try again")
	}
	defer func() {
		// A lock that could not be released must not go back to the pool
		// with its connection: a discarded connection releases it.
		_, rerr := conn.ExecContext(context.WithoutCancel(ctx), "DO RELEASE_LOCK("+fileLock+")", sha)
		if rerr != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn()
}

// PythonRuntimeVersion returns the newest version of the function that runs
// Python ones (apiserver.PythonRuntime), or CodeInvalid naming function when
// none was uploaded.
func (db *DB) PythonRuntimeVersion(ctx context.Context) (apiserver.Function, error) {
	f, err := scanFunction(db.db.QueryRowContext(ctx, fnSelect+" WHERE f.name = ? AND f.kind = ? ORDER BY f.created_at DESC, f.id DESC LIMIT 1",
		apiserver.PythonRuntime, apiserver.FunctionGo))
	if errors.Is(err, sql.ErrNoRows) {
		return f, apiserver.FieldErrorf(apiserver.CodeInvalid, "function",
			"a Python function needs the %s runtime: upload functions/python as function %q", apiserver.PythonRuntime, apiserver.PythonRuntime)
	}
	if err != nil {
		return f, fmt.Errorf("read the python runtime: %w", err)
	}
	return f, nil
}

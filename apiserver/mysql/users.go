package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tributary-etl/tributary/apiserver"
)

// CreateUser inserts u and returns it with ID and CreatedAt set. When first
// is true it succeeds only if the table is empty, and creates the admin;
// concurrent first registrations yield one admin and CodeConflict for the
// others. A taken email is CodeConflict on field "email".
func (db *DB) CreateUser(ctx context.Context, u apiserver.User, first bool) (apiserver.User, error) {
	err := db.Transact(ctx, func(tx *sql.Tx) error {
		if first {
			// The locking read takes a gap lock on the empty index, so two
			// first registrations serialise (one deadlocks and is refused).
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT id FROM users LIMIT 1 FOR UPDATE) t").Scan(&n); err != nil {
				return fmt.Errorf("count users: %w", err)
			}
			if n > 0 {
				return apiserver.Errorf(apiserver.CodeUnauthenticated, "registration needs an admin's token")
			}
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO users (email, password_hash, role) VALUES (?, ?, ?)", u.Email, u.PasswordHash, string(u.Role))
		if err != nil {
			return err
		}
		u.ID, err = res.LastInsertId()
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT created_at FROM users WHERE id = ?", u.ID).Scan(&u.CreatedAt)
	})
	switch {
	case isMySQLError(err, errDupEntry):
		return u, apiserver.FieldErrorf(apiserver.CodeConflict, "email", "is already registered")
	case isMySQLError(err, errDeadlock):
		return u, apiserver.Errorf(apiserver.CodeConflict, "another registration is in progress; retry")
	case err != nil:
		return u, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// HasUsers reports whether any user exists.
func (db *DB) HasUsers(ctx context.Context) (bool, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT id FROM users LIMIT 1) t").Scan(&n); err != nil {
		return false, fmt.Errorf("count users: %w", err)
	}
	return n > 0, nil
}

// UserByEmail returns the user with that email, or CodeNotFound.
func (db *DB) UserByEmail(ctx context.Context, email string) (apiserver.User, error) {
	return db.user(ctx, "email = ?", email)
}

// UserByID returns the user with that id, or CodeNotFound.
func (db *DB) UserByID(ctx context.Context, id int64) (apiserver.User, error) {
	return db.user(ctx, "id = ?", id)
}

const userColumns = "id, email, password_hash, role, created_at, disabled_at"

// rowScanner is what *sql.Row and *sql.Rows share.
type rowScanner interface{ Scan(dest ...any) error }

func scanUser(r rowScanner) (apiserver.User, error) {
	var u apiserver.User
	var role string
	var disabled sql.NullTime
	if err := r.Scan(&u.ID, &u.Email, &u.PasswordHash, &role, &u.CreatedAt, &disabled); err != nil {
		return u, err
	}
	u.Role = apiserver.Role(role)
	if disabled.Valid {
		u.DisabledAt = &disabled.Time
	}
	return u, nil
}

func (db *DB) user(ctx context.Context, where string, arg any) (apiserver.User, error) {
	u, err := scanUser(db.db.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return u, apiserver.Errorf(apiserver.CodeNotFound, "no such user")
	}
	if err != nil {
		return u, fmt.Errorf("read user: %w", err)
	}
	return u, nil
}

// ListUsers returns every user, oldest first.
func (db *DB) ListUsers(ctx context.Context) ([]apiserver.User, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	users := []apiserver.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// UserChange is what UpdateUser changes; nil fields stay as they are.
type UserChange struct {
	Role     *apiserver.Role
	Disabled *bool
}

// UpdateUser applies ch to the user with id and returns the user after it,
// or CodeNotFound. A change that would leave no enabled admin is
// CodeConflict (field "role" or "disabled"): the user rows of enabled
// admins are locked for the check, so two admins demoting each other at
// once cannot both succeed.
func (db *DB) UpdateUser(ctx context.Context, id int64, ch UserChange) (apiserver.User, error) {
	var u apiserver.User
	err := db.Transact(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ? FOR UPDATE", id))
		if errors.Is(err, sql.ErrNoRows) {
			return apiserver.Errorf(apiserver.CodeNotFound, "no such user")
		}
		if err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		role, disabled := u.Role, u.DisabledAt != nil
		if ch.Role != nil {
			role = *ch.Role
		}
		if ch.Disabled != nil {
			disabled = *ch.Disabled
		}
		wasAdmin := u.Role == apiserver.RoleAdmin && u.DisabledAt == nil
		if wasAdmin && (role != apiserver.RoleAdmin || disabled) {
			field := "role"
			if disabled {
				field = "disabled"
			}
			if err := lastAdmin(ctx, tx, id, field); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET role = ?,
		  disabled_at = CASE WHEN ? THEN COALESCE(disabled_at, CURRENT_TIMESTAMP(6)) ELSE NULL END WHERE id = ?`,
			string(role), disabled, id)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
		return err
	})
	return u, err
}

// lastAdmin fails with CodeConflict on field when no enabled admin other
// than the user id exists.
func lastAdmin(ctx context.Context, tx *sql.Tx, id int64, field string) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT id FROM users
	  WHERE role = 'admin' AND disabled_at IS NULL AND id <> ? FOR UPDATE) t`, id).Scan(&n)
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if n == 0 {
		return apiserver.FieldErrorf(apiserver.CodeConflict, field, "would leave no enabled admin; make another user admin first")
	}
	return nil
}

// SetUserPassword sets the password hash of the user with id, or answers
// CodeNotFound.
func (db *DB) SetUserPassword(ctx context.Context, id int64, hash string) error {
	res, err := db.db.ExecContext(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", hash, id)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return apiserver.Errorf(apiserver.CodeNotFound, "no such user")
	}
	return nil
}

// DeleteUser deletes the user with id: CodeNotFound when there is none,
// CodeConflict when it is the last enabled admin. What the user did stays
// in the event log under its email.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	return db.Transact(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ? FOR UPDATE", id))
		if errors.Is(err, sql.ErrNoRows) {
			return apiserver.Errorf(apiserver.CodeNotFound, "no such user")
		}
		if err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		if u.Role == apiserver.RoleAdmin && u.DisabledAt == nil {
			if err := lastAdmin(ctx, tx, id, "id"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return nil
	})
}

// SetPassword sets the password hash and role of the user with email,
// creating the user when there is none and enabling it when disabled: the
// operator's way back in when an admin's password is lost (apiserver
// set-password).
func (db *DB) SetPassword(ctx context.Context, email, hash string, role apiserver.Role) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO users (email, password_hash, role) VALUES (?, ?, ?)
	  ON DUPLICATE KEY UPDATE password_hash = VALUES(password_hash), role = VALUES(role), disabled_at = NULL`, email, hash, string(role))
	if err != nil {
		return fmt.Errorf("set password of %s: %w", email, err)
	}
	return nil
}

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

func (db *DB) user(ctx context.Context, where string, arg any) (apiserver.User, error) {
	var u apiserver.User
	var role string
	err := db.db.QueryRowContext(ctx, "SELECT id, email, password_hash, role, created_at FROM users WHERE "+where, arg).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &role, &u.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return u, apiserver.Errorf(apiserver.CodeNotFound, "no such user")
	}
	if err != nil {
		return u, fmt.Errorf("read user: %w", err)
	}
	u.Role = apiserver.Role(role)
	return u, nil
}

// SetPassword sets the password hash and role of the user with email,
// creating the user when there is none: the operator's way back in when an
// admin's password is lost (apiserver set-password).
func (db *DB) SetPassword(ctx context.Context, email, hash string, role apiserver.Role) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO users (email, password_hash, role) VALUES (?, ?, ?)
	  ON DUPLICATE KEY UPDATE password_hash = VALUES(password_hash), role = VALUES(role)`, email, hash, string(role))
	if err != nil {
		return fmt.Errorf("set password of %s: %w", email, err)
	}
	return nil
}

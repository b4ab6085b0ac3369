package main

import (
	"context"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/auth"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestSetPasswordCreatesThenResets(t *testing.T) {
	sqldb, dsn := stacktest.MySQL(t)
	t.Setenv("TRIBUTARY_MYSQL_DSN", dsn)
	db := mysql.New(sqldb)
	for _, pw := range []string{"first-password", "second-password"} {
		if code := setPassword([]string{"ops@example.com"}, strings.NewReader(pw+"\n")); code != 0 {
			t.Fatalf("set-password exit %d", code)
		}
		u, err := db.UserByEmail(context.Background(), "ops@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != apiserver.RoleAdmin || !auth.CheckPassword(u.PasswordHash, pw) {
			t.Fatalf("after setting %q: role %s, password matches %v", pw, u.Role, auth.CheckPassword(u.PasswordHash, pw))
		}
	}
	if code := setPassword([]string{"-role", "viewer", "ops@example.com"}, strings.NewReader("short\n")); code != 2 {
		t.Errorf("a 5-byte password: exit %d, want 2", code)
	}
	if code := setPassword([]string{"-role", "root", "ops@example.com"}, strings.NewReader("long-enough\n")); code != 2 {
		t.Errorf("role root: exit %d, want 2", code)
	}
}

// TestSetPasswordEnables: set-password is the way back in for a disabled
// admin too.
func TestSetPasswordEnables(t *testing.T) {
	sqldb, dsn := stacktest.MySQL(t)
	t.Setenv("TRIBUTARY_MYSQL_DSN", dsn)
	db := mysql.New(sqldb)
	ctx := context.Background()
	if code := setPassword([]string{"ops@example.com"}, strings.NewReader("first-password\n")); code != 0 {
		t.Fatalf("set-password exit %d", code)
	}
	u, err := db.UserByEmail(ctx, "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// The last admin cannot be disabled through the API; straight in the database it can.
	if _, err := sqldb.ExecContext(ctx, "UPDATE users SET disabled_at = NOW(6) WHERE id = ?", u.ID); err != nil {
		t.Fatal(err)
	}
	if code := setPassword([]string{"ops@example.com"}, strings.NewReader("second-password\n")); code != 0 {
		t.Fatalf("set-password exit %d", code)
	}
	if u, err = db.UserByEmail(ctx, "ops@example.com"); err != nil || u.DisabledAt != nil {
		t.Fatalf("after set-password: %+v, %v", u, err)
	}
}

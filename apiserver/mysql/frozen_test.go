package mysql

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// lastVersionBeforeFreeze is the newest migration a database could have
// had while migration 1 still ran worker.Schema.
const lastVersionBeforeFreeze = 10

// frozenFix is the migration that brings both kinds of database together.
const frozenFix = 12

// TestFrozenMigrationsMatchTheOldWay: a database migrated from scratch and
// one made the way the server did before migration 1 was frozen (worker.
// Schema as it was then, plus migrations 1-10), then upgraded, end with
// the same columns, in the same order, typed alike, and the same indexes;
// worker.Schema's columns lead consumer_configs in its order.
func TestFrozenMigrationsMatchTheOldWay(t *testing.T) {
	ctx := context.Background()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := os.ReadFile("testdata/consumer_configs_unfrozen.sql")
	if err != nil {
		t.Fatal(err)
	}
	var old []migration
	for _, m := range ms {
		if m.version > lastVersionBeforeFreeze {
			break
		}
		if m.version == 1 { // worker.Schema ran before the file
			m.stmts = append([]string{string(legacy)}, m.stmts...)
		}
		old = append(old, m)
	}

	// The fresh database first without 012, which must differ from the old
	// way's (else this test could not fail and 012 would do nothing).
	var upTo11 []migration
	for _, m := range ms {
		if m.version < frozenFix {
			upTo11 = append(upTo11, m)
		}
	}
	freshDB, _ := stacktest.MySQL(t)
	if _, err := New(freshDB).migrate(ctx, upTo11); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	oldDB, _ := stacktest.MySQL(t)
	if n, err := New(oldDB).migrate(ctx, old); err != nil || n != len(old) {
		t.Fatalf("the old way: applied %d of %d, %v", n, len(old), err)
	}
	if slices.Equal(columns(t, freshDB), columns(t, oldDB)) {
		t.Fatalf("without migration %d the fresh and old-way databases already match: the test compares nothing", frozenFix)
	}
	for _, db := range []*sql.DB{freshDB, oldDB} {
		if _, err := New(db).Migrate(ctx); err != nil {
			t.Fatalf("upgrade: %v", err)
		}
	}
	// worker.Schema's columns come first, in its order: the workers' table
	// reads the same in every database.
	ref, _ := stacktest.MySQL(t)
	if _, err := ref.ExecContext(ctx, worker.Schema); err != nil {
		t.Fatal(err)
	}
	want, got := columnNames(t, ref), columnNames(t, freshDB)
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Errorf("consumer_configs columns %v, want worker.Schema's %v first", got, want)
	}
	for _, q := range []func(*testing.T, *sql.DB) []string{columns, indexes} {
		fresh, upgraded := q(t, freshDB), q(t, oldDB)
		if !slices.Equal(fresh, upgraded) {
			t.Errorf("fresh and upgraded schemas differ:\n  fresh:    %s\n  upgraded: %s",
				strings.Join(diff(fresh, upgraded), "\n            "), strings.Join(diff(upgraded, fresh), "\n            "))
		}
	}
}

// columns lists every column of the connection's database, one line each.
func columns(t *testing.T, db *sql.DB) []string {
	return schemaRows(t, db, `SELECT CONCAT_WS(' | ', TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE,
	  IS_NULLABLE, IFNULL(COLUMN_DEFAULT, '(no default)'), EXTRA, IFNULL(COLLATION_NAME, '-'))
	  FROM information_schema.columns WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`)
}

// columnNames lists consumer_configs' columns in order.
func columnNames(t *testing.T, db *sql.DB) []string {
	return schemaRows(t, db, `SELECT COLUMN_NAME FROM information_schema.columns
	  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'consumer_configs' ORDER BY ORDINAL_POSITION`)
}

// indexes lists every index column of the connection's database.
func indexes(t *testing.T, db *sql.DB) []string {
	return schemaRows(t, db, `SELECT CONCAT_WS(' | ', TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE)
	  FROM information_schema.statistics WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`)
}

func schemaRows(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// diff is what a holds that b lacks.
func diff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

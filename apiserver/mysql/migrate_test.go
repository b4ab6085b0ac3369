package mysql

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

func TestMigrateIdempotentAndSchemaMatchesWorker(t *testing.T) {
	ctx := context.Background()
	sqldb, _ := stacktest.MySQL(t)
	db := New(sqldb)
	n, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := loadMigrations()
	if n != len(ms) {
		t.Fatalf("first start applied %d migrations, want %d", n, len(ms))
	}
	if n, err = db.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("second start: applied %d, err %v; want 0, nil", n, err)
	}
	var count int
	if err := sqldb.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&count); err != nil || count != len(ms) {
		t.Fatalf("schema_migrations rows = %d (%v), want %d", count, err, len(ms))
	}

	// consumer_configs must hold every column and key worker.Schema creates,
	// defined the same way; the API server's own columns come after them.
	ref, _ := stacktest.MySQL(t)
	if _, err := ref.ExecContext(ctx, worker.Schema); err != nil {
		t.Fatal(err)
	}
	var name, got, want string
	if err := sqldb.QueryRowContext(ctx, "SHOW CREATE TABLE consumer_configs").Scan(&name, &got); err != nil {
		t.Fatal(err)
	}
	if err := ref.QueryRowContext(ctx, "SHOW CREATE TABLE consumer_configs").Scan(&name, &want); err != nil {
		t.Fatal(err)
	}
	gotLines := map[string]bool{}
	for l := range strings.Lines(got) {
		gotLines[strings.TrimSuffix(strings.TrimSpace(l), ",")] = true
	}
	for l := range strings.Lines(want) {
		if l = strings.TrimSuffix(strings.TrimSpace(l), ","); !gotLines[l] {
			t.Errorf("consumer_configs lacks worker.Schema's %q; it is:\n%s", l, got)
		}
	}
	owner, err := db.OwnerID(ctx)
	if err != nil || len(owner) != 32 {
		t.Fatalf("OwnerID = %q, %v", owner, err)
	}
	other, _ := stacktest.MySQL(t)
	if _, err := New(other).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if o2, _ := New(other).OwnerID(ctx); o2 == owner || len(o2) != 32 {
		t.Errorf("two installations share owner id %q", o2)
	}
	if again, _ := db.OwnerID(ctx); again != owner {
		t.Errorf("owner id changed from %q to %q", owner, again)
	}
	for _, table := range []string{"users", "config_versions", "clusters", "functions", "pipelines"} {
		if err := sqldb.QueryRowContext(ctx, "SHOW CREATE TABLE "+table).Scan(&name, &got); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
}

func TestSplitSQL(t *testing.T) {
	got := splitSQL("-- c;\nCREATE TABLE a (x INT);\n\nCREATE TABLE b (\n y INT\n);\n")
	if len(got) != 2 || got[0] != "CREATE TABLE a (x INT)" {
		t.Fatalf("splitSQL = %q", got)
	}
}

func TestMigrationVersions(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("SELECT 1;\n")}
	for name, tc := range map[string]struct {
		files []string
		want  string // versions in order, or the error's start
	}{
		"in order":     {[]string{"001_a.sql", "002_b.sql"}, "[1 2]"},
		"a gap":        {[]string{"008_c.sql", "001_a.sql", "005_b.sql"}, "[1 5 8]"},
		"one version":  {[]string{"001_a.sql", "001_b.sql"}, "migrations 001_a.sql and 001_b.sql"},
		"not numbered": {[]string{"init.sql"}, "migration init.sql"},
		"version zero": {[]string{"000_a.sql"}, "migration 000_a.sql"},
	} {
		fsys := fstest.MapFS{}
		for _, f := range tc.files {
			fsys["migrations/"+f] = file
		}
		ms, err := parseMigrations(fsys)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			var vs []int
			for _, m := range ms {
				vs = append(vs, m.version)
			}
			got = fmt.Sprint(vs)
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %s, want %s", name, got, tc.want)
		}
	}
}

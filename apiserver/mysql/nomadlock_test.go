package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestNomadLock: two holders on one database exclude each other (as two
// API servers do); a holder on another database is not held up.
func TestNomadLock(t *testing.T) {
	ctx := context.Background()
	a, _ := stacktest.MySQL(t)
	other, _ := stacktest.MySQL(t)
	db, db2 := New(a), New(other)
	unlock, err := db.NomadLock(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NomadLock(ctx, time.Second); apiserver.ErrorCode(err) != apiserver.CodeUnavailable {
		t.Fatalf("a second holder on the same database: %v, want unavailable", err)
	}
	unlockOther, err := db2.NomadLock(ctx, time.Second)
	if err != nil {
		t.Fatalf("another database's lock: %v", err)
	}
	unlockOther()
	unlock()
	unlock2, err := db.NomadLock(ctx, time.Second)
	if err != nil {
		t.Fatalf("after the release: %v", err)
	}
	unlock2()
}

package controlplane_test

import (
	"context"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver/controlplane"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestLeaseOneHolderAtATime: of two holders one gets the lease; the other
// gets it only once the first stops renewing and the TTL has run out, or
// at once when the first releases it.
func TestLeaseOneHolderAtATime(t *testing.T) {
	sqldb, _ := stacktest.MySQL(t)
	if _, err := mysql.New(sqldb).Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const ttl = time.Second
	a := controlplane.NewLease(sqldb, "test", "a", ttl)
	b := controlplane.NewLease(sqldb, "test", "b", ttl)
	acquire := func(l *controlplane.Lease) bool {
		t.Helper()
		ok, err := l.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !acquire(a) || !a.Held() {
		t.Fatal("a did not get a free lease")
	}
	if acquire(b) || b.Held() {
		t.Fatal("b got the lease a holds")
	}
	if !acquire(a) {
		t.Fatal("a could not renew its lease")
	}
	if h, _, err := controlplane.LeaseHolder(ctx, sqldb, "test"); err != nil || h != "a" {
		t.Fatalf("holder %q (%v), want a", h, err)
	}
	// a stops renewing: b takes over once the TTL has run out, not before.
	renewed := time.Now()
	deadline := renewed.Add(5 * ttl)
	for !acquire(b) {
		if time.Now().After(deadline) {
			t.Fatal("b never took over the expired lease")
		}
		time.Sleep(50 * time.Millisecond) // the pace of a renewal loop, not a wait for a condition
	}
	if took := time.Since(renewed); took < ttl-100*time.Millisecond {
		t.Errorf("b took over %s after a's renewal, before the TTL %s", took, ttl)
	}
	if a.Held() {
		t.Error("a still believes it holds the lease after its TTL")
	}
	if acquire(a) {
		t.Error("a took the lease back from b")
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if !acquire(a) {
		t.Error("a did not get the lease b released")
	}
}

package mysql

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver/deadletter"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestRedriveLedger: one claim per record, sent records stay sent, a stale
// claim is taken over and its old holder can no longer confirm it.
func TestRedriveLedger(t *testing.T) {
	ctx := context.Background()
	sqldb, _ := stacktest.MySQL(t)
	db := New(sqldb)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	k := deadletter.Key{Cluster: "c", Topic: "w.dlq", Partition: 1, Offset: 42}
	now := time.Now().Truncate(time.Millisecond)
	entry := func(token string, at time.Time) deadletter.Entry {
		return deadletter.Entry{Key: k, WorkerID: 3, Token: token, ClaimedAt: at, Count: 1, Actor: "ed@example.com",
			Target: deadletter.Target{Topic: "in", Partition: 1, Offset: -1}}
	}
	got, err := db.Claim(ctx, entry("a", now.Add(-time.Hour)), now.Add(-5*time.Minute))
	if err != nil || got.Token != "a" || got.State != deadletter.StateClaimed || got.Actor != "ed@example.com" {
		t.Fatalf("first claim %+v (%v)", got, err)
	}
	if got, _ := db.Claim(ctx, entry("b", now), now.Add(-2*time.Hour)); got.Token != "a" {
		t.Errorf("a fresh claim was taken over: %+v", got)
	}
	if got, _ := db.Claim(ctx, entry("b", now), now.Add(-5*time.Minute)); got.Token != "b" {
		t.Fatalf("a stale claim was not taken over: %+v", got)
	}
	target := deadletter.Target{Topic: "in", Partition: 1, Offset: 7}
	if err := db.Confirm(ctx, k, "a", target, now); !errors.Is(err, deadletter.ErrNotClaimed) {
		t.Errorf("the old holder confirmed: %v", err)
	}
	if err := db.Confirm(ctx, k, "b", target, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Claim(ctx, entry("c", now.Add(time.Hour)), now.Add(time.Hour)); got.State != deadletter.StateSent || got.Token != "b" {
		t.Errorf("a sent record was claimed again: %+v", got)
	}
	sent, err := db.Sent(ctx, "c", "w.dlq", 1, 0, 100)
	if e := sent[42]; err != nil || len(sent) != 1 || e.Target != target || !e.SentAt.Equal(now) {
		t.Errorf("sent %+v (%v)", sent, err)
	}
	if err := db.Release(ctx, k, "b"); !errors.Is(err, deadletter.ErrNotClaimed) {
		t.Errorf("a sent record was released: %v", err)
	}
	other := k
	other.Offset = 43
	e := entry("d", now)
	e.Key = other
	if _, err := db.Claim(ctx, e, now); err != nil {
		t.Fatal(err)
	}
	if err := db.Release(ctx, other, "d"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Claim(ctx, func() deadletter.Entry { e.Token = "e"; return e }(), now); got.Token != "e" {
		t.Errorf("a released record could not be claimed again: %+v", got)
	}
}

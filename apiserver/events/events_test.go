package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

func newLog(t *testing.T) *events.Log {
	t.Helper()
	sqldb, _ := stacktest.MySQL(t)
	if _, err := mysql.New(sqldb).Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return events.New(sqldb)
}

func TestRecordListPrune(t *testing.T) {
	l := newLog(t)
	ctx := context.Background()
	old := time.Now().Add(-2 * time.Hour)
	for _, e := range []events.Event{
		{At: old, Actor: "a@example.com", Action: events.ActionDeploy, WorkerID: 1, PipelineID: 7, Reason: "old"},
		{Actor: "a@example.com", Action: events.ActionScale, WorkerID: 1, PipelineID: 7,
			From: events.JSON(map[string]int{"instances": 1}), To: events.JSON(map[string]int{"instances": 2}), Reason: "by hand"},
		{Actor: events.ActorAutoscaler, Action: events.ActionAutoscale, WorkerID: 2, Reason: "lag 900"},
	} {
		if err := l.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Record(ctx, events.Event{Action: "deploy"}); err == nil {
		t.Error("an event without an actor was recorded")
	}
	tests := []struct {
		name string
		f    events.Filter
		want []string // reasons, newest first
	}{
		{"all", events.Filter{}, []string{"lag 900", "by hand", "old"}},
		{"worker", events.Filter{WorkerID: 1}, []string{"by hand", "old"}},
		{"pipeline", events.Filter{PipelineID: 7}, []string{"by hand", "old"}},
		{"limit", events.Filter{Limit: 1}, []string{"lag 900"}},
		{"action", events.Filter{Action: events.ActionAutoscale}, []string{"lag 900"}},
	}
	var all []events.Event
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := l.List(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Reason)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) || got[len(got)-1] != tt.want[len(tt.want)-1] {
				t.Errorf("reasons %q, want %q", got, tt.want)
			}
			if tt.name == "all" {
				all = es
			}
		})
	}
	page, err := l.List(ctx, events.Filter{Before: all[0].ID, Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID != all[1].ID {
		t.Errorf("the page before %d: %+v (%v)", all[0].ID, page, err)
	}
	if string(all[1].To) != `{"instances": 2}` && string(all[1].To) != `{"instances":2}` {
		t.Errorf("to = %s", all[1].To)
	}
	if last, ok, err := l.Last(ctx, 1, events.ActionScale); err != nil || !ok || last.Reason != "by hand" {
		t.Errorf("Last = %+v %v %v", last, ok, err)
	}
	if n, err := l.Prune(ctx, time.Hour); err != nil || n != 1 {
		t.Errorf("Prune deleted %d (%v), want the one old event", n, err)
	}
}

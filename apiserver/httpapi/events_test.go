package httpapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/events"
)

// TestEventsRoute: viewers read the log with filters; a bad filter is a
// 422 naming its parameter.
func TestEventsRoute(t *testing.T) {
	e := newEnv(t).withUsers()
	for _, ev := range []events.Event{
		{Actor: "editor@example.com", Action: events.ActionDeploy, WorkerID: 4, PipelineID: 2, Reason: "first"},
		{Actor: events.ActorReconciler, Action: events.ActionReconcileRepair, WorkerID: 5, Reason: "second"},
	} {
		if err := e.srv.events.Record(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	var got []events.Event
	e.do("GET", "/api/v1/events?pipeline_id=2", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
	if len(got) != 1 || got[0].Reason != "first" || got[0].Actor != "editor@example.com" {
		t.Errorf("pipeline 2's events: %+v", got)
	}
	e.do("GET", "/api/v1/events?limit=1", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
	if len(got) != 1 || got[0].Reason != "second" {
		t.Errorf("newest event: %+v", got)
	}
	e.do("GET", "/api/v1/events", "", "").want(http.StatusUnauthorized)
	for _, tt := range []struct{ query, field string }{
		{"worker_id=x", "worker_id"}, {"limit=0", "limit"}, {"limit=1001", "limit"},
		{"before=-3", "before"}, {"pipeline_id=1.5", "pipeline_id"},
	} {
		r := e.do("GET", "/api/v1/events?"+tt.query, e.tokens[apiserver.RoleViewer], "").want(http.StatusUnprocessableEntity)
		if f := r.errorOf().Field; f != tt.field {
			t.Errorf("%s: refusal names %q, want %q", tt.query, f, tt.field)
		}
	}
}

package alerting

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
)

// samplePayload is a notification as Alertmanager 0.27+ sends it.
const samplePayload = `{
  "version": "4", "groupKey": "{}:{alertname=\"TributaryWorkerDown\"}", "truncatedAlerts": 0,
  "status": "firing", "receiver": "tributary",
  "groupLabels": {"alertname": "TributaryWorkerDown"},
  "commonLabels": {"alertname": "TributaryWorkerDown", "severity": "critical"},
  "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093",
  "alerts": [{
    "status": "firing",
    "labels": {"alertname": "TributaryWorkerDown", "severity": "critical", "worker": "orders", "instance": "10.0.0.1:8080"},
    "annotations": {"summary": "orders has 0 of 2 healthy instances", "description": "for 5 minutes"},
    "startsAt": "2024-05-01T12:00:00.123Z", "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up", "fingerprint": "5f1a2b3c4d5e6f70"
  }, {
    "status": "resolved",
    "labels": {"alertname": "TributaryLagGrowing"},
    "annotations": {},
    "startsAt": "2024-05-01T11:00:00Z", "endsAt": "2024-05-01T11:30:00Z",
    "generatorURL": "", "fingerprint": "0123456789abcdef"
  }]
}`

func TestParse(t *testing.T) {
	var p Payload
	if err := json.Unmarshal([]byte(samplePayload), &p); err != nil {
		t.Fatal(err)
	}
	as, err := Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 {
		t.Fatalf("%d alerts, want 2", len(as))
	}
	a := as[0]
	if a.Name != "TributaryWorkerDown" || a.Severity != "critical" || a.Worker != "orders" || a.Status != StatusFiring ||
		a.Summary != "orders has 0 of 2 healthy instances" || a.Description != "for 5 minutes" || a.EndsAt != nil ||
		!a.StartsAt.Equal(time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC)) || a.Labels["instance"] != "10.0.0.1:8080" {
		t.Errorf("first alert %+v", a)
	}
	if b := as[1]; b.Worker != "" || b.Severity != "" || b.EndsAt == nil || !b.EndsAt.Equal(time.Date(2024, 5, 1, 11, 30, 0, 0, time.UTC)) ||
		b.Labels == nil || b.Annotations == nil {
		t.Errorf("second alert %+v", b)
	}

	// Each fault is named by its JSON path.
	tests := []struct {
		name, field string
		mutate      func(*Payload)
	}{
		{"version", "version", func(p *Payload) { p.Version = "3" }},
		{"group status", "status", func(p *Payload) { p.Status = "pending" }},
		{"no alerts", "alerts", func(p *Payload) { p.Alerts = nil }},
		{"alert status", "alerts[1].status", func(p *Payload) { p.Alerts[1].Status = "" }},
		{"fingerprint", "alerts[0].fingerprint", func(p *Payload) { p.Alerts[0].Fingerprint = "" }},
		{"long fingerprint", "alerts[0].fingerprint", func(p *Payload) { p.Alerts[0].Fingerprint = strings.Repeat("f", 65) }},
		{"alertname", "alerts[1].labels.alertname", func(p *Payload) { delete(p.Alerts[1].Labels, "alertname") }},
		{"severity", "alerts[0].labels.severity", func(p *Payload) { p.Alerts[0].Labels["severity"] = strings.Repeat("s", 65) }},
		{"worker", "alerts[0].labels.worker", func(p *Payload) { p.Alerts[0].Labels["worker"] = strings.Repeat("w", 256) }},
		{"startsAt", "alerts[0].startsAt", func(p *Payload) { p.Alerts[0].StartsAt = "yesterday" }},
		{"no startsAt", "alerts[0].startsAt", func(p *Payload) { p.Alerts[0].StartsAt = "" }},
		{"zero startsAt", "alerts[0].startsAt", func(p *Payload) { p.Alerts[0].StartsAt = "0001-01-01T00:00:00Z" }},
		{"endsAt", "alerts[1].endsAt", func(p *Payload) { p.Alerts[1].EndsAt = "2024-05-01" }},
		{"ancient endsAt", "alerts[1].endsAt", func(p *Payload) { p.Alerts[1].EndsAt = "0500-01-01T00:00:00Z" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Payload
			if err := json.Unmarshal([]byte(samplePayload), &p); err != nil {
				t.Fatal(err)
			}
			tt.mutate(&p)
			_, err := Parse(p)
			e, ok := err.(*apiserver.Error)
			if !ok || e.Code != apiserver.CodeBadRequest || e.Field != tt.field {
				t.Fatalf("error %v, want a bad request naming %s", err, tt.field)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	end := time.Date(2024, 5, 1, 12, 10, 0, 0, time.UTC)
	a := Alert{Name: "TributaryWorkerDown", Status: StatusResolved, Severity: "critical", Worker: "orders",
		Summary: "orders has 0 of 2 healthy instances", StartsAt: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), EndsAt: &end,
		GeneratorURL: "http://prom/graph"}
	got, _ := json.Marshal(message(a))
	want := `{"text":"[RESOLVED] TributaryWorkerDown on worker orders: orders has 0 of 2 healthy instances",` +
		`"attachments":[{"fallback":"[RESOLVED] TributaryWorkerDown on worker orders: orders has 0 of 2 healthy instances",` +
		`"color":"#2e7d32","title":"[RESOLVED] TributaryWorkerDown on worker orders","title_link":"http://prom/graph",` +
		`"text":"orders has 0 of 2 healthy instances","fields":[{"title":"Status","value":"resolved","short":true},` +
		`{"title":"Severity","value":"critical","short":true},{"title":"Worker","value":"orders","short":true},` +
		`{"title":"Started","value":"2024-05-01T12:00:00Z","short":true},{"title":"Ended","value":"2024-05-01T12:10:00Z","short":true}],` +
		`"footer":"Tributary","ts":1714565400}]}`
	if string(got) != want {
		t.Errorf("message\n got %s\nwant %s", got, want)
	}
	a.Status, a.EndsAt = StatusFiring, nil
	if m := message(a); m.Attachments[0].Color != colorCritical || len(m.Attachments[0].Fields) != 4 {
		t.Errorf("firing critical: %+v", m)
	}
}

// TestParseAlertmanagersPayload reads a notification the stack's
// Alertmanager (0.35) sent to a webhook, fields it added since version 4
// (notification_reason, routeLabels) included.
func TestParseAlertmanagersPayload(t *testing.T) {
	b, err := os.ReadFile("testdata/alertmanager-0.35.json")
	if err != nil {
		t.Fatal(err)
	}
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	as, err := Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].Name != "TributaryWorkerUnderReplicated" || as[0].Worker != "raw-data" ||
		as[0].Fingerprint != "0a9f1eb760e8af30" || as[0].EndsAt != nil || as[0].StartsAt.IsZero() {
		t.Errorf("alerts %+v", as)
	}
}

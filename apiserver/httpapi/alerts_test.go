package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/alerting"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

const amToken = "alertmanager-token-0123456789"

func withAlertmanagerToken(c *config.Config) { c.AlertmanagerToken = amToken }

// amPayload is Alertmanager's notification of one alert of worker.
func amPayload(worker, status, fingerprint string) string {
	end := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		end = "2024-05-01T12:10:00Z"
	}
	return fmt.Sprintf(`{"version":"4","groupKey":"{}:{}","truncatedAlerts":0,"status":%q,"receiver":"tributary",
	  "groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093",
	  "alerts":[{"status":%q,"labels":{"alertname":"TributaryWorkerDown","severity":"critical","worker":%q},
	    "annotations":{"summary":"no healthy instance","description":"for 5m"},"startsAt":"2024-05-01T12:00:00Z",
	    "endsAt":%q,"generatorURL":"http://127.0.0.1:9090/graph","fingerprint":%q}]}`, status, status, worker, end, fingerprint)
}

func TestAlertWebhookAuth(t *testing.T) {
	off := newEnv(t).withUsers()
	r := off.do("POST", "/api/v1/alerts/webhook", amToken, amPayload("w", "firing", "f1")).want(http.StatusServiceUnavailable)
	if !strings.Contains(r.errorOf().Message, "TRIBUTARY_ALERTMANAGER_TOKEN") {
		t.Errorf("unconfigured webhook: %s", r.body)
	}

	e := newEnv(t, withAlertmanagerToken).withUsers()
	body := amPayload("w", "firing", "f1")
	for who, tok := range map[string]string{"no token": "", "a wrong token": amToken + "x", "a user's token": e.tokens[apiserver.RoleAdmin]} {
		if r := e.do("POST", "/api/v1/alerts/webhook", tok, body); r.code != http.StatusUnauthorized {
			t.Errorf("%s: %d %s, want 401", who, r.code, r.body)
		}
	}
	// The token opens the webhook only.
	if r := e.do("GET", "/api/v1/alerts", amToken, ""); r.code != http.StatusUnauthorized {
		t.Errorf("the Alertmanager token on GET /alerts: %d, want 401", r.code)
	}
	for name, tt := range map[string]struct{ body, field string }{
		"bad time":     {strings.Replace(body, `"startsAt":"2024-05-01T12:00:00Z"`, `"startsAt":"noon"`, 1), "alerts[0].startsAt"},
		"no alertname": {strings.Replace(body, `"alertname":"TributaryWorkerDown",`, "", 1), "alerts[0].labels.alertname"},
		"wrong type":   {strings.Replace(body, `"labels":{`, `"labels":[],"x":{`, 1), "alerts.labels"},
		"not json":     {"{", ""},
	} {
		r := e.do("POST", "/api/v1/alerts/webhook", amToken, tt.body).want(http.StatusBadRequest)
		if got := r.errorOf(); got.Field != tt.field {
			t.Errorf("%s: field %q (%s), want %q", name, got.Field, got.Message, tt.field)
		}
	}
	var rc struct{ Received, Changed int }
	e.do("POST", "/api/v1/alerts/webhook", amToken, body).want(http.StatusOK).decode(&rc)
	if rc.Received != 1 || rc.Changed != 1 {
		t.Errorf("receipt %+v", rc)
	}
}

func TestAlertsListEventsAndMetrics(t *testing.T) {
	e := newEnv(t, withAlertmanagerToken).withUsers()
	name := stacktest.Name(t, "orders")
	id := mnWorker(e, name, []string{name + ".in"}, nil, "127.0.0.1:9092")
	viewer := e.tokens[apiserver.RoleViewer]

	e.do("POST", "/api/v1/alerts/webhook", amToken, amPayload(name, "firing", "f1")).want(http.StatusOK)
	e.do("POST", "/api/v1/alerts/webhook", amToken, amPayload("someone-else", "firing", "f2")).want(http.StatusOK)

	var got struct {
		Alerts []map[string]any `json:"alerts"`
	}
	e.do("GET", "/api/v1/alerts?state=firing&worker="+name, viewer, "").want(http.StatusOK).decode(&got)
	if len(got.Alerts) != 1 {
		t.Fatalf("firing alerts of %s: %+v", name, got.Alerts)
	}
	a := got.Alerts[0]
	if _, ok := a["id"].(float64); !ok || a["ends_at"] != nil || a["updated_at"] == "" {
		t.Errorf("alert %+v: want a numeric id, a null ends_at and updated_at", a)
	}
	delete(a, "id")
	delete(a, "updated_at")
	want := `{"annotations":{"description":"for 5m","summary":"no healthy instance"},"description":"for 5m","ends_at":null,` +
		`"fingerprint":"f1","generator_url":"http://127.0.0.1:9090/graph","labels":{"alertname":"TributaryWorkerDown",` +
		`"severity":"critical","worker":"` + name + `"},"name":"TributaryWorkerDown","severity":"critical",` +
		`"starts_at":"2024-05-01T12:00:00Z","status":"firing","summary":"no healthy instance","worker":"` + name + `"}`
	if b, _ := json.Marshal(a); string(b) != want {
		t.Errorf("alert\n got %s\nwant %s", b, want)
	}
	e.do("GET", "/api/v1/alerts", viewer, "").want(http.StatusOK).decode(&got)
	if len(got.Alerts) != 2 {
		t.Errorf("all alerts: %d, want 2", len(got.Alerts))
	}

	// The firing alert is in the worker's event log, the other worker's
	// (unknown here) in none.
	var es []events.Event
	e.do("GET", fmt.Sprintf("/api/v1/events?worker_id=%d", id), viewer, "").want(http.StatusOK).decode(&es)
	if len(es) != 1 || es[0].Action != "alert_firing" || es[0].Actor != "alertmanager" {
		t.Errorf("events of the worker: %+v", es)
	}
	metrics := string(e.do("GET", "/metrics", "", "").want(http.StatusOK).body)
	if !strings.Contains(metrics, `tributary_alerts_firing{alertname="TributaryWorkerDown"} 2`) {
		t.Errorf("/metrics lacks the firing count:\n%s", grepLines(metrics, "tributary_alerts"))
	}

	e.do("POST", "/api/v1/alerts/webhook", amToken, amPayload(name, "resolved", "f1")).want(http.StatusOK)
	e.do("GET", "/api/v1/alerts?state=resolved", viewer, "").want(http.StatusOK).decode(&got)
	if len(got.Alerts) != 1 || got.Alerts[0]["ends_at"] != "2024-05-01T12:10:00Z" {
		t.Errorf("resolved: %+v", got.Alerts)
	}
	e.do("GET", fmt.Sprintf("/api/v1/events?worker_id=%d", id), viewer, "").want(http.StatusOK).decode(&es)
	if len(es) != 2 || es[0].Action != "alert_resolved" {
		t.Errorf("events after resolving: %+v", es)
	}
	e.do("GET", "/api/v1/alerts?limit=1", viewer, "").want(http.StatusOK).decode(&got)
	if len(got.Alerts) != 1 {
		t.Errorf("limit=1: %d alerts", len(got.Alerts))
	}
	for q, field := range map[string]string{"state=pending": "state", "limit=0": "limit", "limit=1001": "limit", "limit=x": "limit"} {
		if r := e.do("GET", "/api/v1/alerts?"+q, viewer, "").want(http.StatusBadRequest); r.errorOf().Field != field {
			t.Errorf("%s: %s, want the field %s", q, r.body, field)
		}
	}
}

// TestAlertForwardedFromTheWebhook: an alert Alertmanager sends reaches
// the chat webhook, a real HTTP server, with Slack's message shape.
func TestAlertForwardedFromTheWebhook(t *testing.T) {
	bodies := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	defer hook.Close()
	fwd := alerting.NewForwarder(hook.URL+"/hooks/secret", alerting.ForwarderOptions{Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	go fwd.Run(t.Context())
	e := newEnvOpts(t, []Option{WithAlertForwarder(fwd)}, withAlertmanagerToken)
	e.do("POST", "/api/v1/alerts/webhook", amToken, amPayload("w", "firing", "f1")).want(http.StatusOK)
	var body []byte
	select {
	case body = <-bodies:
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reached the chat webhook in 10 s")
	}
	var m struct {
		Text        string `json:"text"`
		Attachments []struct {
			Color, Title, Text string
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Text != "[FIRING] TributaryWorkerDown on worker w: no healthy instance" || len(m.Attachments) != 1 ||
		m.Attachments[0].Text != "for 5m" || m.Attachments[0].Color == "" {
		t.Errorf("message %+v", m)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

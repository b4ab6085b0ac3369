package alerting_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tributary-etl/tributary/apiserver/alerting"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

func newDB(t *testing.T) *sql.DB {
	t.Helper()
	sqldb, _ := stacktest.MySQL(t)
	if _, err := mysql.New(sqldb).Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sqldb
}

var quiet = slog.New(slog.NewJSONHandler(io.Discard, nil))

func alert(fp, status string, start time.Time) alerting.Alert {
	return alerting.Alert{Fingerprint: fp, Status: status, Name: "TributaryLagGrowing", Severity: "warning", Worker: "orders",
		Summary: "lag grows", Labels: map[string]string{"alertname": "TributaryLagGrowing", "worker": "orders"},
		Annotations: map[string]string{"summary": "lag grows"}, StartsAt: start}
}

func TestUpsertListPrune(t *testing.T) {
	ctx := context.Background()
	st := alerting.NewStore(newDB(t))
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		name          string
		a             alerting.Alert
		changed       bool
		prev          string
		firing, total int
	}{
		{"new firing", alert("aa", alerting.StatusFiring, t0), true, "", 1, 1},
		{"sent again", alert("aa", alerting.StatusFiring, t0), false, "", 1, 1},
		{"resolved", alert("aa", alerting.StatusResolved, t0), true, alerting.StatusFiring, 0, 1},
		{"resolved again", alert("aa", alerting.StatusResolved, t0), false, "", 0, 1},
		{"fires again later", alert("aa", alerting.StatusFiring, t0.Add(time.Hour)), true, "", 1, 2},
		{"another alert", alert("bb", alerting.StatusFiring, t0.Add(2*time.Hour)), true, "", 2, 3},
	}
	for _, s := range steps {
		changed, prev, err := st.Upsert(ctx, s.a)
		if err != nil {
			t.Fatal(err)
		}
		if changed != s.changed || prev != s.prev {
			t.Errorf("%s: changed %v prev %q, want %v %q", s.name, changed, prev, s.changed, s.prev)
		}
		firing, _ := st.List(ctx, alerting.Filter{State: alerting.StatusFiring})
		all, _ := st.List(ctx, alerting.Filter{})
		if len(firing) != s.firing || len(all) != s.total {
			t.Errorf("%s: %d firing of %d, want %d of %d", s.name, len(firing), len(all), s.firing, s.total)
		}
	}
	all, err := st.List(ctx, alerting.Filter{State: alerting.StateAll})
	if err != nil {
		t.Fatal(err)
	}
	if all[0].Fingerprint != "bb" || !all[2].StartsAt.Equal(t0) || all[2].Status != alerting.StatusResolved ||
		all[0].Labels["worker"] != "orders" || all[0].Annotations["summary"] != "lag grows" || all[0].UpdatedAt.IsZero() {
		t.Errorf("newest first: %+v", all)
	}
	if got, _ := st.List(ctx, alerting.Filter{Worker: "other"}); len(got) != 0 {
		t.Errorf("worker filter: %+v", got)
	}
	if got, _ := st.List(ctx, alerting.Filter{Limit: 1}); len(got) != 1 || got[0].Fingerprint != "bb" {
		t.Errorf("limit 1: %+v", got)
	}
	counts, err := st.FiringByName(ctx)
	if err != nil || counts["TributaryLagGrowing"] != 2 {
		t.Errorf("firing by name %v, %v", counts, err)
	}

	// Pruning with a zero age keeps nothing updated before now; a long
	// one keeps everything.
	if n, err := st.Prune(ctx, time.Hour); err != nil || n != 0 {
		t.Errorf("prune 1h: %d, %v; want nothing (all were just updated)", n, err)
	}
	if n, err := st.Prune(ctx, -time.Second); err != nil || n != 3 {
		t.Errorf("prune everything: %d, %v; want 3", n, err)
	}
}

// TestPruneKeepsRecentAndFiring checks which rows a prune deletes, with
// the rows' times set directly.
func TestPruneKeepsRecentAndFiring(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	st := alerting.NewStore(db)
	now := time.Now().UTC()
	for _, fp := range []string{"old-resolved", "new-resolved", "old-firing", "new-firing"} {
		status := alerting.StatusFiring
		if strings.HasSuffix(fp, "resolved") {
			status = alerting.StatusResolved
		}
		if _, _, err := st.Upsert(ctx, alert(fp, status, now.Add(-30*24*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	age := func(fp string, d time.Duration) {
		if _, err := db.Exec("UPDATE alerts SET updated_at = ?, ends_at = IF(status = 'resolved', ?, NULL) WHERE fingerprint = ?",
			now.Add(-d), now.Add(-d), fp); err != nil {
			t.Fatal(err)
		}
	}
	age("old-resolved", 8*24*time.Hour)
	age("new-resolved", time.Hour)
	age("old-firing", 8*24*time.Hour)
	age("new-firing", time.Hour)
	if n, err := st.Prune(ctx, alerting.DefaultRetention); err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want 2", n, err)
	}
	left, _ := st.List(ctx, alerting.Filter{})
	var fps []string
	for _, a := range left {
		fps = append(fps, a.Fingerprint)
	}
	if len(fps) != 2 || !strings.Contains(strings.Join(fps, ","), "new-resolved") || !strings.Contains(strings.Join(fps, ","), "new-firing") {
		t.Errorf("left %v, want the two recent ones", fps)
	}
}

// hook is a chat webhook: a real HTTP server that answers the statuses
// given, in turn (then 200), and keeps every body it got.
type hook struct {
	mu       sync.Mutex
	statuses []int
	bodies   []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bodies = append(h.bodies, string(b))
	if len(h.statuses) > 0 {
		w.WriteHeader(h.statuses[0])
		h.statuses = h.statuses[1:]
	}
}

func (h *hook) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

// eventually polls cond every 20 ms until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

func TestReceiverRecordsAndForwards(t *testing.T) {
	ctx := t.Context()
	db := newDB(t)
	ev := events.New(db)
	h := &hook{statuses: []int{http.StatusInternalServerError}} // the first attempt fails, the retry succeeds
	srv := httptest.NewServer(h)
	defer srv.Close()
	fwd := alerting.NewForwarder(srv.URL+"/hooks/secret-token", alerting.ForwarderOptions{Events: ev, Log: quiet, Backoff: 10 * time.Millisecond})
	go fwd.Run(ctx)
	workers := func(_ context.Context, name string) (int64, bool, error) { return 42, name == "orders", nil }
	r := alerting.NewReceiver(alerting.NewStore(db), ev, workers, fwd, quiet)

	var p alerting.Payload
	body := `{"version":"4","status":"firing","receiver":"tributary","alerts":[
	  {"status":"firing","labels":{"alertname":"TributaryWorkerDown","severity":"critical","worker":"orders"},
	   "annotations":{"summary":"orders has 0 of 2 healthy instances"},"startsAt":"2024-05-01T12:00:00Z",
	   "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom/graph","fingerprint":"f1"},
	  {"status":"firing","labels":{"alertname":"TributaryDown","worker":"unknown"},"annotations":{},
	   "startsAt":"2024-05-01T12:00:00Z","fingerprint":"f2"}]}`
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	res, err := r.Receive(ctx, p)
	if err != nil || res.Received != 2 || res.Changed != 2 {
		t.Fatalf("receive: %+v, %v", res, err)
	}
	// Alertmanager retries the same payload: nothing changes.
	if res, err := r.Receive(ctx, p); err != nil || res.Changed != 0 {
		t.Fatalf("receive again: %+v, %v", res, err)
	}
	// 2 alerts, the first tried twice.
	eventually(t, "three posts", func() bool { return len(h.got()) == 3 })
	got := h.got()
	var m struct {
		Text        string `json:"text"`
		Attachments []struct {
			Color, Title, Text string
			Fields             []struct {
				Title, Value string
				Short        bool
			}
		} `json:"attachments"`
	}
	if err := json.Unmarshal([]byte(got[1]), &m); err != nil {
		t.Fatal(err)
	}
	if got[0] != got[1] || m.Text != "[FIRING] TributaryWorkerDown on worker orders: orders has 0 of 2 healthy instances" ||
		len(m.Attachments) != 1 || m.Attachments[0].Color != "#d32f2f" || m.Attachments[0].Fields[2].Value != "orders" {
		t.Errorf("retried body %s, first %s", got[1], got[0])
	}
	if !strings.Contains(got[2], `"text":"[FIRING] TributaryDown on worker unknown"`) {
		t.Errorf("second alert's body %s", got[2])
	}

	// Only the known worker's alert is in the event log.
	es, err := ev.List(ctx, events.Filter{Action: alerting.ActionAlertFiring})
	if err != nil || len(es) != 1 || es[0].WorkerID != 42 || es[0].Actor != alerting.ActorAlertmanager ||
		es[0].Reason != "TributaryWorkerDown: orders has 0 of 2 healthy instances" {
		t.Fatalf("firing events %+v, %v", es, err)
	}

	// Resolving it records the transition from firing.
	p.Alerts = p.Alerts[:1]
	p.Alerts[0].Status, p.Alerts[0].EndsAt = alerting.StatusResolved, "2024-05-01T12:10:00Z"
	if res, err := r.Receive(ctx, p); err != nil || res.Changed != 1 {
		t.Fatalf("resolve: %+v, %v", res, err)
	}
	es, _ = ev.List(ctx, events.Filter{Action: alerting.ActionAlertResolved})
	if len(es) != 1 || string(es[0].From) != `{"status":"firing"}` {
		t.Fatalf("resolved events %+v", es)
	}
	eventually(t, "the resolved post", func() bool { return len(h.got()) == 4 })
	if !strings.Contains(h.got()[3], `"text":"[RESOLVED] TributaryWorkerDown`) {
		t.Errorf("resolved body %s", h.got()[3])
	}
}

func TestForwardFailureIsAnEventWithoutTheURL(t *testing.T) {
	ctx := t.Context()
	db := newDB(t)
	ev := events.New(db)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "invalid_token", http.StatusForbidden)
	}))
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // nothing listens there any more
	for _, tt := range []struct{ name, url, cause string }{
		{"refused", srv.URL + "/hooks/secret-token", "403 Forbidden: invalid_token"},
		{"unreachable", dead.URL + "/hooks/secret-token", "connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fwd := alerting.NewForwarder(tt.url, alerting.ForwarderOptions{Events: ev, Log: quiet, Backoff: time.Millisecond})
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go fwd.Run(ctx)
			a := alert("f-"+tt.name, alerting.StatusFiring, time.Now())
			fwd.Enqueue(ctx, a, 7)
			var es []events.Event
			eventually(t, "the failure event", func() bool {
				es, _ = ev.List(ctx, events.Filter{WorkerID: 7, Action: alerting.ActionForwardFailed})
				return len(es) > 0 && strings.Contains(string(es[0].To), a.Fingerprint)
			})
			if !strings.Contains(es[0].Reason, tt.cause) || strings.Contains(es[0].Reason, "secret-token") {
				t.Errorf("reason %q: want the cause %q and not the URL", es[0].Reason, tt.cause)
			}
		})
	}
	srv.Close()
}

func TestFiringCollector(t *testing.T) {
	ctx := context.Background()
	st := alerting.NewStore(newDB(t))
	for _, fp := range []string{"a", "b"} {
		if _, _, err := st.Upsert(ctx, alert(fp, alerting.StatusFiring, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(alerting.NewFiringCollector(st, quiet))
	want := `# HELP tributary_alerts_firing Alerts Alertmanager reported firing and not yet resolved, by alertname.
# TYPE tributary_alerts_firing gauge
tributary_alerts_firing{alertname="TributaryLagGrowing"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tributary_alerts_firing"); err != nil {
		t.Error(err)
	}
}

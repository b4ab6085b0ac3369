package series

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		metric, rng, step string
		wantRange         time.Duration
		wantStep          time.Duration
		wantField         string
	}{
		{"lag", "", "", time.Hour, 30 * time.Second, ""},
		{"rate", "7d", "", 7 * 24 * time.Hour, 5040 * time.Second, ""},
		{"rate", "1m", "", time.Minute, 5 * time.Second, ""}, // range/120 is below the least step
		{"expired", "3601", "", 3601 * time.Second, 31 * time.Second, ""},
		{"dead_letters", "90m", "1m", 90 * time.Minute, time.Minute, ""},
		{"latency_p99", "7d", "55s", 7 * 24 * time.Hour, 55 * time.Second, ""}, // 10996 points
		{"latency_p99", "7d", "54s", 0, 0, "step"},                             // 11200 points
		{"lag", "1h", "4s", 0, 0, "step"},
		{"lag", "1h", "1.5s", 0, 0, "step"},
		{"lag", "1h", "2h", 0, 0, "step"},
		{"lag", "1h", "soon", 0, 0, "step"},
		{"lag", "8d", "", 0, 0, "range"},
		{"lag", "30s", "", 0, 0, "range"},
		{"lag", "-1h", "", 0, 0, "range"},
		{"lag", "a while", "", 0, 0, "range"},
		{"", "", "", 0, 0, "metric"},
		{"throughput", "", "", 0, 0, "metric"},
	}
	for _, tt := range tests {
		t.Run(tt.metric+"/"+tt.rng+"/"+tt.step, func(t *testing.T) {
			r, err := ParseRequest("w", tt.metric, tt.rng, tt.step)
			if tt.wantField != "" {
				e, ok := errors.AsType[*apiserver.Error](err)
				if !ok || e.Code != apiserver.CodeBadRequest || e.Field != tt.wantField {
					t.Fatalf("error %v, want a bad request naming %s", err, tt.wantField)
				}
				return
			}
			if err != nil || r.Range != tt.wantRange || r.Step != tt.wantStep {
				t.Fatalf("range %s step %s (%v), want %s %s", r.Range, r.Step, err, tt.wantRange, tt.wantStep)
			}
			if points := r.Range / r.Step; points > MaxPoints {
				t.Errorf("%d points", points)
			}
		})
	}
}

func TestQuery(t *testing.T) {
	tests := []struct {
		metric Metric
		step   time.Duration
		want   string
	}{
		{MetricLag, 30 * time.Second, `sum by (worker) (max by (worker, topic, partition) (tributary_consumer_lag{worker="orders"}))`},
		{MetricRate, 5 * time.Second, `label_replace(sum(rate(tributary_consumed_total{worker="orders"}[60s])), "direction", "in", "", "")` +
			` or label_replace(sum(rate(tributary_emitted_total{worker="orders"}[60s])), "direction", "out", "", "")`},
		{MetricDeadLetters, 30 * time.Second, `sum(rate(tributary_dead_lettered_total{worker="orders"}[120s]))`},
		{MetricExpired, 5040 * time.Second, `sum(rate(tributary_expired_total{worker="orders"}[20160s]))`},
		{MetricLatencyP99, 30 * time.Second, `histogram_quantile(0.99, sum by (le) (rate(tributary_latency_seconds_bucket{worker="orders"}[300s])))`},
	}
	for _, tt := range tests {
		r := Request{Worker: "orders", Metric: tt.metric, Range: time.Hour, Step: tt.step}
		if got := r.Query(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.metric, got, tt.want)
		}
	}
	// A name cannot leave its string: quotes and backslashes are escaped.
	r := Request{Worker: `x"} or up{a="\`, Metric: MetricLag, Step: MinStep}
	if want := `sum by (worker) (max by (worker, topic, partition) (tributary_consumer_lag{worker="x\"} or up{a=\"\\"}))`; r.Query() != want {
		t.Errorf("escaped:\n got %s\nwant %s", r.Query(), want)
	}
}

// prometheus returns a client of the stack's Prometheus
// (TRIBUTARY_PROMETHEUS_URL), skipping the test when there is none (failing
// it under CI=true).
func prometheus(t *testing.T) *Client {
	t.Helper()
	u := os.Getenv("TRIBUTARY_PROMETHEUS_URL")
	if u == "" {
		stacktest.Unavailable(t, "Prometheus", errors.New("TRIBUTARY_PROMETHEUS_URL is not set"))
	}
	c, err := New(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.api.Buildinfo(t.Context()); err != nil {
		stacktest.Unavailable(t, "Prometheus at "+u, err)
	}
	return c
}

// TestAgainstPrometheus runs every query on the real Prometheus: a series
// that always exists comes back through the same code path, and each
// metric's PromQL is accepted (Prometheus refuses a bad query with 400).
func TestAgainstPrometheus(t *testing.T) {
	c := prometheus(t)
	ctx := t.Context()
	now := time.Now()
	deadline := now.Add(2 * time.Minute)
	for {
		up, err := c.rangeQuery(ctx, "up", v1.Range{Start: time.Now().Add(-5 * time.Minute), End: time.Now(), Step: 15 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if len(up) > 0 && len(up[0].Points) > 0 {
			if p := up[0].Points[0]; p[0] < float64(now.Add(-6*time.Minute).Unix()) || (p[1] != 0 && p[1] != 1) {
				t.Errorf("up's first point %v", p)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Prometheus has no up series after 2 minutes: is it scraping anything?")
		}
		time.Sleep(time.Second) // Prometheus' first scrape, bounded by the deadline
	}
	for _, m := range Metrics {
		r, err := ParseRequest(stacktest.Name(t, "absent"), string(m), "15m", "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Range(ctx, r, now)
		if err != nil {
			t.Fatalf("%s: %v (query %s)", m, err, r.Query())
		}
		if len(res.Series) != 0 || res.StepSeconds != int64(r.Step/time.Second) || res.Query != r.Query() || res.Unit == "" {
			t.Errorf("%s of a worker that never ran: %+v", m, res)
		}
	}
	if rates, err := c.Rates(ctx, stacktest.Name(t, "absent"), now); err != nil || rates.Found {
		t.Errorf("rates of a worker that never ran: %+v, %v", rates, err)
	}
	all, err := c.AllRates(ctx, now)
	if err != nil {
		t.Fatalf("AllRates: %v", err)
	}
	if _, ok := all[stacktest.Name(t, "absent")]; ok {
		t.Errorf("AllRates lists a worker that never ran: %v", all)
	}
}

func TestUnavailable(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"status":"error","errorType":"internal","error":"disk full"}`, http.StatusInternalServerError)
	}))
	defer failing.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	for name, u := range map[string]string{"timeout": slow.URL, "5xx": failing.URL, "refused": gone.URL} {
		t.Run(name, func(t *testing.T) {
			c, err := New(u)
			if err != nil {
				t.Fatal(err)
			}
			c.timeout = 200 * time.Millisecond
			r := Request{Worker: "w", Metric: MetricLag, Range: time.Hour, Step: time.Minute}
			if _, err := c.Range(context.Background(), r, time.Now()); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Range: %v, want ErrUnavailable", err)
			}
			if _, err := c.Rates(context.Background(), "w", time.Now()); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Rates: %v, want ErrUnavailable", err)
			}
			if _, err := c.AllRates(context.Background(), time.Now()); !errors.Is(err, ErrUnavailable) {
				t.Errorf("AllRates: %v, want ErrUnavailable", err)
			}
		})
	}
}

// TestAllRatesByWorker reads Prometheus' answer to the one query of every
// worker's rates: in and out per worker label, NaN left out.
func TestAllRatesByWorker(t *testing.T) {
	var query string
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		query = r.Form.Get("query")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[
			{"metric":{"worker":"a","direction":"in"},"value":[1,"2.5"]},
			{"metric":{"worker":"a","direction":"out"},"value":[1,"2"]},
			{"metric":{"worker":"b","direction":"out"},"value":[1,"NaN"]},
			{"metric":{"worker":"c","direction":"in"},"value":[1,"0"]}]}}`)
	}))
	defer prom.Close()
	c, err := New(prom.URL)
	if err != nil {
		t.Fatal(err)
	}
	all, err := c.AllRates(t.Context(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(query, "sum by (worker) (rate(tributary_consumed_total[60s]))") {
		t.Errorf("query %s", query)
	}
	if a := all["a"]; a.In != 2.5 || a.Out != 2 || !a.Found {
		t.Errorf("a: %+v", a)
	}
	if _, ok := all["b"]; ok {
		t.Errorf("b has only NaN, yet listed: %+v", all["b"])
	}
	if c := all["c"]; !c.Found || c.In != 0 {
		t.Errorf("c: %+v", c)
	}
}

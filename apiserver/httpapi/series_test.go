package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/series"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestSeriesWithoutPrometheus(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // nothing listens there any more
	dead, err := series.New(gone.URL)
	if err != nil {
		t.Fatal(err)
	}
	off := newEnv(t).withUsers()
	down := newEnvOpts(t, []Option{WithPrometheus(dead)}).withUsers()
	for _, e := range []*env{off, down} {
		id := mnWorker(e, stacktest.Name(t, "w"), []string{"in"}, nil, "127.0.0.1:9092")
		path := fmt.Sprintf("/api/v1/workers/%d/series", id)
		viewer := e.tokens[apiserver.RoleViewer]
		for q, field := range map[string]string{"": "metric", "?metric=throughput": "metric",
			"?metric=lag&range=30d": "range", "?metric=lag&range=7d&step=5s": "step"} {
			if r := e.do("GET", path+q, viewer, "").want(http.StatusBadRequest); r.errorOf().Field != field {
				t.Errorf("%s: %s, want the field %s", q, r.body, field)
			}
		}
		e.do("GET", "/api/v1/workers/999999/series?metric=lag", viewer, "").want(http.StatusNotFound)
		msg := e.do("GET", path+"?metric=lag", viewer, "").want(http.StatusServiceUnavailable).errorOf().Message
		if e == off && !strings.Contains(msg, "TRIBUTARY_PROMETHEUS_URL") {
			t.Errorf("not configured: %q should name TRIBUTARY_PROMETHEUS_URL", msg)
		}
		if e == down && !strings.HasPrefix(msg, "Prometheus did not answer") {
			t.Errorf("unreachable: %q", msg)
		}
	}
}

// TestSeriesFromPrometheus asks the stack's Prometheus
// (TRIBUTARY_PROMETHEUS_URL) for every series of a worker that never ran:
// each query is accepted, and the answer has its documented shape.
func TestSeriesFromPrometheus(t *testing.T) {
	u := os.Getenv("TRIBUTARY_PROMETHEUS_URL")
	if u == "" {
		stacktest.Unavailable(t, "Prometheus", errors.New("TRIBUTARY_PROMETHEUS_URL is not set"))
	}
	pc, err := series.New(u)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOpts(t, []Option{WithPrometheus(pc)}).withUsers()
	name := stacktest.Name(t, "w")
	id := mnWorker(e, name, []string{"in"}, nil, "127.0.0.1:9092")
	for _, m := range series.Metrics {
		var got struct {
			Worker       string `json:"worker"`
			Metric       string `json:"metric"`
			Unit         string `json:"unit"`
			RangeSeconds int64  `json:"range_seconds"`
			StepSeconds  int64  `json:"step_seconds"`
			Query        string `json:"query"`
			Series       []any  `json:"series"`
		}
		r := e.do("GET", fmt.Sprintf("/api/v1/workers/%d/series?metric=%s&range=2h", id, m), e.tokens[apiserver.RoleViewer], "")
		if r.code == http.StatusServiceUnavailable {
			stacktest.Unavailable(t, "Prometheus at "+u, errors.New(string(r.body)))
		}
		r.want(http.StatusOK).decode(&got)
		if got.Worker != name || got.Metric != string(m) || got.Unit == "" || got.RangeSeconds != 7200 || got.StepSeconds != 60 ||
			!strings.Contains(got.Query, `{worker="`+name+`"}`) || got.Series == nil || len(got.Series) != 0 {
			t.Errorf("%s: %s", m, r.body)
		}
	}
}

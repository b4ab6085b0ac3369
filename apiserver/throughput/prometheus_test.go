package throughput

import (
	"errors"
	"os"
	"testing"

	"github.com/tributary-etl/tributary/apiserver/series"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestPrometheusReader asks the stack's Prometheus (TRIBUTARY_PROMETHEUS_URL)
// about a worker it never scraped: zeros over the rate window, and a
// warning saying why.
func TestPrometheusReader(t *testing.T) {
	u := os.Getenv("TRIBUTARY_PROMETHEUS_URL")
	if u == "" {
		stacktest.Unavailable(t, "Prometheus", errors.New("TRIBUTARY_PROMETHEUS_URL is not set"))
	}
	c, err := series.New(u)
	if err != nil {
		t.Fatal(err)
	}
	tg := Target{Worker: stacktest.Name(t, "absent"), Inputs: []string{"a", "b"}}
	tp, err := FromPrometheus(c).Throughput(t.Context(), tg)
	if errors.Is(err, series.ErrUnavailable) {
		stacktest.Unavailable(t, "Prometheus at "+u, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if tp.Source != SourcePrometheus || tp.WindowSeconds != series.RateWindow.Seconds() || tp.InPerSec != 0 ||
		len(tp.Warnings) != 1 || tp.InPerSecByTopic == nil {
		t.Errorf("throughput of a worker never scraped: %+v", tp)
	}
}

// TestAllFromEitherReader answers many workers through the one query of
// Prometheus, or one in-memory call each of the sampler.
func TestAllFromEitherReader(t *testing.T) {
	ts := []Target{{Worker: stacktest.Name(t, "a")}, {Worker: stacktest.Name(t, "b")}}
	sampled, err := All(t.Context(), NewSampler(SamplerOptions{}), ts)
	if err != nil || len(sampled) != 2 || sampled[ts[0].Worker].Source != SourceSampler {
		t.Errorf("All from the sampler: %+v, %v", sampled, err)
	}
	u := os.Getenv("TRIBUTARY_PROMETHEUS_URL")
	if u == "" {
		stacktest.Unavailable(t, "Prometheus", errors.New("TRIBUTARY_PROMETHEUS_URL is not set"))
	}
	c, err := series.New(u)
	if err != nil {
		t.Fatal(err)
	}
	all, err := All(t.Context(), FromPrometheus(c), ts)
	if errors.Is(err, series.ErrUnavailable) {
		stacktest.Unavailable(t, "Prometheus at "+u, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if tp := all[ts[1].Worker]; len(all) != 2 || tp.Source != SourcePrometheus || tp.InPerSec != 0 || len(tp.Warnings) != 1 {
		t.Errorf("All from Prometheus, of workers never scraped: %+v", all)
	}
}

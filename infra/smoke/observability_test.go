package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/apiserver/alerting"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/httpapi"
	"github.com/tributary-etl/tributary/apiserver/instances"
	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// This file checks that infra/grafana/tributary.json and
// docs/observability.md name only series the binaries really export: the
// runtime's, read from a running worker's /metrics, and the API server's,
// read from its /metrics handler. It lives here, beside the other checks
// of the stack's own files, because only a module that imports both the
// runtime and the API server can read both registries.

// targetLabels are added by Prometheus' scrape (job, instance) and the
// relabeling of the Nomad service's tags (worker, function, version, alloc).
var targetLabels = []string{"job", "instance", "worker", "function", "version", "alloc"}

// family is one metric family: its type and its label names (sorted; le
// and quantile are not counted).
type family struct {
	typ    string
	labels []string
}

// collectorFamilies are the API server's families that have samples only
// while it has data: desired and healthy instances per running worker
// (apiserver/instances), firing alerts per name (apiserver/alerting). A
// server without a database exports none of their samples, so their
// names and labels are read from the collectors' own descriptions. Both
// collectors write gauges only.
func collectorFamilies(t *testing.T) map[string]family {
	t.Helper()
	ch := make(chan *prometheus.Desc, 16)
	instances.New(nil, nil, nil).Describe(ch)
	alerting.NewFiringCollector(nil, nil).Describe(ch)
	close(ch)
	desc := regexp.MustCompile(`^Desc\{fqName: "([^"]+)", .*variableLabels: \{([^}]*)\}\}$`)
	out := map[string]family{}
	for d := range ch {
		m := desc.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the description %s", d)
		}
		var labels []string
		if m[2] != "" {
			labels = strings.Split(m[2], ",")
		}
		out[m[1]] = family{"gauge", labels}
	}
	return out
}

// prometheusFamilies are the series Prometheus writes for every target.
var prometheusFamilies = map[string]family{"up": {"gauge", nil}}

// catalog is what may be queried.
type catalog struct {
	families map[string]family          // by family name
	series   map[string]map[string]bool // by series name (h_bucket, h_sum, …): its labels
}

func (c *catalog) add(name string, f family) {
	if old, ok := c.families[name]; ok { // go_* of both binaries
		f.labels = slices.Compact(slices.Sorted(slices.Values(append(old.labels, f.labels...))))
	}
	c.families[name] = f
	with := func(series string, extra ...string) {
		if c.series[series] == nil {
			c.series[series] = map[string]bool{}
		}
		for _, l := range append(slices.Clone(f.labels), extra...) {
			c.series[series][l] = true
		}
	}
	switch f.typ {
	case "histogram":
		with(name+"_bucket", "le")
		with(name + "_sum")
		with(name + "_count")
	case "summary":
		with(name, "quantile")
		with(name + "_sum")
		with(name + "_count")
	default:
		with(name)
	}
}

// parseExposition reads the families of a Prometheus text exposition.
func parseExposition(t *testing.T, text string) map[string]family {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]family{}
	for name, mf := range mfs {
		labels := map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		typ := strings.ToLower(mf.GetType().String())
		if mf.GetType() == dto.MetricType_UNTYPED {
			typ = "untyped"
		}
		out[name] = family{typ, slices.Sorted(maps.Keys(labels))}
	}
	return out
}

func get(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if path == "/metrics" && rec.Code != 200 {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// workerMetrics runs a single-input worker on a private in-process broker
// until one record went through and the lag has been read, then returns its
// /metrics. Families with labels (lag, dead letters) show only once they
// have a series, hence the running worker.
func workerMetrics(t *testing.T) string {
	t.Helper()
	brokers := stacktest.Kfake(t, 1)
	cfg := worker.Config{ConsumerName: "observability", TopicsInput: []string{"obs.in"}, TopicsOutput: []string{"obs.out"},
		Brokers: brokers, FetchWait: 100 * time.Millisecond, SessionTimeout: 6 * time.Second, Instance: "obs-1"}
	identity := worker.Function{Process: func(_ context.Context, in worker.Input) ([]worker.Record, error) {
		return []worker.Record{{Value: in.Value}}, nil
	}}
	w, err := worker.New(cfg, identity, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	kw := &kafka.Writer{Addr: kafka.TCP(brokers...), RequiredAcks: kafka.RequireAll, AllowAutoTopicCreation: true,
		BatchTimeout: time.Millisecond}
	defer kw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kw.WriteMessages(ctx, kafka.Message{Topic: "obs.in", Value: []byte(`{"id":"1"}`)}); err != nil {
		t.Fatalf("produce: %v", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	h := w.Handler()
	deadline := time.Now().Add(30 * time.Second)
	for {
		text := get(t, h, "/metrics")
		if strings.Contains(text, "tributary_consumer_lag{") &&
			strings.Contains(text, `tributary_latency_seconds_count{worker="observability"} 1`) {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s the worker's /metrics still lacks the lag or one observed latency:\n%s", text)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

// apiMetrics is the API server's /metrics after one request, so that its
// request families have a series.
func apiMetrics(t *testing.T) string {
	t.Helper()
	s := httpapi.New(config.Config{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h := s.Handler()
	get(t, h, "/healthz")
	return get(t, h, "/metrics")
}

// exported builds the catalog: the worker's and the API server's families,
// those of collectors that need data, and Prometheus' own.
func exported(t *testing.T) *catalog {
	c := &catalog{families: map[string]family{}, series: map[string]map[string]bool{}}
	own := map[string]family{}
	for _, text := range []string{workerMetrics(t), apiMetrics(t)} {
		for name, f := range parseExposition(t, text) {
			own[name] = f
			c.add(name, f)
		}
	}
	for name, f := range collectorFamilies(t) {
		if _, ok := own[name]; ok {
			t.Errorf("%s has samples on a server without data: read it from /metrics, not from collectorFamilies", name)
		}
		c.add(name, f)
	}
	for name, f := range prometheusFamilies {
		c.add(name, f)
	}
	return c
}

// check reports every name of r that c does not have.
func (c *catalog) check(r refs) []string {
	var errs []string
	allowed := func(l string, labels map[string]bool) bool {
		return labels[l] || slices.Contains(targetLabels, l) || l == "le" || l == "__name__"
	}
	all := map[string]bool{}
	for _, s := range r.selectors {
		labels, ok := c.series[s.metric]
		if !ok {
			errs = append(errs, fmt.Sprintf("no series %s", s.metric))
			continue
		}
		maps.Copy(all, labels)
		for _, l := range s.labels {
			if !allowed(l, labels) {
				errs = append(errs, fmt.Sprintf("%s has no label %s", s.metric, l))
			}
		}
	}
	for _, l := range r.grouping {
		if !allowed(l, all) {
			errs = append(errs, fmt.Sprintf("no series of the expression has the label %s it groups or matches by", l))
		}
	}
	for _, f := range r.functions {
		if !slices.Contains(promqlFunctions, f) {
			errs = append(errs, fmt.Sprintf("no PromQL function %s", f))
		}
	}
	return errs
}

// query is one PromQL or variable query of the dashboard and where it is.
type query struct {
	where, text string
	variable    bool
}

// dashboardQueries finds every expr of every panel, nested rows included,
// and every query variable's query.
func dashboardQueries(t *testing.T, path string) []query {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Name       string          `json:"name"`
				Type       string          `json:"type"`
				Query      json.RawMessage `json:"query"`
				Definition string          `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []query
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if title, ok := v["title"].(string); ok {
				where += " / " + title
			}
			if e, ok := v["expr"].(string); ok {
				out = append(out, query{where: where, text: e})
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(where, v[k])
			}
		case []any:
			for _, e := range v {
				walk(where, e)
			}
		}
	}
	for _, p := range d.Panels {
		var v any
		if err := json.Unmarshal(p, &v); err != nil {
			t.Fatal(err)
		}
		walk("panel", v)
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q.Query); err != nil { // the old form: a string
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Fatalf("variable %s: query %s: %v", v.Name, v.Query, err)
			}
		}
		if v.Definition != "" && v.Definition != q.Query {
			t.Errorf("variable %s: definition %q differs from its query %q", v.Name, v.Definition, q.Query)
		}
		out = append(out, query{where: "variable " + v.Name, text: q.Query, variable: true})
	}
	return out
}

// docFamilies reads the metric table rows of docs/observability.md:
// | `name` | type | `label`, `label` (or —) | meaning |
func docFamilies(t *testing.T, path string) map[string]family {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-zA-Z_:][a-zA-Z0-9_:]*)` \\| (counter|gauge|histogram|summary) \\| ([^|]*) \\|")
	label := regexp.MustCompile("`([a-zA-Z_][a-zA-Z0-9_]*)`")
	out := map[string]family{}
	for _, m := range row.FindAllStringSubmatch(string(raw), -1) {
		var labels []string
		for _, l := range label.FindAllStringSubmatch(m[3], -1) {
			labels = append(labels, l[1])
		}
		if _, dup := out[m[1]]; dup {
			t.Errorf("%s: %s has two rows", path, m[1])
		}
		out[m[1]] = family{m[2], slices.Sorted(slices.Values(labels))}
	}
	return out
}

// TestObservabilityNames: the dashboard and the observability doc name only
// real series and labels, and the doc lists every family the runtime and
// the API server export.
func TestObservabilityNames(t *testing.T) {
	start := time.Now()
	c := exported(t)
	t.Logf("read both registries in %v", time.Since(start).Round(time.Millisecond))

	t.Run("dashboard", func(t *testing.T) {
		qs := dashboardQueries(t, "../grafana/tributary.json")
		// Guards against a walk that finds nothing and passes: the dashboard
		// has more panels than this, in rows both open and collapsed.
		var nested, variables int
		for _, q := range qs {
			if strings.Contains(q.where, "internals") {
				nested++
			}
			if q.variable {
				variables++
			}
		}
		if len(qs) < 20 || nested < 3 || variables != 1 {
			t.Fatalf("found %d queries, %d in the collapsed row, %d variable queries: the walk misses some", len(qs), nested, variables)
		}
		for _, q := range qs {
			parse := promqlRefs
			if q.variable {
				parse = variableRefs
			}
			r, err := parse(q.text)
			if err != nil {
				t.Errorf("%s: %s: %v", q.where, q.text, err)
				continue
			}
			for _, e := range c.check(r) {
				t.Errorf("%s: %s: %s", q.where, q.text, e)
			}
		}
	})

	t.Run("a bad expression fails", func(t *testing.T) {
		cases := []struct{ expr, err string }{
			{`rate(tributary_consumed_totl{worker=~"$worker"}[5m])`, "no series tributary_consumed_totl"},
			{`tributary_consumer_lag{partiton="0"}`, "tributary_consumer_lag has no label partiton"},
			{`sum by (class) (rate(tributary_emitted_total[5m]))`, "label class"},
			{`histogram_quantile(0.99, rate(tributary_latency_seconds[5m]))`, "no series tributary_latency_seconds"},
			{`tributary_latency_seconds_sum{le="1"}`, ""}, // le is allowed everywhere, as target labels are
			{`histogram_quantlie(0.99, sum by (le) (rate(tributary_process_seconds_bucket[5m])))`, "no PromQL function histogram_quantlie"},
			{`tributary_api_requests_total{worker="w", status="500"}`, ""},
			{`tributary_api_requests_total{class="x"}`, "has no label class"},
			{`max by (worker) (tributary_worker_desired_instances)`, ""},
		}
		for _, tc := range cases {
			r, err := promqlRefs(tc.expr)
			if err != nil {
				t.Fatalf("%s: %v", tc.expr, err)
			}
			errs := strings.Join(c.check(r), "; ")
			if tc.err == "" && errs != "" || !strings.Contains(errs, tc.err) {
				t.Errorf("%s: errors %q, want %q", tc.expr, errs, tc.err)
			}
		}
	})

	t.Run("docs", func(t *testing.T) {
		doc := docFamilies(t, "../../docs/observability.md")
		if len(doc) < 15 {
			t.Fatalf("found %d metric rows in docs/observability.md: the table's format changed?", len(doc))
		}
		for name, want := range c.families {
			if !strings.HasPrefix(name, "tributary_") && name != "up" {
				continue // go_* and process_*: the client library's, described once in prose
			}
			got, ok := doc[name]
			switch {
			case !ok:
				t.Errorf("docs/observability.md has no row for %s (%s, labels %v)", name, want.typ, want.labels)
			case got.typ != want.typ || !slices.Equal(got.labels, want.labels):
				t.Errorf("docs/observability.md: %s is a %s with labels %v, not a %s with %v", name, want.typ, want.labels, got.typ, got.labels)
			}
		}
		for name := range doc {
			if _, ok := c.families[name]; !ok {
				t.Errorf("docs/observability.md describes %s, which nothing exports", name)
			}
		}
	})
}

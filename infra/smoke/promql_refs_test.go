package smoke

import (
	"reflect"
	"strings"
	"testing"
)

// TestPromQLRefs: the tokenizer finds every metric, label and function of
// expressions written to trip it up, and refuses malformed ones.
func TestPromQLRefs(t *testing.T) {
	type sel = selector
	cases := []struct {
		name, expr string
		want       refs
	}{
		{"bare metric", `up`, refs{selectors: []sel{{metric: "up"}}}},
		{"recording-rule name with colons", `job:tributary_lag:sum`, refs{selectors: []sel{{metric: "job:tributary_lag:sum"}}}},
		{"aggregation, modifier first",
			`sum by (worker) (max by (worker, topic, partition) (tributary_consumer_lag{worker=~"$worker"}))`,
			refs{selectors: []sel{{"tributary_consumer_lag", []string{"worker"}}},
				grouping: []string{"worker", "worker", "topic", "partition"}, functions: []string{"sum", "max"}}},
		{"aggregation, modifier last", `sum(rate(a_total[5m])) by (le) > 0`,
			refs{selectors: []sel{{metric: "a_total"}}, grouping: []string{"le"}, functions: []string{"sum", "rate"}}},
		{"braces, commas and keywords inside strings",
			`count(x{a="}", b!~"by (c)", d='it\'s', e=~` + "`a|b`" + `})`,
			refs{selectors: []sel{{"x", []string{"a", "b", "d", "e"}}}, functions: []string{"count"}}},
		{"escaped quote", `x{a="say \"hi\" {y}"}`, refs{selectors: []sel{{"x", []string{"a"}}}}},
		{"Grafana variables in ranges, strings and braces",
			`rate(x{w=~"${worker:regex}"}[$__rate_interval]) * on(instance) group_left(version) y + rate(z[[[interval]]]) - [[legacy]]`,
			refs{selectors: []sel{{"x", []string{"w"}}, {metric: "y"}, {metric: "z"}},
				grouping: []string{"instance", "version"}, functions: []string{"rate", "rate"}}},
		{"subquery and offset", `max_over_time(rate(x[5m])[1h:1m] offset 1d)`,
			refs{selectors: []sel{{metric: "x"}}, functions: []string{"max_over_time", "rate"}}},
		{"@ modifier", `x @ end() - x @ 1700000000`, refs{selectors: []sel{{metric: "x"}, {metric: "x"}}, functions: []string{"end"}}},
		{"numbers are not metrics", `1e-3 * x + 0x1F - .5 + Inf - NaN`, refs{selectors: []sel{{metric: "x"}}}},
		{"binary keywords and bool", `a > bool 1 and on() b or c unless ignoring(i) d`,
			refs{selectors: []sel{{metric: "a"}, {metric: "b"}, {metric: "c"}, {metric: "d"}}, grouping: []string{"i"}}},
		{"group_left without labels", `a * on(x) group_left b`,
			refs{selectors: []sel{{metric: "a"}, {metric: "b"}}, grouping: []string{"x"}}},
		{"__name__ matcher names the metric", `{__name__="tributary_emitted_total", job="w"}`,
			refs{selectors: []sel{{"tributary_emitted_total", []string{"__name__", "job"}}}}},
		{"comment", "x # not_a_metric{y=\"z\"}\n+ w", refs{selectors: []sel{{metric: "x"}, {metric: "w"}}}},
		{"without and histogram_quantile",
			`histogram_quantile(0.99, sum without (instance) (rate(h_bucket{a="b"}[5m])))`,
			refs{selectors: []sel{{"h_bucket", []string{"a"}}}, grouping: []string{"instance"},
				functions: []string{"histogram_quantile", "sum", "rate"}}},
		{"time() minus a gauge", `time() - tributary_last_loop_timestamp_seconds{worker=~"$worker"}`,
			refs{selectors: []sel{{"tributary_last_loop_timestamp_seconds", []string{"worker"}}}, functions: []string{"time"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := promqlRefs(tc.expr)
			if err != nil {
				t.Fatalf("%s: %v", tc.expr, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%s:\n got %+v\nwant %+v", tc.expr, got, tc.want)
			}
		})
	}

	bad := []struct{ expr, err string }{
		{`sum(rate(x[5m])`, "unclosed"},
		{`x{a="b"`, "unclosed"},
		{`x{a="b}`, "unterminated string"},
		{`rate(x[5m)`, "unterminated ["},
		{`x{a}`, "bad label matcher"},
		{`x{a=b}`, "bad label matcher"},
		{`{job="w"}`, "no metric name"},
		{`{__name__=~"tributary_.*"}`, "only an exact metric name"},
		{`sum by worker (x)`, "want ("},
		{`x ? y`, "unexpected"},
		{`rate(x[5m]) / $`, "lone $"},
	}
	for _, tc := range bad {
		if _, err := promqlRefs(tc.expr); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want one containing %q", tc.expr, err, tc.err)
		}
	}
}

// TestVariableRefs: Grafana's label_values(expr, label) checks the label on
// the metrics of expr; other variable functions are refused, not ignored.
func TestVariableRefs(t *testing.T) {
	got, err := variableRefs(`label_values(tributary_consumed_total{job="tributary-workers"}, worker)`)
	want := refs{selectors: []selector{{"tributary_consumed_total", []string{"job", "worker"}}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("label_values: %+v, %v; want %+v", got, err, want)
	}
	if got, err := variableRefs(`query_result(topk(5, x))`); err != nil || got.selectors[0].metric != "x" {
		t.Fatalf("query_result: %+v, %v", got, err)
	}
	for _, q := range []string{`label_values(worker)`, `metrics(tributary_.*)`, `label_names()`} {
		if _, err := variableRefs(q); err == nil {
			t.Errorf("%s: accepted; a query the check cannot read must fail", q)
		}
	}
}

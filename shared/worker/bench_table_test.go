package worker

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// printBenchTable prints BenchmarkRuntime's rows as one fixed-width table
// and, below it, the runtime's speed targets with PASS or MISS. rows[0] is the
// reference loop.
func printBenchTable(w io.Writer, rows []benchRow) {
	cells := [][]string{{"scenario", "inst", "backlog", "span s", "frag/s", "joined/s", "×ref", "load/s",
		"p50 ms", "p99 ms", "rss MB", "redis µs/frag", "redis B/agg", "worker cpu s/1k", "redis cpu s/1k"}}
	for _, r := range rows {
		perAgg := "-"
		if r.redisBytesPerAgg != 0 {
			perAgg = fmt.Sprintf("%.0f", r.redisBytesPerAgg)
		}
		cells = append(cells, []string{r.label, fmt.Sprint(r.instances), fmt.Sprint(r.fragments),
			fmt.Sprintf("%.1f", r.span), fmt.Sprintf("%.0f", r.fragRate), fmt.Sprintf("%.0f", r.joinRate),
			fmt.Sprintf("%.2f", r.ratio), fmt.Sprintf("%.0f", r.fed), fmt.Sprintf("%.1f", r.p50), fmt.Sprintf("%.1f", r.p99),
			fmt.Sprintf("%.1f", r.rssMB), fmt.Sprintf("%.1f", r.redisUsPerFrag), perAgg,
			fmt.Sprintf("%.3f", r.workerCPUPer1k), fmt.Sprintf("%.3f", r.redisCPUPer1k)})
	}
	width := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	fmt.Fprintln(w)
	for _, row := range cells {
		var line strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == 0 {
				line.WriteString(c + pad) // names left, numbers right
			} else {
				line.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(w, line.String())
	}
	fmt.Fprintln(w, "frag/s, joined/s: input messages consumed and outputs emitted per second from 10% to 90% of the backlog;")
	fmt.Fprintln(w, "load/s, p50, p99: fragments/s fed at half of frag/s, latency from an id's last fragment acknowledged to its output read")
	fmt.Fprintln(w, "  (below 0 when the output is read before the producer has its acknowledgement);")
	fmt.Fprintln(w, "redis µs/frag and cpu s/1k (per 1,000 outputs): CPU over the same span; rss: peak over the instances.")

	byName := map[string]benchRow{}
	for _, r := range rows {
		byName[r.name] = r
	}
	ref, join2, pass := rows[0], byName["join-2x1"], byName["passthrough"]
	fmt.Fprintln(w, "\nthe runtime's speed targets, this run:")
	target(w, join2.fragRate >= ref.fragRate/2, "join-2 ×1 frag/s ≥ 0.5× reference: %.2f× (%.0f of %.0f/s)", join2.ratio, join2.fragRate, ref.fragRate)
	target(w, pass.fragRate >= ref.fragRate*0.8, "passthrough frag/s ≥ 0.8× reference: %.2f× (%.0f of %.0f/s)", pass.ratio, pass.fragRate, ref.fragRate)
	target(w, join2.redisUsPerFrag <= 15, "Redis CPU ≤ 15 µs/fragment (join-2 ×1): %.1f µs", join2.redisUsPerFrag)
	var p99s []string
	ok := true
	for _, r := range rows[1:] {
		ok = ok && r.p99 <= 20
		p99s = append(p99s, fmt.Sprintf("%s %.1f", r.label, r.p99))
	}
	target(w, ok, "p99 ≤ 20 ms at 50%% load, every worker scenario: %s ms (reference %.1f ms, not a target)", strings.Join(p99s, ", "), ref.p99)
}

func target(w io.Writer, pass bool, format string, args ...any) {
	verdict := "MISS"
	if pass {
		verdict = "PASS"
	}
	fmt.Fprintf(w, "  %s  "+format+"\n", append([]any{verdict}, args...)...)
}

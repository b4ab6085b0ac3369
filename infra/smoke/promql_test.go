package smoke

// A small PromQL tokenizer that finds the metric names, label names and
// functions an expression refers to, for checking the dashboard (and, later,
// alert rules) against the series the binaries really export.
//
// Prometheus' own parser (github.com/prometheus/prometheus/promql/parser)
// would be better, but its module cannot join go.work: it requires go
// 1.26.7 (go.work says 1.26.0) and would raise grpc, x/net and
// prometheus/common for every module of the workspace. This is not a
// parser: it checks bracket balance and matcher syntax, and classifies
// names, no more. Invalid PromQL that tokenizes cleanly is not caught.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

type tokenKind int

const (
	tokIdent  tokenKind = iota // a metric, label or function name, or a keyword
	tokString                  // "…", '…' or `…`, quotes included
	tokNumber                  // a number or a duration outside brackets
	tokVar                     // a Grafana variable outside strings: $x, ${x}, [[x]]
	tokRange                   // […]: a range, a subquery, offset-free durations
	tokPunct                   // ( ) { } ,
	tokOp                      // operators and matcher operators
)

type token struct {
	kind tokenKind
	text string
	pos  int
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

// lex splits a PromQL expression (with Grafana variables) into tokens.
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '#': // a comment, to the end of the line
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		case c == '"' || c == '\'' || c == '`':
			i++
			for i < len(s) && s[i] != c {
				if s[i] == '\\' && c != '`' {
					i++
				}
				i++
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", start)
			}
			i++
			toks = append(toks, token{tokString, s[start:i], start})
		case strings.HasPrefix(s[i:], "[[") && !strings.HasPrefix(s[i:], "[[["): // Grafana's old variable syntax
			end := strings.Index(s[i:], "]]")
			if end < 0 {
				return nil, fmt.Errorf("unterminated [[ at %d", start)
			}
			i += end + 2
			toks = append(toks, token{tokVar, s[start:i], start})
		case c == '[': // durations and variables only, [[x]] among them
			for i++; i < len(s) && s[i] != ']'; i++ {
				if strings.HasPrefix(s[i:], "[[") {
					if end := strings.Index(s[i:], "]]"); end > 0 {
						i += end + 1
					}
				}
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated [ at %d", start)
			}
			i++
			toks = append(toks, token{tokRange, s[start:i], start})
		case c == '$':
			i++
			if i < len(s) && s[i] == '{' {
				end := strings.IndexByte(s[i:], '}')
				if end < 0 {
					return nil, fmt.Errorf("unterminated ${ at %d", start)
				}
				i += end + 1
			} else {
				for i < len(s) && isIdentChar(s[i]) && s[i] != ':' {
					i++
				}
			}
			if i == start+1 {
				return nil, fmt.Errorf("lone $ at %d", start)
			}
			toks = append(toks, token{tokVar, s[start:i], start})
		case '0' <= c && c <= '9' || c == '.' && i+1 < len(s) && '0' <= s[i+1] && s[i+1] <= '9':
			for i < len(s) && (isIdentChar(s[i]) && s[i] != ':' || s[i] == '.') {
				if (s[i] == 'e' || s[i] == 'E') && i+1 < len(s) && (s[i+1] == '+' || s[i+1] == '-') &&
					!strings.HasPrefix(strings.ToLower(s[start:]), "0x") {
					i++
				}
				i++
			}
			toks = append(toks, token{tokNumber, s[start:i], start})
		case isIdentStart(c):
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
			kind := tokIdent
			if w := strings.ToLower(s[start:i]); w == "inf" || w == "nan" {
				kind = tokNumber
			}
			toks = append(toks, token{kind, s[start:i], start})
		case strings.ContainsRune("(){},", rune(c)):
			i++
			toks = append(toks, token{tokPunct, s[start:i], start})
		default:
			for _, op := range []string{"!=", "=~", "!~", "==", ">=", "<=", "=", "+", "-", "*", "/", "%", "^", ">", "<", "@"} {
				if strings.HasPrefix(s[i:], op) {
					i += len(op)
					toks = append(toks, token{tokOp, op, start})
					break
				}
			}
			if i == start {
				return nil, fmt.Errorf("unexpected %q at %d", c, start)
			}
		}
	}
	return toks, nil
}

// selector is one vector selector: its metric and the labels it matches.
type selector struct {
	metric string
	labels []string
}

// refs is what an expression refers to.
type refs struct {
	selectors []selector
	grouping  []string // labels of by, without, on, ignoring, group_left, group_right
	functions []string
}

var (
	binaryKeywords   = []string{"and", "or", "unless", "bool", "offset", "atan2"}
	groupingKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}
	matchOps         = []string{"=", "!=", "=~", "!~"}
	// promqlFunctions are PromQL's functions and aggregation operators
	// (Prometheus 3); start and end are the @ modifier's.
	promqlFunctions = strings.Fields(`abs absent absent_over_time acos acosh asin asinh atan atanh
		avg_over_time ceil changes clamp clamp_max clamp_min cos cosh count_over_time day_of_month
		day_of_week day_of_year days_in_month deg delta deriv double_exponential_smoothing exp floor
		histogram_avg histogram_count histogram_fraction histogram_quantile histogram_stddev
		histogram_stdvar histogram_sum hour idelta increase info irate label_join label_replace
		last_over_time ln log10 log2 mad_over_time max_over_time min_over_time minute month pi
		predict_linear present_over_time quantile_over_time rad rate resets round scalar sgn sin sinh
		sort sort_by_label sort_by_label_desc sort_desc sqrt stddev_over_time stdvar_over_time
		sum_over_time tan tanh time timestamp vector year
		sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio
		start end`)
)

// promqlRefs finds the metrics, labels and functions expr refers to.
func promqlRefs(expr string) (refs, error) {
	toks, err := lex(expr)
	if err != nil {
		return refs{}, err
	}
	if err := balanced(toks); err != nil {
		return refs{}, err
	}
	var r refs
	next := func(i int) token {
		if i+1 < len(toks) {
			return toks[i+1]
		}
		return token{}
	}
	isPunct := func(t token, p string) bool { return t.kind == tokPunct && t.text == p }
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tokIdent && slices.Contains(binaryKeywords, t.text):
		case t.kind == tokIdent && slices.Contains(groupingKeywords, t.text):
			if !isPunct(next(i), "(") {
				if strings.HasPrefix(t.text, "group_") {
					continue // group_left without labels
				}
				return refs{}, fmt.Errorf("%s at %d: want (", t.text, t.pos)
			}
			for i += 2; i < len(toks) && !isPunct(toks[i], ")"); i++ {
				switch {
				case toks[i].kind == tokIdent:
					r.grouping = append(r.grouping, toks[i].text)
				case isPunct(toks[i], ","):
				default:
					return refs{}, fmt.Errorf("%s (…) at %d: unexpected %q", t.text, toks[i].pos, toks[i].text)
				}
			}
		case t.kind == tokIdent && (isPunct(next(i), "(") ||
			next(i).kind == tokIdent && slices.Contains(groupingKeywords[:2], next(i).text)):
			r.functions = append(r.functions, t.text)
		case t.kind == tokIdent:
			sel := selector{metric: t.text}
			if isPunct(next(i), "{") {
				if i, err = matchers(toks, i+1, &sel); err != nil {
					return refs{}, err
				}
			}
			r.selectors = append(r.selectors, sel)
		case isPunct(t, "{"): // a selector without a bare metric name
			var sel selector
			if i, err = matchers(toks, i, &sel); err != nil {
				return refs{}, err
			}
			if sel.metric == "" {
				return refs{}, fmt.Errorf("selector at %d has no metric name (nor __name__=\"…\")", t.pos)
			}
			r.selectors = append(r.selectors, sel)
		}
	}
	return r, nil
}

// matchers reads the label matchers of the selector whose { is toks[i]
// into sel and returns the index of its }. A __name__="…" matcher names the
// metric.
func matchers(toks []token, i int, sel *selector) (int, error) {
	for i++; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tokPunct && t.text == "}" {
			return i, nil
		}
		if t.kind == tokPunct && t.text == "," {
			continue
		}
		if i+2 >= len(toks) || t.kind != tokIdent || toks[i+1].kind != tokOp ||
			!slices.Contains(matchOps, toks[i+1].text) || toks[i+2].kind != tokString {
			return 0, fmt.Errorf("bad label matcher at %d: want name, one of %v, and a quoted value", t.pos, matchOps)
		}
		if t.text == "__name__" {
			if toks[i+1].text != "=" {
				return 0, fmt.Errorf("__name__%s at %d: only an exact metric name can be checked", toks[i+1].text, t.pos)
			}
			sel.metric = strings.Trim(toks[i+2].text, "\"'`")
		}
		sel.labels = append(sel.labels, t.text)
		i += 2
	}
	return 0, fmt.Errorf("unterminated selector")
}

// balanced checks that (), {} nest.
func balanced(toks []token) error {
	var stack []token
	for _, t := range toks {
		if t.kind != tokPunct {
			continue
		}
		switch t.text {
		case "(", "{":
			stack = append(stack, t)
		case ")", "}":
			want := map[string]string{")": "(", "}": "{"}[t.text]
			if len(stack) == 0 || stack[len(stack)-1].text != want {
				return fmt.Errorf("unbalanced %q at %d", t.text, t.pos)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed %q at %d", stack[len(stack)-1].text, stack[len(stack)-1].pos)
	}
	return nil
}

// grafanaLabelValues is Grafana's label_values(expr, label) variable query.
var grafanaLabelValues = regexp.MustCompile(`^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`)

// variableRefs finds what a Grafana template-variable query refers to. Of
// Grafana's query functions only label_values(expr, label) and
// query_result(expr) are understood; the label of label_values is returned
// as a selector label of every metric of expr.
func variableRefs(query string) (refs, error) {
	if m := grafanaLabelValues.FindStringSubmatch(query); m != nil {
		r, err := promqlRefs(m[1])
		if err != nil {
			return refs{}, err
		}
		if len(r.selectors) == 0 {
			return refs{}, fmt.Errorf("label_values(%s, …) names no metric", m[1])
		}
		for i := range r.selectors {
			r.selectors[i].labels = append(r.selectors[i].labels, m[2])
		}
		return r, nil
	}
	if inner, ok := strings.CutPrefix(strings.TrimSpace(query), "query_result("); ok && strings.HasSuffix(inner, ")") {
		return promqlRefs(strings.TrimSuffix(inner, ")"))
	}
	return refs{}, fmt.Errorf("variable query %q: only label_values(expr, label) and query_result(expr) are checked", query)
}

package series

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Timeout bounds each query: the HTTP request and Prometheus' own
// evaluation (its timeout parameter).
const Timeout = 10 * time.Second

// ErrUnavailable means Prometheus could not be reached, timed out or
// failed (5xx): the caller may try again later.
var ErrUnavailable = errors.New("Prometheus did not answer")

// Client queries one Prometheus. It is safe for concurrent use.
type Client struct {
	api     v1.API
	timeout time.Duration
}

// New returns a client of the Prometheus at baseURL (http or https, as
// config validated it).
func New(baseURL string) (*Client, error) {
	c, err := api.NewClient(api.Config{Address: baseURL, Client: &http.Client{Timeout: Timeout + time.Second}})
	if err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	return &Client{api: v1.NewAPI(c), timeout: Timeout}, nil
}

// Point is one sample: [unix seconds, value].
type Point [2]float64

// Series is one series of a Result.
type Series struct {
	Labels map[string]string `json:"labels"`
	Points []Point           `json:"points"`
}

// Result is a worker's series over a range.
type Result struct {
	Worker       string   `json:"worker"`
	Metric       Metric   `json:"metric"`
	Unit         string   `json:"unit"`
	RangeSeconds int64    `json:"range_seconds"`
	StepSeconds  int64    `json:"step_seconds"`
	Query        string   `json:"query"`
	Series       []Series `json:"series"`
}

// Range runs r over the range ending at now rounded down to the step.
func (c *Client) Range(ctx context.Context, r Request, now time.Time) (Result, error) {
	end := now.Truncate(r.Step)
	q := r.Query()
	series, err := c.rangeQuery(ctx, q, v1.Range{Start: end.Add(-r.Range), End: end, Step: r.Step})
	if err != nil {
		return Result{}, err
	}
	return Result{Worker: r.Worker, Metric: r.Metric, Unit: r.Unit(), RangeSeconds: int64(r.Range / time.Second),
		StepSeconds: int64(r.Step / time.Second), Query: q, Series: series}, nil
}

// rangeQuery runs query over rng and returns its series, by labels.
func (c *Client) rangeQuery(ctx context.Context, query string, rng v1.Range) ([]Series, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, _, _, err := c.api.QueryRange(ctx, query, rng, v1.WithTimeout(c.timeout))
	if err != nil {
		return nil, queryError(err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("prometheus answered a %s to a range query", v.Type())
	}
	out := make([]Series, 0, len(m))
	for _, s := range m {
		ser := Series{Labels: labels(s.Metric), Points: make([]Point, 0, len(s.Values))}
		for _, p := range s.Values {
			if f := float64(p.Value); !math.IsNaN(f) && !math.IsInf(f, 0) {
				ser.Points = append(ser.Points, Point{float64(p.Timestamp.Unix()), f})
			}
		}
		out = append(out, ser)
	}
	slices.SortFunc(out, func(a, b Series) int { return strings.Compare(labelKey(a.Labels), labelKey(b.Labels)) })
	return out, nil
}

// instant runs query at now and returns its samples.
func (c *Client) instant(ctx context.Context, query string, now time.Time) (model.Vector, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, _, _, err := c.api.Query(ctx, query, now, v1.WithTimeout(c.timeout))
	if err != nil {
		return nil, queryError(err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus answered a %s to an instant query", v.Type())
	}
	return vec, nil
}

// queryError wraps ErrUnavailable around failures that are Prometheus'
// (unreachable, timed out, 5xx); a query Prometheus refused is this
// server's bug and stays a plain error.
func queryError(err error) error {
	if pe, ok := errors.AsType[*v1.Error](err); ok && (pe.Type == v1.ErrBadData || pe.Type == v1.ErrExec) {
		return fmt.Errorf("prometheus refused the query: %w", err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func labels(m model.Metric) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != model.MetricNameLabel {
			out[string(k)] = string(v)
		}
	}
	return out
}

func labelKey(l map[string]string) string { return toLabelSet(l).String() }

func toLabelSet(l map[string]string) model.LabelSet {
	s := make(model.LabelSet, len(l))
	for k, v := range l {
		s[model.LabelName(k)] = model.LabelValue(v)
	}
	return s
}

package series

import (
	"context"
	"math"
	"strconv"
	"time"
)

// RateWindow is the window of Rates: long enough for rate() to have
// samples at any sane scrape interval, short enough to follow a change
// within a minute.
const RateWindow = time.Minute

// Rates are a worker's records in (consumed) and out (emitted to its
// output topics) per second over the RateWindow before a time.
type Rates struct {
	In, Out float64
	// InByTopic is In per input topic.
	InByTopic map[string]float64
	// Found is false when Prometheus has no such series of the worker
	// (never deployed, or not scraped yet): In and Out are 0 then.
	Found bool
}

// Rates reads worker's rates at now, in one instant query.
func (c *Client) Rates(ctx context.Context, worker string, now time.Time) (Rates, error) {
	sel := "{worker=" + strconv.Quote(worker) + "}"
	win := "[" + promDuration(RateWindow) + "]"
	vec, err := c.instant(ctx, directions(sel, win)+" or "+byTopic(sel, win), now)
	if err != nil {
		return Rates{}, err
	}
	r := Rates{InByTopic: map[string]float64{}}
	for _, s := range vec {
		v := float64(s.Value)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		switch s.Metric["direction"] {
		case "in":
			r.In, r.Found = v, true
		case "out":
			r.Out, r.Found = v, true
		case "in_topic":
			r.InByTopic[string(s.Metric["topic"])] = v
		}
	}
	return r, nil
}

// AllRates reads the rates in and out of every worker Prometheus has
// series of at now, by worker, in one instant query however many workers
// there are. InByTopic is left empty: Rates has it for one worker.
func (c *Client) AllRates(ctx context.Context, now time.Time) (map[string]Rates, error) {
	win := "[" + promDuration(RateWindow) + "]"
	q := `label_replace(sum by (worker) (rate(tributary_consumed_total` + win + `)), "direction", "in", "", "")` +
		` or label_replace(sum by (worker) (rate(tributary_emitted_total` + win + `)), "direction", "out", "", "")`
	vec, err := c.instant(ctx, q, now)
	if err != nil {
		return nil, err
	}
	out := map[string]Rates{}
	for _, s := range vec {
		v := float64(s.Value)
		worker := string(s.Metric["worker"])
		if math.IsNaN(v) || math.IsInf(v, 0) || worker == "" {
			continue
		}
		r, ok := out[worker]
		if !ok {
			r.InByTopic = map[string]float64{}
		}
		switch s.Metric["direction"] {
		case "in":
			r.In, r.Found = v, true
		case "out":
			r.Out, r.Found = v, true
		}
		out[worker] = r
	}
	return out, nil
}

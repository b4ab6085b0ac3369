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
	// Found is false when Prometheus has no such series of the worker
	// (never deployed, or not scraped yet): In and Out are 0 then.
	Found bool
}

// Rates reads worker's rates at now, in one instant query.
func (c *Client) Rates(ctx context.Context, worker string, now time.Time) (Rates, error) {
	sel := "{worker=" + strconv.Quote(worker) + "}"
	vec, err := c.instant(ctx, directions(sel, "["+promDuration(RateWindow)+"]"), now)
	if err != nil {
		return Rates{}, err
	}
	var r Rates
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
		}
	}
	return r, nil
}

// Package throughput says how many records a worker takes in and puts out
// per second, the same for every client that asks: from Prometheus'
// rate() of the runtime's counters when the server has a Prometheus, and
// otherwise from a Sampler that reads the worker's Kafka offsets on its
// own clock. Neither depends on when or how often anyone asks, so two
// browser tabs polling one worker see the same numbers.
//
//   - Prometheus (source "prometheus"): rate() over series.RateWindow of
//     tributary_consumed_total (in) and tributary_emitted_total (out),
//     summed over the worker's instances; per input topic from the
//     consumed counter's topic label.
//   - Sampler (source "sampler"): a worker's committed offsets on its
//     inputs and the end offsets of its outputs, read every SampleEvery
//     from the moment it is first asked about until IdleAfter after the
//     last time; the answer is the rate over the samples of the last
//     Window, and says how long that is. Out counts every record written
//     to the output topics, by the worker or anyone else.
package throughput

import (
	"context"
	"fmt"
	"time"

	"github.com/tributary-etl/tributary/apiserver/series"
)

// Sources of a Throughput.
const (
	SourcePrometheus = "prometheus"
	SourceSampler    = "sampler"
)

// Throughput is a worker's records in and out per second over a window.
type Throughput struct {
	InPerSec  float64 `json:"in_per_sec"`  // records the worker consumed (Prometheus) or its group committed (sampler) per second
	OutPerSec float64 `json:"out_per_sec"` // records produced to its output topics per second
	// InPerSecByTopic is InPerSec per input topic, where it is known.
	InPerSecByTopic map[string]float64 `json:"in_per_sec_by_topic"`
	// WindowSeconds is the time the rates are averaged over; 0 when
	// there is no measurement yet (the sampler's first answer).
	WindowSeconds float64 `json:"window_seconds"`
	Source        string  `json:"source"`
	// Warnings say what is missing from the answer, for the caller's
	// warnings list.
	Warnings []string `json:"-"`
}

// Target is the worker a throughput is asked about.
type Target struct {
	Worker  string   // consumer name: the Kafka group and Prometheus' worker label
	Brokers []string // its cluster
	Inputs  []string
	Outputs []string
}

// Reader answers a worker's throughput. Implementations are safe for
// concurrent use.
type Reader interface {
	Throughput(ctx context.Context, t Target) (Throughput, error)
}

// notScraped is the warning of a worker Prometheus has no series of.
const notScraped = "Prometheus has no series of this worker yet: it was never deployed, " +
	"or Prometheus has not scraped it (throughput reads 0)"

// Prometheus reads throughput from Prometheus.
type Prometheus struct {
	client *series.Client
	now    func() time.Time
}

// FromPrometheus returns the Reader over c.
func FromPrometheus(c *series.Client) *Prometheus { return &Prometheus{client: c, now: time.Now} }

// Throughput implements Reader. An error wraps series.ErrUnavailable
// when Prometheus did not answer.
func (p *Prometheus) Throughput(ctx context.Context, t Target) (Throughput, error) {
	r, err := p.client.Rates(ctx, t.Worker, p.now())
	if err != nil {
		return Throughput{}, fmt.Errorf("throughput of %s: %w", t.Worker, err)
	}
	tp := Throughput{InPerSec: r.In, OutPerSec: r.Out, InPerSecByTopic: map[string]float64{},
		WindowSeconds: series.RateWindow.Seconds(), Source: SourcePrometheus}
	if !r.Found {
		tp.Warnings = append(tp.Warnings, notScraped)
	}
	// Every input topic has a rate, 0 when none of its records came by
	// (the runtime binds each topic's counter at start); a topic the
	// worker no longer reads is left out.
	for _, in := range t.Inputs {
		tp.InPerSecByTopic[in] = r.InByTopic[in]
	}
	return tp, nil
}

// Many is a Reader that answers many workers at once for less than one
// Throughput call each; Prometheus is one.
type Many interface {
	// ThroughputMany answers every target, by Target.Worker. A target the
	// answer has no series of reads zeros with a warning, as Throughput.
	ThroughputMany(ctx context.Context, ts []Target) (map[string]Throughput, error)
}

var _ Many = (*Prometheus)(nil)

// All answers the throughput of every target, by Target.Worker: in one
// call when r is a Many, otherwise one Throughput call per target (the
// Sampler's are in memory, and start sampling each target). A failed
// call leaves its target out and fails the answer only when r is a Many.
func All(ctx context.Context, r Reader, ts []Target) (map[string]Throughput, error) {
	if m, ok := r.(Many); ok {
		return m.ThroughputMany(ctx, ts)
	}
	out := make(map[string]Throughput, len(ts))
	for _, t := range ts {
		if tp, err := r.Throughput(ctx, t); err == nil {
			out[t.Worker] = tp
		}
	}
	return out, nil
}

// ThroughputMany implements Many with one instant query (series.AllRates);
// the answers have no rates per input topic.
func (p *Prometheus) ThroughputMany(ctx context.Context, ts []Target) (map[string]Throughput, error) {
	all, err := p.client.AllRates(ctx, p.now())
	if err != nil {
		return nil, fmt.Errorf("throughput of every worker: %w", err)
	}
	out := make(map[string]Throughput, len(ts))
	for _, t := range ts {
		r := all[t.Worker]
		tp := Throughput{InPerSec: r.In, OutPerSec: r.Out, InPerSecByTopic: map[string]float64{},
			WindowSeconds: series.RateWindow.Seconds(), Source: SourcePrometheus}
		if !r.Found {
			tp.Warnings = append(tp.Warnings, notScraped)
		}
		out[t.Worker] = tp
	}
	return out, nil
}

package throughput

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
)

// Defaults of a Sampler.
const (
	SampleEvery   = 5 * time.Second  // one reading of each tracked worker's offsets
	Window        = time.Minute      // the answer's rate spans the samples of about this long
	IdleAfter     = 15 * time.Minute // a worker nobody asked about for this long is no longer sampled
	SampleTimeout = 5 * time.Second  // bound on one reading
	parallel      = 8                // workers sampled at once
)

// SamplerOptions adjust a Sampler; zero fields take the defaults above.
type SamplerOptions struct {
	Every, Window, Idle, Timeout time.Duration
	Log                          *slog.Logger
}

// Sampler samples the offsets of the workers it is asked about, on its
// own clock (Run), and answers their throughput from those samples. It is
// safe for concurrent use; without Run it answers zeros.
type Sampler struct {
	opt  SamplerOptions
	now  func() time.Time
	wake chan struct{}

	mu      sync.Mutex
	tracked map[string]*track
}

// track is one worker being sampled. samples is written under the
// Sampler's mutex; admin only by the sampling goroutine.
type track struct {
	target   Target
	asked    time.Time
	sampling bool
	samples  []sample // oldest first
	lastErr  string   // of the latest reading, "" when it succeeded
	admin    *kafkaadmin.Admin
}

// sample is one reading: per partition, the group's committed offset on
// the inputs; per output topic, the sum of its end offsets (partition -1).
type sample struct {
	at  time.Time
	in  map[partition]int64
	out map[partition]int64
}

type partition struct {
	topic string
	id    int32
}

// NewSampler returns a sampler; Run starts its sampling.
func NewSampler(o SamplerOptions) *Sampler {
	o.Every = orDefault(o.Every, SampleEvery)
	o.Window = orDefault(o.Window, Window)
	o.Idle = orDefault(o.Idle, IdleAfter)
	o.Timeout = orDefault(o.Timeout, SampleTimeout)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Sampler{opt: o, now: time.Now, wake: make(chan struct{}, 1), tracked: map[string]*track{}}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// key changes with the group and the topics, so a rate never spans an
// edit of the worker.
func (t Target) key() string {
	return t.Worker + "\x00" + strings.Join(t.Brokers, ",") + "\x00" + strings.Join(t.Inputs, ",") + "\x00" + strings.Join(t.Outputs, ",")
}

// Throughput implements Reader: the rate over the samples taken of t, and
// from now on t is sampled until IdleAfter passes without a request. The
// first answer about a worker has no samples yet: zeros and no window.
func (s *Sampler) Throughput(_ context.Context, t Target) (Throughput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr, ok := s.tracked[t.key()]
	if !ok {
		tr = &track{target: t}
		s.tracked[t.key()] = tr
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	tr.asked = s.now()
	tp := tr.rate()
	if tr.lastErr != "" {
		tp.Warnings = append(tp.Warnings, "throughput sampler: the last reading failed: "+tr.lastErr)
	}
	return tp, nil
}

// rate is the throughput over tr's samples.
func (tr *track) rate() Throughput {
	tp := Throughput{InPerSecByTopic: map[string]float64{}, Source: SourceSampler}
	if len(tr.samples) < 2 {
		return tp
	}
	first, last := tr.samples[0], tr.samples[len(tr.samples)-1]
	window := last.at.Sub(first.at).Seconds()
	var in, out int64
	byTopic := map[string]int64{}
	// Sum per partition over consecutive samples, so that a counter that
	// went down (a topic recreated, an offset reset) counts as no progress
	// rather than cancelling another partition's. A partition absent from
	// the earlier sample counts from 0: nothing committed yet (the group
	// reads from the start), or an output nothing had been written to.
	for i := 1; i < len(tr.samples); i++ {
		prev, cur := tr.samples[i-1], tr.samples[i]
		for p, n := range cur.in {
			if d := n - prev.in[p]; d > 0 {
				in += d
				byTopic[p.topic] += d
			}
		}
		for p, n := range cur.out {
			out += max(n-prev.out[p], 0)
		}
	}
	tp.InPerSec, tp.OutPerSec, tp.WindowSeconds = float64(in)/window, float64(out)/window, window
	for _, topic := range tr.target.Inputs {
		tp.InPerSecByTopic[topic] = float64(byTopic[topic]) / window
	}
	return tp
}

// Run samples every tracked worker every Every (and a newly asked-about
// one at once) until ctx ends, forgetting those nobody asked about for
// Idle. It returns ctx's error.
func (s *Sampler) Run(ctx context.Context) error {
	t := time.NewTicker(s.opt.Every)
	defer t.Stop()
	defer s.closeAll()
	for {
		s.sampleDue(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-s.wake:
		}
	}
}

// sampleDue takes a reading of every tracked worker whose last one is
// older than half a period (a wake-up for a new worker does not resample
// the others), in parallel, and waits for them.
func (s *Sampler) sampleDue(ctx context.Context) {
	now := s.now()
	var due []*track
	s.mu.Lock()
	for k, tr := range s.tracked {
		switch {
		case now.Sub(tr.asked) > s.opt.Idle && !tr.sampling:
			delete(s.tracked, k)
			if tr.admin != nil {
				tr.admin.Close()
			}
		case !tr.sampling && (len(tr.samples) == 0 || now.Sub(tr.samples[len(tr.samples)-1].at) >= s.opt.Every/2):
			tr.sampling = true
			due = append(due, tr)
		}
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	slots := make(chan struct{}, parallel)
	for _, tr := range due {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			smp, err := s.read(ctx, tr)
			s.mu.Lock()
			defer s.mu.Unlock()
			tr.sampling = false
			if err != nil {
				tr.lastErr = err.Error()
				if ctx.Err() == nil {
					s.opt.Log.Warn("throughput: sample offsets", "worker", tr.target.Worker, "error", err.Error())
				}
				return
			}
			tr.lastErr = ""
			tr.samples = append(tr.samples, smp)
			// Keep the newest samples that span at least the window.
			for len(tr.samples) > 2 && smp.at.Sub(tr.samples[1].at) >= s.opt.Window {
				tr.samples = tr.samples[1:]
			}
		}()
	}
	wg.Wait()
}

// read takes one sample of tr's offsets.
func (s *Sampler) read(ctx context.Context, tr *track) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	if tr.admin == nil {
		a, err := kafkaadmin.Dial(tr.target.Brokers)
		if err != nil {
			return sample{}, err
		}
		tr.admin = a
	}
	committed, err := tr.admin.Committed(ctx, tr.target.Worker, tr.target.Inputs)
	if err != nil {
		return sample{}, err
	}
	// Per topic, not per partition: an output nothing was written to yet
	// has no partitions to list.
	ends, err := tr.admin.EndOffsets(ctx, tr.target.Outputs)
	if err != nil {
		return sample{}, err
	}
	smp := sample{at: s.now(), in: map[partition]int64{}, out: map[partition]int64{}}
	for _, o := range committed {
		smp.in[partition{o.Topic, o.Partition}] = o.Offset
	}
	for topic, n := range ends {
		smp.out[partition{topic, -1}] = n
	}
	return smp, nil
}

func (s *Sampler) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, tr := range s.tracked {
		if tr.admin != nil {
			tr.admin.Close()
		}
		delete(s.tracked, k)
	}
}

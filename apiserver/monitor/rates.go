package monitor

import (
	"sync"
	"time"
)

// Sample is one reading of a worker's progress counters.
type Sample struct {
	At  time.Time
	In  int64 // committed offsets of the worker's group, summed over its input partitions
	Out int64 // high watermarks of its output topics, summed
	// InByTopic is In per input topic (the rate of each edge into the worker).
	InByTopic map[string]int64
}

// Throughput is the rate of a worker's counters between two samples.
type Throughput struct {
	InPerSec  float64 `json:"in_per_sec"`  // records the worker's group committed per second
	OutPerSec float64 `json:"out_per_sec"` // records written to its output topics per second (by anyone)
	// InPerSecByTopic is InPerSec per input topic.
	InPerSecByTopic map[string]float64 `json:"in_per_sec_by_topic"`
	WindowSeconds   float64            `json:"window_seconds"`
}

// maxSampleAge is how long a sample is kept: an older one is dropped, so
// that the cache does not grow with workers nobody looks at, and a rate is
// never averaged over hours.
const maxSampleAge = 15 * time.Minute

// Rates keeps the previous sample of each worker, so that the throughput a
// request reports is the rate since the previous request for that worker
// (from any client). The zero value is ready to use; it is safe for
// concurrent use.
type Rates struct {
	mu   sync.Mutex
	last map[string]Sample
}

// Observe records s as key's latest sample and returns the rates since the
// previous one. The first sample of a key (or one after the previous has
// aged out) has no window: all zero. A counter that went down (the worker's
// group or topics changed, a topic was recreated) counts as no progress
// rather than a negative rate. Key should change when what is counted
// changes (the group or the topics).
func (r *Rates) Observe(key string, s Sample) Throughput {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]Sample{}
	}
	for k, old := range r.last {
		if s.At.Sub(old.At) > maxSampleAge {
			delete(r.last, k)
		}
	}
	prev, ok := r.last[key]
	if ok && !s.At.After(prev.At) {
		return Throughput{InPerSecByTopic: map[string]float64{}} // out of order: keep the newer sample
	}
	r.last[key] = s
	if !ok {
		return Throughput{InPerSecByTopic: map[string]float64{}}
	}
	window := s.At.Sub(prev.At).Seconds()
	tp := Throughput{
		InPerSec:        float64(max(s.In-prev.In, 0)) / window,
		OutPerSec:       float64(max(s.Out-prev.Out, 0)) / window,
		InPerSecByTopic: map[string]float64{},
		WindowSeconds:   window,
	}
	for topic, n := range s.InByTopic {
		tp.InPerSecByTopic[topic] = float64(max(n-prev.InByTopic[topic], 0)) / window
	}
	return tp
}

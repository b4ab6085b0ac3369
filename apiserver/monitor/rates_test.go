package monitor

import (
	"sync"
	"testing"
	"time"
)

func TestRates(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration, in, out int64) Sample { return Sample{At: t0.Add(d), In: in, Out: out} }
	steps := []struct {
		name   string
		key    string
		sample Sample
		want   Throughput
	}{
		{"first sample: no window", "w", at(0, 100, 50), Throughput{}},
		{"two seconds later", "w", at(2*time.Second, 140, 60), Throughput{InPerSec: 20, OutPerSec: 5, WindowSeconds: 2}},
		{"another key starts afresh", "v", at(3*time.Second, 7, 7), Throughput{}},
		{"counters went down: no progress", "w", at(4*time.Second, 10, 0), Throughput{WindowSeconds: 2}},
		{"out of order: ignored", "w", at(3*time.Second, 999, 999), Throughput{}},
		{"after the ignored one", "w", at(5*time.Second, 15, 4), Throughput{InPerSec: 5, OutPerSec: 4, WindowSeconds: 1}},
		{"aged out: no window", "w", at(5*time.Second+maxSampleAge+time.Second, 99, 99), Throughput{}},
	}
	var r Rates
	for _, s := range steps {
		got := r.Observe(s.key, s.sample)
		if got.InPerSec != s.want.InPerSec || got.OutPerSec != s.want.OutPerSec || got.WindowSeconds != s.want.WindowSeconds || got.InPerSecByTopic == nil {
			t.Errorf("%s: %+v, want %+v", s.name, got, s.want)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.last["v"]; ok || len(r.last) != 1 {
		t.Errorf("samples kept %v: v should have aged out", r.last)
	}
}

func TestRatesByTopic(t *testing.T) {
	t0 := time.Now()
	var r Rates
	r.Observe("w", Sample{At: t0, In: 30, InByTopic: map[string]int64{"a": 10, "b": 20}})
	got := r.Observe("w", Sample{At: t0.Add(2 * time.Second), In: 60, InByTopic: map[string]int64{"a": 30, "b": 30, "c": 4}})
	want := map[string]float64{"a": 10, "b": 5, "c": 2}
	for topic, rate := range want {
		if got.InPerSecByTopic[topic] != rate {
			t.Errorf("topic %s: %v/s, want %v/s (all: %v)", topic, got.InPerSecByTopic[topic], rate, got.InPerSecByTopic)
		}
	}
}

func TestRatesConcurrent(t *testing.T) {
	var r Rates
	start := time.Now()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				tp := r.Observe("w", Sample{At: start.Add(time.Duration(g*100+i) * time.Millisecond), In: int64(i)})
				if tp.InPerSec < 0 || tp.WindowSeconds < 0 {
					t.Errorf("negative rate %+v", tp)
				}
			}
		})
	}
	wg.Wait()
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestProducesCountToEveryTopicAtRate(t *testing.T) {
	brokers := stacktest.Kfake(t, 2)
	var out, errb bytes.Buffer
	start := time.Now()
	code := run([]string{"-brokers", strings.Join(brokers, ","), "-topics", "a,b", "-count", "30", "-rate", "20", "-batch", "5", "-id-prefix", "x-"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// 30 documents at 20/s are paced over at least 1.5s minus one batch.
	if el := time.Since(start); el < 1250*time.Millisecond {
		t.Errorf("30 documents at 20/s took %s: not paced", el)
	}
	if !strings.Contains(out.String(), "produced 30 documents") || !strings.Contains(errb.String(), "loadgen: ") {
		t.Errorf("stdout %q, stderr %q: want the total and a progress line", out.String(), errb.String())
	}
	for _, topic := range []string{"a", "b"} {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
		r2 := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: 1, MaxWait: 100 * time.Millisecond})
		ids := map[string]bool{}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for len(ids) < 30 && ctx.Err() == nil {
			for _, rd := range []*kafka.Reader{r, r2} {
				rctx, rc := context.WithTimeout(ctx, 200*time.Millisecond)
				m, err := rd.ReadMessage(rctx)
				rc()
				if err != nil {
					continue
				}
				var doc struct {
					ID      string `json:"id"`
					Content struct {
						Text     string            `json:"text"`
						Expected map[string]string `json:"expected"`
					} `json:"content"`
				}
				if err := json.Unmarshal(m.Value, &doc); err != nil || string(m.Key) != doc.ID || doc.Content.Text == "" || doc.Content.Expected["language"] == "" {
					t.Fatalf("bad document %s (%v)", m.Value, err)
				}
				ids[doc.ID] = true
			}
		}
		cancel()
		r.Close()
		r2.Close()
		if len(ids) != 30 {
			t.Errorf("topic %s: %d distinct documents, want 30", topic, len(ids))
		}
	}
}

func TestRefusesUnboundedRun(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-count", "0"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "bound the run") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

// TestAwaitReportsLatency awaits the very topic it produces to: every
// document "comes out" there, so the run must report all of them.
func TestAwaitReportsLatency(t *testing.T) {
	brokers := stacktest.Kfake(t, 3)
	var out, errb bytes.Buffer
	// Create the topic first: the awaiter reads its partitions' ends.
	if code := run([]string{"-brokers", strings.Join(brokers, ","), "-topics", "echo", "-count", "1", "-rate", "0", "-id-prefix", "warm-"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	out.Reset()
	code := run([]string{"-brokers", strings.Join(brokers, ","), "-topics", "echo", "-count", "50", "-rate", "100", "-id-prefix", "aw-", "-await", "echo", "-duration", "30s"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "all 50 documents came out: latency p50 ") {
		t.Fatalf("stdout %q", out.String())
	}
}

// Without -batch, a paced run writes 10 ms of its rate at a time, so a
// latency measured at a rate is not that of bursts queueing behind each
// other.
func TestDefaultBatch(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		want int
	}{{0, 100}, {50, 1}, {100, 1}, {1000, 10}, {20000, 200}} {
		if got := defaultBatch(tc.rate); got != tc.want {
			t.Errorf("defaultBatch(%v) = %d, want %d", tc.rate, got, tc.want)
		}
	}
}

func TestHeaders(t *testing.T) {
	brokers := stacktest.Kfake(t, 1)
	var out, errb bytes.Buffer
	if code := run([]string{"-brokers", strings.Join(brokers, ","), "-topics", "h", "-count", "3", "-rate", "0",
		"-traceparent", "-header", "tributary.source=loadgen", "-header", "x=a=b"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: "h", Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	traces := map[string]bool{}
	for range 3 {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Headers) != 3 || m.Headers[0].Key != "traceparent" || m.Headers[1].Key != "tributary.source" ||
			string(m.Headers[1].Value) != "loadgen" || m.Headers[2].Key != "x" || string(m.Headers[2].Value) != "a=b" {
			t.Fatalf("headers %+v", m.Headers)
		}
		tp := string(m.Headers[0].Value)
		if len(tp) != 55 || !strings.HasPrefix(tp, "00-") || !strings.HasSuffix(tp, "-01") {
			t.Errorf("traceparent %q", tp)
		}
		traces[tp[3:35]] = true
	}
	if len(traces) != 3 {
		t.Errorf("%d distinct traces over 3 documents, want one each", len(traces))
	}
	if code := run([]string{"-count", "1", "-header", "novalue"}, &out, &errb); code != 2 {
		t.Errorf("-header without '=': exit %d, want 2", code)
	}
}

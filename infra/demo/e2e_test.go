package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/infra/demo"
	"github.com/tributary-etl/tributary/infra/loadgen/sample"
	"github.com/tributary-etl/tributary/shared/kafkax"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

const documents = 5000

// client logs in to the API `make up` started, or skips (fails under CI).
func client(t *testing.T) *demo.Client {
	t.Helper()
	base, pwFile := os.Getenv("TRIBUTARY_API_URL"), os.Getenv("TRIBUTARY_ADMIN_PASSWORD_FILE")
	pw, err := os.ReadFile(pwFile)
	if base == "" || err != nil {
		stacktest.Unavailable(t, "the API server (make up)", fmt.Errorf("TRIBUTARY_API_URL %q, admin password: %v", base, err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := demo.Login(ctx, base, os.Getenv("TRIBUTARY_ADMIN_EMAIL"), strings.TrimSpace(string(pw)))
	if err != nil {
		stacktest.Unavailable(t, "the API server (make up)", err)
	}
	return c
}

// enriched is what the test reads of an output document.
type enriched struct {
	ID      string `json:"id"`
	Content struct {
		Language string            `json:"language"`
		Summary  string            `json:"summary"`
		Expected map[string]string `json:"expected"`
		Enriched bool              `json:"enriched"`
	} `json:"content"`
}

// TestDemoPipelineEndToEnd deploys a private copy of the demo through the
// API, produces 5,000 documents at 1,000/s while scaling the
// language-detector to 2 instances, and checks every enriched document and
// one document's trace across the four stages.
func TestDemoPipelineEndToEnd(t *testing.T) {
	brokers := stacktest.Kafka(t)
	jaeger := stacktest.Jaeger(t)
	c := client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	repo, _ := filepath.Abs("../..")
	prefix := strings.ReplaceAll(stacktest.Name(t, "e2e"), "_", "-") + "-"
	o := demo.Options{Repo: repo, Prefix: prefix, Progress: testWriter{t}}

	cluster, err := demo.EnsureCluster(ctx, c, brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	versions, err := demo.RegisterFunctions(ctx, c, o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := demo.SavePipeline(ctx, c, prefix+"demo", demo.Graph(o, versions, cluster))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
		defer ccancel()
		c.Do(cctx, "POST", fmt.Sprintf("/api/v1/pipelines/%d/stop", p.ID), nil, nil)
		c.Do(cctx, "DELETE", fmt.Sprintf("/api/v1/pipelines/%d", p.ID), nil, nil)
	})
	if err := demo.DeployAndWait(ctx, c, p, o); err != nil {
		t.Fatal(err)
	}

	// Read the output from the start, before anything is produced.
	out := prefix + demo.TopicEnriched
	results := make(chan enriched, documents*4)
	arrived := sync.Map{} // id → time.Time of arrival
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	go consume(rctx, t, brokers, out, results, &arrived)
	w := kafkax.NewWriter(brokers, 2*time.Millisecond)
	defer w.Close()
	detector := p.WorkerIDs[prefix+"language-detector"]

	// 1. 5,000 documents at 250/s (20 s); a second in, scale the language-detector
	// to 2: its second instance joins the consumer group while documents
	// flow, and none may be lost.
	var scaledAt, healthyAt time.Duration
	phaseStart := time.Now()
	sent, expected := produce(t, ctx, w, prefix, 0, documents, 250, func(elapsed time.Duration) {
		if scaledAt == 0 && elapsed >= time.Second {
			scaledAt = elapsed
			go func() {
				if err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/workers/%d/scale", detector), map[string]int{"instances": 2}, nil); err != nil {
					t.Errorf("scale the language-detector to 2: %v", err)
				}
			}()
		}
		if healthyAt == 0 && scaledAt > 0 && healthy(ctx, c, detector) >= 2 {
			healthyAt = elapsed
		}
	})
	produced := time.Since(phaseStart)
	check(t, results, expected, out)
	if healthyAt == 0 {
		healthyAt = time.Since(phaseStart) // after the last document: say so below
	}
	if n := healthy(ctx, c, detector); n != 2 {
		t.Errorf("the language-detector has %d healthy instances after scaling to 2", n)
	}
	t.Logf("phase 1: %d documents at 250/s over %s; scaled at %s, second instance healthy at %s; all enriched, none lost or duplicated",
		documents, produced.Round(time.Millisecond), scaledAt.Round(time.Millisecond), healthyAt.Round(time.Millisecond))

	// 2. Latency: another 5,000 documents at 1,000/s through the four stages.
	sent2, expected2 := produce(t, ctx, w, prefix, documents, documents, 1000, nil)
	check(t, results, expected2, out)
	var lat []time.Duration
	for id, at := range sent2 {
		if v, ok := arrived.Load(id); ok {
			lat = append(lat, v.(time.Time).Sub(at))
		}
	}
	slices.Sort(lat)
	t.Logf("phase 2: end-to-end latency of %d documents at 1000/s (produce → enriched output read): p50 %s, p99 %s, max %s",
		len(lat), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	_ = sent

	checkTrace(t, ctx, c, jaeger, prefix, fmt.Sprintf("%sdoc-%d", prefix, 42))
}

// produce writes documents [from, from+n) at rate per second, calling tick
// (when not nil) between batches with the time elapsed; it returns when
// each was sent and its expected language.
func produce(t *testing.T, ctx context.Context, w *kafka.Writer, prefix string, from, n int, rate float64, tick func(time.Duration)) (map[string]time.Time, map[string]string) {
	t.Helper()
	sent, expected := map[string]time.Time{}, map[string]string{}
	start := time.Now()
	for i := from; i < from+n; i += 100 {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i-from) / rate * float64(time.Second)))))
		var msgs []kafka.Message
		for j := i; j < i+100; j++ {
			id := fmt.Sprintf("%sdoc-%d", prefix, j)
			doc := sample.Document(id, j)
			var d enriched
			json.Unmarshal(doc, &d)
			expected[id] = d.Content.Expected["language"]
			msgs = append(msgs, kafka.Message{Topic: prefix + demo.TopicRaw, Key: []byte(id), Value: doc})
			sent[id] = time.Now()
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
		if tick != nil {
			tick(time.Since(start))
		}
	}
	return sent, expected
}

// check reads results until every expected id arrived, then a few seconds
// more for duplicates, and fails on anything lost, duplicated, unexpected,
// with the wrong language or without a summary.
func check(t *testing.T, results <-chan enriched, expected map[string]string, topic string) {
	t.Helper()
	seen := map[string]int{}
	wrongLang, noSummary, unexpected := 0, 0, 0
	deadline := time.After(5 * time.Minute)
	settle := time.After(24 * time.Hour)
	for done := false; !done; {
		select {
		case d := <-results:
			if _, ok := expected[d.ID]; !ok {
				unexpected++
				continue
			}
			seen[d.ID]++
			if d.Content.Language != expected[d.ID] {
				wrongLang++
			}
			if strings.TrimSpace(d.Content.Summary) == "" || !d.Content.Enriched {
				noSummary++
			}
			if len(seen) == len(expected) && seen[d.ID] == 1 {
				settle = time.After(5 * time.Second) // anything in flight arrives by then
			}
		case <-settle:
			done = true
		case <-deadline:
			t.Fatalf("after 5 minutes %d of %d documents were enriched in %s", len(seen), len(expected), topic)
		}
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	if len(seen) != len(expected) || dups != 0 || wrongLang != 0 || noSummary != 0 || unexpected != 0 {
		t.Errorf("%d of %d documents enriched, %d duplicates, %d unexpected, %d with the wrong language, %d without a summary",
			len(seen), len(expected), dups, unexpected, wrongLang, noSummary)
	}
}

// healthy is the worker's healthy allocation count (0 on any error).
func healthy(ctx context.Context, c *demo.Client, id int64) int {
	var st demo.Status
	if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/workers/%d/status", id), nil, &st); err != nil {
		return 0
	}
	return st.Healthy
}

func consume(ctx context.Context, t *testing.T, brokers []string, topic string, out chan<- enriched, arrived *sync.Map) {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, GroupID: topic + "-checker",
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return
		}
		var d enriched
		if err := json.Unmarshal(m.Value, &d); err != nil {
			t.Errorf("not JSON in %s: %s", topic, m.Value)
			continue
		}
		arrived.LoadOrStore(d.ID, time.Now())
		out <- d
	}
}

// checkTrace finds the trace of document id through Jaeger's search by the
// join's id attribute, then reads it through the API: it must hold spans of
// all four stages, every parent in the trace, and the join span linked to
// both branches.
func checkTrace(t *testing.T, ctx context.Context, c *demo.Client, jaeger, prefix, id string) {
	t.Helper()
	q := url.Values{"service": {prefix + "enricher"}, "tags": {fmt.Sprintf(`{"tributary.join.id":%q}`, id)}, "limit": {"5"}, "lookback": {"1h"}}
	var found struct {
		Data []struct {
			TraceID string `json:"traceID"`
		} `json:"data"`
	}
	deadline := time.Now().Add(time.Minute)
	for len(found.Data) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Jaeger has no trace of %s", id)
		}
		resp, err := http.Get(jaeger + "/api/traces?" + q.Encode())
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&found)
			resp.Body.Close()
		}
		time.Sleep(time.Second)
	}
	type span struct {
		SpanID       string `json:"span_id"`
		ParentSpanID string `json:"parent_span_id"`
		Service      string `json:"service"`
		Operation    string `json:"operation"`
		Links        []struct {
			SpanID string `json:"span_id"`
		} `json:"links"`
		Attributes map[string]any `json:"attributes"`
	}
	var tr struct {
		Spans []span `json:"spans"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/traces/"+found.Data[0].TraceID, nil, &tr); err != nil {
		t.Fatal(err)
	}
	byID := map[string]span{}
	services := map[string]bool{}
	for _, s := range tr.Spans {
		byID[s.SpanID] = s
		services[strings.TrimPrefix(s.Service, prefix)] = true
	}
	for _, stage := range demo.Functions {
		if !services[stage] {
			t.Errorf("trace %s has no span of %s (services %v)", found.Data[0].TraceID, stage, services)
		}
	}
	for _, s := range tr.Spans {
		if s.ParentSpanID != "" {
			if _, ok := byID[s.ParentSpanID]; !ok {
				t.Errorf("span %s (%s %s) has a parent outside the trace", s.SpanID, s.Service, s.Operation)
			}
		}
	}
	// The join: linked to a span of each branch, or to a span descending from one.
	branchOf := func(spanID string) string {
		for s, ok := byID[spanID]; ok; s, ok = byID[s.ParentSpanID] {
			if b := strings.TrimPrefix(s.Service, prefix); b == "language-detector" || b == "summarizer" {
				return b
			}
		}
		return ""
	}
	joins := 0
	for _, s := range tr.Spans {
		if s.Operation != "join" || strings.TrimPrefix(s.Service, prefix) != "enricher" {
			continue
		}
		joins++
		branches := map[string]bool{}
		for _, l := range s.Links {
			branches[branchOf(l.SpanID)] = true
		}
		if !branches["language-detector"] || !branches["summarizer"] {
			t.Errorf("the enricher's join span links to branches %v, want both", branches)
		}
	}
	if joins != 1 {
		t.Errorf("%d join spans of the enricher in the trace, want 1", joins)
	}
	t.Logf("trace %s of %s: %d spans across %v", found.Data[0].TraceID, id, len(tr.Spans), services)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

package worker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// BenchmarkRuntime measures, in one run on the local stack, a worker process
// that passes messages through (one input topic, no join state) against the
// same worker joining 2 and 3 topics:
//
//   - frag/s: input messages consumed per second, with the whole backlog
//     produced before the worker starts (measured between 10% and 90% of it);
//   - out/s: outputs per second over the same span;
//   - p50/p99: latency from an id's last fragment produced to its output
//     received, at a steady 1,000 fragments/s;
//   - rss: the worker process's peak resident memory;
//   - redis B/agg: Redis memory per pending aggregate (joins only).
//
// It prints a table and reports the 2-topic join's message rate as a
// fraction of the passthrough's (join2/pass).
func BenchmarkRuntime(b *testing.B) {
	const fragments = 60000
	var rows []benchRow
	for _, topics := range []int{1, 2, 3} {
		rows = append(rows, benchScenario(b, topics, fragments))
	}
	fmt.Printf("\n%-12s %10s %10s %9s %9s %8s %12s\n", "scenario", "frag/s", "out/s", "p50 ms", "p99 ms", "rss MB", "redis B/agg")
	for _, r := range rows {
		redis := "-"
		if r.redisPerAgg > 0 {
			redis = fmt.Sprintf("%.0f", r.redisPerAgg)
		}
		fmt.Printf("%-12s %10.0f %10.0f %9.1f %9.1f %8.1f %12s\n", r.name, r.fragRate, r.outRate, r.p50, r.p99, r.rssMB, redis)
	}
	ratio := rows[1].fragRate / rows[0].fragRate
	fmt.Printf("2-topic join moves fragments at %.0f%% of the passthrough's rate; 3-topic join at %.0f%%\n\n",
		100*ratio, 100*rows[2].fragRate/rows[0].fragRate)
	b.ReportMetric(rows[0].fragRate, "pass-frag/s")
	b.ReportMetric(rows[1].fragRate, "join2-frag/s")
	b.ReportMetric(rows[2].fragRate, "join3-frag/s")
	b.ReportMetric(ratio, "join2/pass")
}

type benchRow struct {
	name              string
	fragRate, outRate float64
	p50, p99, rssMB   float64
	redisPerAgg       float64
}

func benchScenario(b *testing.B, nTopics, fragments int) benchRow {
	e := newEnv(b)
	name := "passthrough"
	if nTopics > 1 {
		name = fmt.Sprintf("join-%d", nTopics)
	}
	var in []string
	for i := 0; i < nTopics; i++ {
		in = append(in, e.topic(fmt.Sprintf("in%d", i)))
	}
	out := e.topic("out")
	e.createTopics(6, append(in, out)...)
	ids := fragments / nTopics
	pad := strings.Repeat("x", 120) // ~200-byte messages
	mk := func(id, t int) kafka.Message {
		return kafka.Message{Topic: in[t], Value: []byte(fmt.Sprintf(`{"id":"%d","content":{"t%d":"%s"}}`, id, t, pad))}
	}
	var msgs []kafka.Message
	for id := 0; id < ids; id++ {
		for t := range in {
			msgs = append(msgs, mk(id, t))
		}
	}
	e.produce(msgs, false)

	addr := fmt.Sprintf("127.0.0.1:%d", freePort(b))
	cmd := benchChild(b, "-worker", e.name+"-bench", "-topics-input", strings.Join(in, ","), "-topics-output", out,
		"-brokers", strings.Join(e.brokers, ","), "-redis", e.rdb.Options().Addr, "-http", addr,
		"-session-timeout", "6s", "-timeout", "10m")

	// Throughput: watch the consumed counter cross 10% and 90% of the backlog.
	lo, hi := float64(fragments)/10, float64(fragments)*9/10
	var tLo, tHi time.Time
	var outLo, outHi float64
	deadline := time.Now().Add(5 * time.Minute)
	for tHi.IsZero() {
		if time.Now().After(deadline) {
			b.Fatalf("%s: backlog not consumed within 5 minutes (consumed %v)", name, metric(addr, "tributary_consumed_total"))
		}
		c := metric(addr, "tributary_consumed_total")
		now := time.Now()
		if tLo.IsZero() && c >= lo {
			tLo, outLo = now, metric(addr, "tributary_emitted_total")
			lo = c
		}
		if !tLo.IsZero() && c >= hi {
			tHi, outHi = now, metric(addr, "tributary_emitted_total")
			hi = c
		}
		time.Sleep(20 * time.Millisecond) // sampling interval of the counters
	}
	secs := tHi.Sub(tLo).Seconds()
	row := benchRow{name: name, fragRate: (hi - lo) / secs, outRate: (outHi - outLo) / secs}
	waitFor(b, 2*time.Minute, "the backlog emitted", func() bool { return metric(addr, "tributary_emitted_total") >= float64(ids) })

	// Latency at a steady 1,000 fragments/s for 5 s.
	row.p50, row.p99 = benchLatency(b, e, in, out, ids, pad)

	if nTopics > 1 {
		row.redisPerAgg = benchRedisPerAggregate(b, e, in, addr, pad)
	}
	row.rssMB = peakRSS(b, cmd.Process.Pid)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	return row
}

func benchLatency(b *testing.B, e *env, in []string, out string, firstID int, pad string) (p50, p99 float64) {
	const ticksPerSec, seconds = 100, 5
	perTick := 1000 / ticksPerSec / len(in) // ids per tick: 1,000 fragments/s
	total := perTick * ticksPerSec * seconds
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The reader starts at the beginning and skips the backlog's outputs.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: e.brokers, GroupID: out + "-lat", GroupTopics: []string{out},
		StartOffset: kafka.FirstOffset, MaxWait: 10 * time.Millisecond, SessionTimeout: 6 * time.Second})
	defer r.Close()
	received := map[string]time.Time{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; n < total; {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				return
			}
			if id, _ := strconv.Atoi(string(m.Key)); id > firstID {
				received[string(m.Key)] = time.Now()
				n++
			}
		}
	}()

	w := &kafka.Writer{Addr: kafka.TCP(e.brokers...), RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	sent := map[string]time.Time{}
	tick := time.NewTicker(time.Second / ticksPerSec)
	defer tick.Stop()
	id := firstID + 1
	for i := 0; i < ticksPerSec*seconds; i++ {
		<-tick.C
		var msgs []kafka.Message
		var batch []string
		for j := 0; j < perTick; j++ {
			for t := range in {
				msgs = append(msgs, kafka.Message{Topic: in[t], Value: []byte(fmt.Sprintf(`{"id":"%d","content":{"t%d":"%s"}}`, id, t, pad))})
			}
			batch = append(batch, strconv.Itoa(id))
			id++
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			b.Fatalf("produce: %v", err)
		}
		now := time.Now() // every fragment of these ids is acknowledged
		for _, k := range batch {
			sent[k] = now
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("latency run: outputs missing after a minute")
	}
	if len(received) < total {
		b.Fatalf("latency run: %d of %d outputs received", len(received), total)
	}
	lat := make([]float64, 0, total)
	for k, t0 := range sent {
		lat = append(lat, float64(received[k].Sub(t0).Microseconds())/1000)
	}
	sort.Float64s(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100]
}

// benchRedisPerAggregate leaves 5,000 aggregates pending (one fragment each)
// and divides Redis's memory growth by their number.
func benchRedisPerAggregate(b *testing.B, e *env, in []string, addr, pad string) float64 {
	const n = 5000
	before := usedMemory(b, e)
	consumed := metric(addr, "tributary_consumed_total")
	var msgs []kafka.Message
	for i := 0; i < n; i++ {
		msgs = append(msgs, kafka.Message{Topic: in[0], Value: []byte(fmt.Sprintf(`{"id":"pending-%d","content":{"t0":"%s"}}`, i, pad))})
	}
	e.produce(msgs, false)
	waitFor(b, time.Minute, "the pending fragments consumed", func() bool { return metric(addr, "tributary_consumed_total") >= consumed+n })
	return float64(usedMemory(b, e)-before) / n
}

func usedMemory(b *testing.B, e *env) int64 {
	info, err := e.rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Fatal("no used_memory in INFO memory")
	return 0
}

// benchChild starts the benchmark's worker process (the test binary in
// worker mode, see TestMain) without the slow function of the crash test.
func benchChild(b *testing.B, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(childEnv(), "TRIBUTARY_TEST_CHILD=1", "TRIBUTARY_TEST_FAST=1", "TRIBUTARY_LOG_FORMAT=text")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// peakRSS is a process's peak resident set (VmHWM) in MB.
func peakRSS(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return -1
}

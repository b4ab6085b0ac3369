// Command loadgen produces sample documents to Kafka topics, at a steady
// rate, for demos, end-to-end tests and load runs. Each document is a JSON
// object {"id", "content": {"title", "text", "language"}} in one of several
// languages; with several topics, every document goes to each of them (a
// joining worker then sees every id once per topic).
//
//	loadgen -topics documents.raw -rate 100 -count 5000
//	loadgen -topics a,b -rate 1000 -duration 1m
//	loadgen -topics t -count 5 -traceparent -header tributary.source=loadgen
//
// A progress line goes to stderr every second.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/infra/loadgen/sample"
	"github.com/tributary-etl/tributary/shared/kafkax"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	brokers, topics, prefix, await string
	count                          int
	rate                           float64
	duration                       time.Duration
	batch                          int
	traceparent                    bool
	headers                        []kafka.Header
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{}
	brokersDefault := os.Getenv("TRIBUTARY_KAFKA_BROKERS")
	if brokersDefault == "" {
		brokersDefault = "127.0.0.1:9092"
	}
	fs.StringVar(&o.brokers, "brokers", brokersDefault, "comma-separated bootstrap servers [TRIBUTARY_KAFKA_BROKERS]")
	fs.StringVar(&o.topics, "topics", "documents.raw", "comma-separated topics; every document goes to each")
	fs.StringVar(&o.prefix, "id-prefix", "doc-"+time.Now().UTC().Format("150405")+"-", "prefix of document ids")
	fs.IntVar(&o.count, "count", 1000, "documents to produce; 0 means no limit (use -duration)")
	fs.Float64Var(&o.rate, "rate", 100, "documents per second; 0 means as fast as possible")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long; 0 means no limit (use -count)")
	fs.IntVar(&o.batch, "batch", 0, "documents per write (default: with -rate, what 10 ms of the rate holds, at least 1, so the load is steady rather than bursts; without, 100)")
	fs.BoolVar(&o.traceparent, "traceparent", false, "give each document a W3C traceparent header of a trace of its own, as an instrumented producer would")
	fs.Func("header", "key=value: a header every document carries (repeat for more)", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return errors.New("want key=value")
		}
		o.headers = append(o.headers, kafka.Header{Key: k, Value: []byte(val)})
		return nil
	})
	fs.StringVar(&o.await, "await", "", "then wait for every document to come out on this topic (e.g. documents.enriched) and print the latencies")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: loadgen [flags]\n\nProduces sample documents in several languages to Kafka.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.batch == 0 {
		o.batch = defaultBatch(o.rate)
	}
	if o.count < 0 || o.rate < 0 || o.batch < 1 || (o.count == 0 && o.duration == 0) {
		fmt.Fprintln(stderr, "loadgen: -count and -rate must not be negative, -batch at least 1, and -count or -duration must bound the run")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	var aw *awaiter
	if o.await != "" {
		var err error
		if aw, err = newAwaiter(ctx, strings.Split(o.brokers, ","), o.await, o.prefix); err != nil {
			fmt.Fprintf(stderr, "loadgen: -await %s: %v\n", o.await, err)
			return 1
		}
		defer aw.close()
	}
	n, err := produce(ctx, o, aw, stderr)
	fmt.Fprintf(stdout, "produced %d documents to %s\n", n, o.topics)
	if aw != nil && err == nil {
		if err := aw.wait(ctx, n, stdout); err != nil {
			fmt.Fprintf(stderr, "loadgen: %v\n", err)
			return 1
		}
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 1
	}
	return 0
}

func produce(ctx context.Context, o options, aw *awaiter, progress io.Writer) (int, error) {
	w := kafkax.NewWriter(strings.Split(o.brokers, ","), 5*time.Millisecond)
	defer w.Close()
	topics := strings.Split(o.topics, ",")
	start, lastReport := time.Now(), time.Now()
	sent := 0
	for o.count == 0 || sent < o.count {
		n := o.batch
		if o.count > 0 {
			n = min(n, o.count-sent)
		}
		if o.rate > 0 { // wait until the schedule allows this batch
			due := start.Add(time.Duration(float64(sent+n) / o.rate * float64(time.Second)))
			select {
			case <-ctx.Done():
				return sent, ctx.Err()
			case <-time.After(time.Until(due)):
			}
		}
		msgs := make([]kafka.Message, 0, n*len(topics))
		for i := range n {
			id := fmt.Sprintf("%s%d", o.prefix, sent+i)
			doc := sample.Document(id, sent+i)
			hs := o.headers
			if o.traceparent {
				hs = append([]kafka.Header{{Key: "traceparent", Value: []byte(newTraceparent())}}, hs...)
			}
			for _, t := range topics {
				msgs = append(msgs, kafka.Message{Topic: t, Key: []byte(id), Value: doc, Headers: hs})
			}
		}
		if aw != nil {
			aw.sent(time.Now(), n)
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return sent, err
		}
		sent += n
		if time.Since(lastReport) >= time.Second {
			lastReport = time.Now()
			fmt.Fprintf(progress, "loadgen: %d documents in %s (%.0f/s)\n", sent, time.Since(start).Round(time.Second), float64(sent)/time.Since(start).Seconds())
		}
	}
	return sent, nil
}

// defaultBatch is the documents per write when -batch is not given: at a
// rate, what 10 ms of it holds (at least 1), so that a latency measured at
// "50/s" is one document every 20 ms, not 100 every 2 s queueing behind each
// other; without a rate, 100.
func defaultBatch(rate float64) int {
	if rate <= 0 {
		return 100
	}
	return max(1, int(rate/100))
}

// newTraceparent is a sampled W3C traceparent of a new trace: version 00,
// random trace and span ids.
func newTraceparent() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}

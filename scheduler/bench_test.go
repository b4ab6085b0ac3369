package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// Benchmarks of how long the local Nomad agent takes to make a worker
// healthy. Each b.N iteration runs benchCycles cycles; the medians are
// reported as metrics and every timing is printed as a table:
//
//	go test -run '^$' -bench . -benchtime 1x ./scheduler

const benchCycles = 5

// benchScheduler is newScheduler for benchmarks.
func benchScheduler(b *testing.B) *scheduler.Scheduler {
	b.Helper()
	client, err := api.NewClient(&api.Config{Address: stacktest.Nomad(b)})
	if err != nil {
		b.Fatal(err)
	}
	s, err := scheduler.New(client, filepath.Join(repoRoot, "jobs", "worker.nomad.hcl"))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchSpec returns the spec of a new worker reading topic in, and purges
// its job when the benchmark ends (a cycle normally purges it first).
func benchSpec(b *testing.B, s *scheduler.Scheduler, in string) scheduler.WorkerSpec {
	b.Helper()
	brokers := stacktest.Kafka(b)
	worker := strings.ReplaceAll(stacktest.Name(b, "b"), "_", "-")
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Stop(ctx, worker, true); err != nil {
			b.Errorf("purge worker %s: %v", worker, err)
		}
	})
	forgetJoinState(b, worker)
	return scheduler.WorkerSpec{
		Worker:          worker,
		ArtifactURL:     artifact.url,
		ArtifactSHA256:  artifact.sha256,
		FunctionName:    "template",
		FunctionVersion: "bench",
		MinHealthyTime:  time.Second,
		Env: map[string]string{
			"TRIBUTARY_TOPICS_INPUT":  in,
			"TRIBUTARY_KAFKA_BROKERS": strings.Join(brokers, ","),
			"TRIBUTARY_REDIS_ADDR":    stacktest.RedisAddr(),
			"TRIBUTARY_LOG_FORMAT":    "text",
		},
	}
}

// BenchmarkDeployToHealthy times Deploy of a new worker until its one
// allocation is running and healthy; each cycle then purges the job.
func BenchmarkDeployToHealthy(b *testing.B) {
	s := benchScheduler(b)
	in := topics(b, 6, stacktest.Name(b, "in"))[0]
	var times []time.Duration
	for range b.N {
		for range benchCycles {
			spec := benchSpec(b, s, in)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			start := time.Now()
			if _, err := s.Deploy(ctx, spec); err != nil {
				b.Fatalf("Deploy: %v", err)
			}
			if st, err := s.WaitHealthy(ctx, spec.Worker, 1); err != nil {
				b.Fatalf("WaitHealthy(1): %v\nstatus: %+v", err, st)
			}
			times = append(times, time.Since(start))
			if err := s.Stop(ctx, spec.Worker, true); err != nil {
				b.Fatalf("Stop: %v", err)
			}
			cancel()
		}
	}
	report(b, "deploy → 1 healthy", "s/deploy-median", times)
}

// BenchmarkScaleToHealthy times Scale of a running worker from 1 to 3
// until three allocations are running and healthy. Between cycles it scales
// back to 1 and waits, untimed, for the job to settle.
func BenchmarkScaleToHealthy(b *testing.B) {
	s := benchScheduler(b)
	in := topics(b, 6, stacktest.Name(b, "in"))[0]
	spec := benchSpec(b, s, in)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := s.Deploy(ctx, spec); err != nil {
		b.Fatalf("Deploy: %v", err)
	}
	if st, err := s.WaitHealthy(ctx, spec.Worker, 1); err != nil {
		b.Fatalf("WaitHealthy(1): %v\nstatus: %+v", err, st)
	}
	var times []time.Duration
	for range b.N {
		for range benchCycles {
			settle(b, ctx, s, spec.Worker, 1)
			start := time.Now()
			if err := s.Scale(ctx, spec.Worker, 3, "bench: scale up"); err != nil {
				b.Fatalf("Scale to 3: %v", err)
			}
			if st, err := s.WaitHealthy(ctx, spec.Worker, 3); err != nil {
				b.Fatalf("WaitHealthy(3): %v\nstatus: %+v", err, st)
			}
			times = append(times, time.Since(start))
			if err := s.Scale(ctx, spec.Worker, 1, "bench: scale down"); err != nil {
				b.Fatalf("Scale to 1: %v", err)
			}
		}
	}
	report(b, "scale 1 → 3 healthy", "s/scale-median", times)
}

// settle waits until no deployment of the worker is active and exactly n
// allocations are meant to run and running, so that a timed Scale neither
// waits out the previous cycle's deployment nor counts its allocations.
func settle(b *testing.B, ctx context.Context, s *scheduler.Scheduler, worker string, n int) {
	b.Helper()
	for {
		st, err := s.Status(ctx, worker)
		if err != nil {
			b.Fatalf("Status: %v", err)
		}
		running, stopping := 0, 0
		for _, a := range st.Allocations {
			switch {
			case a.DesiredStatus == api.AllocDesiredStatusRun && a.ClientStatus == api.AllocClientStatusRunning:
				running++
			case a.ClientStatus == api.AllocClientStatusRunning || a.ClientStatus == api.AllocClientStatusPending:
				stopping++
			}
		}
		idle := st.Deployment == nil || st.Deployment.Status != api.DeploymentStatusRunning
		if idle && running == n && stopping == 0 {
			return
		}
		select {
		case <-ctx.Done():
			b.Fatalf("worker %s never settled at %d allocations: %+v", worker, n, st)
		case <-time.After(250 * time.Millisecond): // poll interval; ctx bounds the wait
		}
	}
}

// report prints the timings as a table and reports their median as metric
// unit, in seconds.
func report(b *testing.B, what, unit string, times []time.Duration) {
	b.Helper()
	if len(times) == 0 {
		return
	}
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	median := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		median = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	runs := make([]string, len(times))
	for i, d := range times {
		runs[i] = fmt.Sprintf("%.2f", d.Seconds())
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "%s\truns\tmedian s\tmin s\tmax s\t\n", what)
	fmt.Fprintf(w, "\t%d\t%.2f\t%.2f\t%.2f\t\n", len(times), median.Seconds(), sorted[0].Seconds(), sorted[len(sorted)-1].Seconds())
	w.Flush()
	fmt.Printf("  each run (s): %s\n", strings.Join(runs, " "))
	b.ReportMetric(median.Seconds(), unit)
	b.ReportMetric(sorted[0].Seconds(), strings.Replace(unit, "median", "min", 1))
	b.ReportMetric(sorted[len(sorted)-1].Seconds(), strings.Replace(unit, "median", "max", 1))
	b.ReportMetric(0, "ns/op") // one op is benchCycles cycles: the medians say more
}

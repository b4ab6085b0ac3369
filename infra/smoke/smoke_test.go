package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestMySQL(t *testing.T) {
	db, _ := stacktest.MySQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE TABLE smoke (id INT PRIMARY KEY, name VARCHAR(32))"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO smoke VALUES (?, ?)", 7, "seven"); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db.QueryRowContext(ctx, "SELECT name FROM smoke WHERE id = ?", 7).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != "seven" {
		t.Fatalf("read back %q, want %q", name, "seven")
	}
}

func TestRedis(t *testing.T) {
	rdb, prefix := stacktest.Redis(t)
	ctx := context.Background()
	key := prefix + ":smoke"
	if err := rdb.HSet(ctx, key, "a", "1", "b", "2").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Expire(ctx, key, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := rdb.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != "1" || got["b"] != "2" || len(got) != 2 {
		t.Fatalf("HGETALL = %v, want a=1 b=2", got)
	}
	if ttl := rdb.TTL(ctx, key).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL = %v, want within (0, 1m]", ttl)
	}
}

func TestKafkaProduceConsumeThroughGroup(t *testing.T) {
	brokers := stacktest.Kafka(t)
	topic := stacktest.Name(t, "smoke")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	w := &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Topic:                  topic,
		RequiredAcks:           kafka.RequireAll,
		AllowAutoTopicCreation: true,
		BatchTimeout:           5 * time.Millisecond,
	}
	defer w.Close()
	const n = 100
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf(`{"id":%d}`, i))}
	}
	// The first write may race the topic's auto-creation; retry until the
	// deadline rather than sleeping.
	for {
		err := w.WriteMessages(ctx, msgs...)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("produce: %v", err)
		}
	}

	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        brokers,
		GroupID:        topic + "-group",
		GroupTopics:    []string{topic},
		StartOffset:    kafka.FirstOffset,
		MaxWait:        100 * time.Millisecond,
		SessionTimeout: 6 * time.Second,
	})
	defer r.Close()
	seen := map[string]bool{}
	for len(seen) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("consume after %d of %d: %v", len(seen), n, err)
		}
		seen[string(m.Key)] = true
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	if len(seen) != n {
		t.Fatalf("consumed %d distinct keys, want %d", len(seen), n)
	}
}

func TestNomadRawExecJobRunsToCompletion(t *testing.T) {
	addr := stacktest.Nomad(t)
	client, err := nomad.NewClient(&nomad.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	id := strings.ReplaceAll(stacktest.Name(t, "smoke"), "_", "-")
	job := nomad.NewBatchJob(id, id, "global", 50)
	job.Datacenters = []string{"*"}
	task := nomad.NewTask("echo", "raw_exec").
		SetConfig("command", "/bin/sh").
		SetConfig("args", []string{"-c", "echo tributary-smoke"})
	group := nomad.NewTaskGroup("g", 1).AddTask(task)
	group.RestartPolicy = &nomad.RestartPolicy{Attempts: pointer(0), Mode: pointer("fail")}
	group.ReschedulePolicy = &nomad.ReschedulePolicy{Attempts: pointer(0), Unlimited: pointer(false)}
	job.AddTaskGroup(group)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	t.Cleanup(func() {
		_, _, _ = client.Jobs().Deregister(id, true, nil)
	})
	if _, _, err := client.Jobs().Register(job, (&nomad.WriteOptions{}).WithContext(ctx)); err != nil {
		t.Fatalf("register: %v", err)
	}

	// Watch the job's allocations with blocking queries until one finishes.
	var index uint64
	for {
		q := (&nomad.QueryOptions{WaitIndex: index, WaitTime: 10 * time.Second}).WithContext(ctx)
		allocs, meta, err := client.Jobs().Allocations(id, true, q)
		if err != nil {
			t.Fatalf("allocations: %v", err)
		}
		index = meta.LastIndex
		for _, a := range allocs {
			switch a.ClientStatus {
			case nomad.AllocClientStatusComplete:
				return
			case nomad.AllocClientStatusFailed, nomad.AllocClientStatusLost:
				t.Fatalf("allocation %s %s: %s", a.ID, a.ClientStatus, describeEvents(a))
			}
		}
	}
}

func describeEvents(a *nomad.AllocationListStub) string {
	var b strings.Builder
	for task, st := range a.TaskStates {
		for _, e := range st.Events {
			fmt.Fprintf(&b, "[%s] %s: %s; ", task, e.Type, e.DisplayMessage)
		}
	}
	return b.String()
}

func pointer[T any](v T) *T { return &v }

func TestJaegerReceivesOTLPSpan(t *testing.T) {
	query := stacktest.Jaeger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(stacktest.OTLPEndpoint()+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	service := stacktest.Name(t, "smoke")
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))),
	)
	_, span := tp.Tracer("smoke").Start(ctx, "smoke-span")
	span.SetAttributes(attribute.String("tributary.smoke", "yes"))
	span.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("export span: %v", err)
	}
	traceID := span.SpanContext().TraceID().String()

	// Jaeger stores spans asynchronously (its batch processor); poll the
	// query API until the trace is there.
	url := query + "/api/traces/" + traceID
	for {
		got, err := fetchTrace(ctx, url)
		if err == nil {
			if got.service != service || got.operation != "smoke-span" {
				t.Fatalf("trace %s: service %q operation %q, want %q %q", traceID, got.service, got.operation, service, "smoke-span")
			}
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("trace %s never appeared in Jaeger: %v", traceID, err)
		}
		time.Sleep(200 * time.Millisecond) // poll interval, bounded by ctx
	}
}

type traceSummary struct{ service, operation string }

func fetchTrace(ctx context.Context, url string) (traceSummary, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return traceSummary{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return traceSummary{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return traceSummary{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var body struct {
		Data []struct {
			Spans []struct {
				OperationName string `json:"operationName"`
				ProcessID     string `json:"processID"`
			} `json:"spans"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
			} `json:"processes"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return traceSummary{}, err
	}
	if len(body.Data) == 0 || len(body.Data[0].Spans) == 0 {
		return traceSummary{}, fmt.Errorf("no spans yet")
	}
	s := body.Data[0].Spans[0]
	return traceSummary{service: body.Data[0].Processes[s.ProcessID].ServiceName, operation: s.OperationName}, nil
}

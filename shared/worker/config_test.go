package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestLoadReadsTheWorkersRow(t *testing.T) {
	db, _ := stacktest.MySQL(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, Schema); err != nil {
		t.Fatal(err)
	}
	_, err := db.ExecContext(ctx, `INSERT INTO consumer_configs
	  (consumer_name, topics_input, topics_output, kafka_bootstrap_server, metadatas, timeout_seconds, expiry_topic,
	   tombstone_ttl_seconds)
	  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		"enricher", `["documents.lang","documents.summary"]`, `["documents.enriched"]`, "127.0.0.1:9092, 127.0.0.2:9092",
		`{"threshold":0.5}`, 60, "documents.expired", 600)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(ctx, db, "enricher")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.TopicsInput, ",") != "documents.lang,documents.summary" ||
		strings.Join(cfg.TopicsOutput, ",") != "documents.enriched" ||
		strings.Join(cfg.Brokers, ",") != "127.0.0.1:9092,127.0.0.2:9092" ||
		string(cfg.Metadata) != `{"threshold": 0.5}` && string(cfg.Metadata) != `{"threshold":0.5}` ||
		cfg.Timeout != time.Minute || cfg.ExpiryTopic != "documents.expired" || cfg.JoinKey != "id" ||
		cfg.TombstoneTTL != 10*time.Minute {
		t.Fatalf("Load = %+v", cfg)
	}
	if _, err := Load(ctx, db, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load of a missing worker: %v, want ErrNotFound", err)
	}
}

func TestValidateNamesTheBadField(t *testing.T) {
	good := func() Config {
		return Config{ConsumerName: "w", TopicsInput: []string{"a", "b"}, Brokers: []string{"k:9092"}, RedisAddr: "r:6379"}
	}
	tests := []struct {
		name   string
		change func(*Config)
		field  string
	}{
		{"no name", func(c *Config) { c.ConsumerName = "" }, "consumer_name"},
		{"bad name", func(c *Config) { c.ConsumerName = "a b" }, "consumer_name"},
		{"no inputs", func(c *Config) { c.TopicsInput = nil }, "topics_input"},
		{"bad input topic", func(c *Config) { c.TopicsInput = []string{"ok", "no/slash"} }, "topics_input"},
		{"input twice", func(c *Config) { c.TopicsInput = []string{"a", "a"} }, "topics_input"},
		{"output is an input", func(c *Config) { c.TopicsOutput = []string{"a"} }, "topics_output"},
		{"dot topic", func(c *Config) { c.TopicsOutput = []string{".."} }, "topics_output"},
		{"no brokers", func(c *Config) { c.Brokers = nil }, "kafka_bootstrap_server"},
		{"bad metadata", func(c *Config) { c.Metadata = []byte(`{"a":`) }, "metadatas"},
		{"timeout too short", func(c *Config) { c.Timeout = time.Millisecond }, "timeout"},
		{"join without redis", func(c *Config) { c.RedisAddr = "" }, "redis"},
		{"bad expiry topic", func(c *Config) { c.ExpiryTopic = "x y" }, "expiry_topic"},
		{"tombstones shorter than claims", func(c *Config) { c.TombstoneTTL = 30 * time.Second }, "tombstone_ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.change(&c)
			var fe *FieldError
			if err := c.Validate(); !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Validate() = %v, want a FieldError on %s", err, tt.field)
			}
		})
	}
	c := good()
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	if c.Timeout != DefaultTimeout || c.JoinKey != "id" || c.DeadLetter != "w.dlq" || c.BatchSize != DefaultBatchSize {
		t.Fatalf("defaults not filled: %+v", c)
	}
}

// A missing or invalid configuration exits with code 2 and a message naming
// what is wrong.
func TestMainRefusesBadConfiguration(t *testing.T) {
	db, dsn := stacktest.MySQL(t)
	if _, err := db.Exec(Schema); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no worker", nil, "-worker (TRIBUTARY_WORKER) is required"},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"not in the database", []string{"-worker", "ghost", "-mysql-dsn", dsn}, `consumer_name \"ghost\": worker config not found`},
		{"no inputs", []string{"-worker", "w", "-brokers", "127.0.0.1:9092"}, "topics_input: needs at least one topic"},
		{"bad metadata", []string{"-worker", "w", "-topics-input", "a", "-brokers", "k:1", "-metadata", "{"}, "metadata: is not valid JSON"},
		{"tombstone TTL too short", []string{"-worker", "w", "-topics-input", "a", "-brokers", "k:1", "-tombstone-ttl", "1s"}, "tombstone_ttl: must be at least the claim timeout (1m0s)"},
	}
	// Only the flags configure these runs, not the stack's environment.
	for _, k := range []string{"TRIBUTARY_MYSQL_DSN", "TRIBUTARY_KAFKA_BROKERS", "TRIBUTARY_REDIS_ADDR", "TRIBUTARY_WORKER",
		"TRIBUTARY_TOPICS_INPUT", "TRIBUTARY_METADATA", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		t.Setenv(k, "")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := Main("test", passthrough, tt.args, &out)
			if code != 2 || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("Main(%v) = %d, output %q; want 2 and %q", tt.args, code, out.String(), tt.want)
			}
		})
	}
}

// TestInitSeesTheWorkersEnv: Init's context carries the worker's name,
// instance and logger (the Python runtime takes its consumer_name and log
// from there); an Init error exits 2 before anything is consumed.
func TestInitSeesTheWorkersEnv(t *testing.T) {
	t.Setenv("TRIBUTARY_MYSQL_DSN", "") // make test exports the stack's; the flags configure this worker
	var got Env
	var ok bool
	f := Function{
		Init: func(ctx context.Context, _ json.RawMessage) error {
			got, ok = InitEnv(ctx)
			if ok {
				got.Log.Info("hello from init")
			}
			return errors.New("stop here")
		},
		Process: func(context.Context, Input) ([]Record, error) { return nil, nil },
	}
	var stderr bytes.Buffer
	code := Main("env-test", f, []string{"-worker", "e2e-env", "-instance", "i-1", "-topics-input", "in",
		"-topics-output", "out", "-brokers", "127.0.0.1:1"}, &stderr)
	if code != 2 || !ok || got.ConsumerName != "e2e-env" || got.Instance != "i-1" {
		t.Fatalf("exit %d, env %+v (ok %v); want 2 and the worker's name and instance\n%s", code, got, ok, stderr.String())
	}
	if !strings.Contains(stderr.String(), `"msg":"hello from init"`) || !strings.Contains(stderr.String(), `"worker":"e2e-env"`) {
		t.Errorf("Init's log line is not the worker's:\n%s", stderr.String())
	}
	if _, ok := InitEnv(context.Background()); ok {
		t.Error("InitEnv found an env outside Init")
	}
}

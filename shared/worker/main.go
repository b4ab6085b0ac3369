package worker

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql" // the database/sql driver of the config store
	"github.com/redis/go-redis/v9"

	"github.com/tributary-etl/tributary/shared/telemetry"
)

// Main runs a function binary: it reads the worker's configuration (flags and
// environment, and the consumer_configs row in MySQL when a DSN is given),
// starts tracing, /metrics and /healthz, and runs the worker until SIGINT or
// SIGTERM. It returns the process exit code: 0 after a clean stop, 1 when
// the worker failed, 2 when the configuration is missing or invalid,
// including metadata the function's Init refuses. With -describe it prints
// the function's description (see Describe) to stdout and exits.
func Main(function string, f Function, args []string, stderr io.Writer) int {
	opts, err := parseFlags(function, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", function, err)
		return 2
	}
	if opts.describe {
		d, err := Describe(function, f)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", function, err)
			return 1
		}
		if _, err := fmt.Fprintf(os.Stdout, "%s\n", d); err != nil {
			return 1
		}
		return 0
	}
	log := newLogger(opts.logFormat, stderr).With("function", function)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := opts.config(ctx)
	if err != nil {
		log.Error("invalid configuration", "err", err)
		return 2
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if err := cfg.Validate(); err != nil {
		log.Error("invalid configuration", "worker", cfg.ConsumerName, "err", err)
		return 2
	}

	var rdb redis.UniversalClient
	if cfg.RedisAddr != "" {
		rdb, err = NewRedisClient(cfg.RedisAddr)
		if err != nil {
			log.Error("invalid configuration", "field", "redis", "err", err)
			return 2
		}
		defer rdb.Close()
	}
	tr, err := telemetry.SetupTracing(ctx, cfg.OTLPEndpoint, cfg.ConsumerName, cfg.Version, cfg.Instance)
	if err != nil {
		log.Error("tracing", "err", err)
		return 1
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tr.Shutdown(sctx); err != nil {
			log.Warn("flush traces", "err", err)
		}
	}()

	w, err := New(cfg, f, rdb, tr.Provider, log)
	if err != nil {
		log.Error("invalid configuration", "err", err)
		return 2
	}
	addr, err := w.ServeHTTP(ctx, cfg.HTTPAddr)
	if err != nil {
		log.Error("listen for /metrics and /healthz", "addr", cfg.HTTPAddr, "err", err)
		return 1
	}
	log.Info("serving /metrics and /healthz", "addr", addr)
	if err := w.Run(ctx); err != nil {
		var ie *InitError
		if errors.As(err, &ie) {
			args := []any{"worker", cfg.ConsumerName, "err", ie.Err}
			var fe *FieldError
			if errors.As(ie.Err, &fe) {
				args = append(args, "field", fe.Field)
			}
			log.Error("invalid metadata: the function's init refused it", args...)
			return 2
		}
		log.Error("worker failed", "err", err)
		return 1
	}
	return 0
}

// Description is what -describe prints: what the API server needs to know
// of a function binary without running it as a worker.
type Description struct {
	Function       string          `json:"function"`
	Batch          bool            `json:"batch"`                     // it has ProcessBatch
	MetadataSchema json.RawMessage `json:"metadata_schema,omitempty"` // JSON Schema of its metadata
}

// Describe is the JSON of a function's Description; it fails only when
// the function's MetadataSchema is not valid JSON.
func Describe(function string, f Function) ([]byte, error) {
	if len(f.MetadataSchema) > 0 && !json.Valid(f.MetadataSchema) {
		return nil, errors.New("the function's MetadataSchema is not valid JSON")
	}
	return json.Marshal(Description{Function: function, Batch: f.ProcessBatch != nil, MetadataSchema: f.MetadataSchema})
}

// flags holds what the command line and environment say.
type flags struct {
	worker, dsn                           string
	topicsIn, topicsOut, brokers          string
	metadata, joinKey, expiry, deadLetter string
	timeout                               time.Duration
	redis, otlp, http, instance, version  string
	logFormat                             string
	describe                              bool
	batchSize, maxInFlight                int
	batchLinger, fetchWait, produceLinger time.Duration
	commitInterval                        time.Duration
	claimTimeout, sessionTimeout          time.Duration
	tombstoneTTL                          time.Duration
	sweepInterval                         time.Duration
}

func parseFlags(function string, args []string, stderr io.Writer) (*flags, error) {
	fs := flag.NewFlagSet(function, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: %s [flags]

Runs the %q function as a Tributary worker: consumes the worker's input
topics, joins messages by id, calls the function, publishes the results.
The worker's configuration is read from MySQL (consumer_configs, by name)
when a DSN is given; flags override it, or replace it without a DSN.
Every flag can also be set by the environment variable in brackets.

Flags:
`, function, function)
		fs.PrintDefaults()
	}
	o := &flags{}
	str := func(p *string, name, env, def, usage string) {
		if v := os.Getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" ["+env+"]")
	}
	str(&o.worker, "worker", "TRIBUTARY_WORKER", "", "the worker's consumer_name (required)")
	str(&o.dsn, "mysql-dsn", "TRIBUTARY_MYSQL_DSN", "", "MySQL DSN of the config store; empty: configure by flags only")
	str(&o.topicsIn, "topics-input", "TRIBUTARY_TOPICS_INPUT", "", "comma-separated input topics")
	str(&o.topicsOut, "topics-output", "TRIBUTARY_TOPICS_OUTPUT", "", "comma-separated output topics")
	str(&o.brokers, "brokers", "TRIBUTARY_KAFKA_BROKERS", "", "comma-separated Kafka bootstrap servers")
	str(&o.metadata, "metadata", "TRIBUTARY_METADATA", "", "JSON metadata handed to the function")
	str(&o.joinKey, "join-key", "TRIBUTARY_JOIN_KEY", "", "the field that joins messages (default id)")
	str(&o.expiry, "expiry-topic", "TRIBUTARY_EXPIRY_TOPIC", "", "topic for incomplete joins that expired")
	str(&o.deadLetter, "dead-letter-topic", "TRIBUTARY_DEAD_LETTER_TOPIC", "", "dead-letter topic (default <worker>.dlq)")
	str(&o.redis, "redis", "TRIBUTARY_REDIS_ADDR", "", "Redis for join state and heartbeats: host:port, a comma-separated list of Redis Cluster nodes, or a redis:// URL")
	str(&o.otlp, "otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/HTTP endpoint for traces; empty: tracing off")
	str(&o.http, "http", "TRIBUTARY_HTTP_ADDR", "127.0.0.1:0", "address of /metrics and /healthz")
	str(&o.instance, "instance", "NOMAD_ALLOC_ID", "", "this instance's id (default host-pid)")
	str(&o.version, "function-version", "TRIBUTARY_FUNCTION_VERSION", "", "the function's version, reported in heartbeats and traces")
	str(&o.logFormat, "log-format", "TRIBUTARY_LOG_FORMAT", "json", "json or text")
	timeout := time.Duration(0)
	if v := os.Getenv("TRIBUTARY_TIMEOUT"); v != "" {
		d, err := parseSeconds(v)
		if err != nil {
			return nil, fmt.Errorf("TRIBUTARY_TIMEOUT: %w", err)
		}
		timeout = d
	}
	fs.DurationVar(&o.timeout, "timeout", timeout, "how long an incomplete join waits (default 240s) [TRIBUTARY_TIMEOUT]")
	fs.IntVar(&o.batchSize, "batch-size", 0, "most messages per batch (default 500)")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 0, "batches between Redis and their last acknowledgement by Kafka (default 8)")
	fs.DurationVar(&o.batchLinger, "batch-linger", 0, "how long a batch waits to fill beyond the messages already fetched (default 0: a loaded worker batches anyway, while the previous batch is in Redis)")
	fs.DurationVar(&o.fetchWait, "fetch-wait", 0, "how long the broker may hold a fetch with no data; data ends it at once (default 500ms)")
	fs.DurationVar(&o.commitInterval, "commit-interval", 0, "least time between two offset commits; after a crash about this much is read again (default 100ms)")
	fs.DurationVar(&o.produceLinger, "produce-linger", 0, "how long a produce request waits to fill: the latency a stage adds when lightly loaded (default 1ms)")
	fs.DurationVar(&o.claimTimeout, "claim-timeout", 0, "a completed join not confirmed by then is emitted again by any instance (default 60s)")
	fs.DurationVar(&o.tombstoneTTL, "tombstone-ttl", 0, "how long a completed id turns redelivered fragments into duplicates to drop; Redis keeps one small key per id for this long (default 1h)")
	fs.DurationVar(&o.sessionTimeout, "session-timeout", 0, "Kafka consumer-group session timeout (default 10s)")
	fs.DurationVar(&o.sweepInterval, "sweep-interval", 0, "how often expired and unconfirmed joins are swept (default 1s)")
	fs.BoolVar(&o.describe, "describe", false, "print the function's description (its name and the JSON Schema of its metadata) as JSON, and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	}
	if o.describe {
		return o, nil
	}
	if o.worker == "" {
		return nil, errors.New("-worker (TRIBUTARY_WORKER) is required: the consumer_name of the worker to run")
	}
	if o.logFormat != "json" && o.logFormat != "text" {
		return nil, fmt.Errorf("-log-format %q: must be json or text", o.logFormat)
	}
	return o, nil
}

// parseSeconds accepts "240" (seconds) or a Go duration ("4m").
func parseSeconds(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

// config builds the Config: the database row first (when a DSN is given),
// then every flag that was set.
func (o *flags) config(ctx context.Context) (Config, error) {
	cfg := Config{ConsumerName: o.worker}
	if o.dsn != "" {
		db, err := sql.Open("mysql", o.dsn)
		if err != nil {
			return cfg, fmt.Errorf("mysql dsn: %w", err)
		}
		defer db.Close()
		lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if cfg, err = Load(lctx, db, o.worker); err != nil {
			return cfg, err
		}
	}
	if o.topicsIn != "" {
		cfg.TopicsInput = SplitList(o.topicsIn)
	}
	if o.topicsOut != "" {
		cfg.TopicsOutput = SplitList(o.topicsOut)
	}
	if o.brokers != "" {
		cfg.Brokers = SplitList(o.brokers)
	}
	if o.metadata != "" {
		if !json.Valid([]byte(o.metadata)) {
			return cfg, &FieldError{"metadata", "is not valid JSON"}
		}
		cfg.Metadata = json.RawMessage(o.metadata)
	}
	if o.joinKey != "" {
		cfg.JoinKey = o.joinKey
	}
	if o.expiry != "" {
		cfg.ExpiryTopic = o.expiry
	}
	if o.deadLetter != "" {
		cfg.DeadLetter = o.deadLetter
	}
	if o.timeout != 0 {
		cfg.Timeout = o.timeout
	}
	cfg.BatchSize = o.batchSize
	cfg.MaxInFlight = o.maxInFlight
	cfg.BatchLinger = o.batchLinger
	cfg.FetchWait = o.fetchWait
	cfg.ProduceLinger = o.produceLinger
	cfg.CommitInterval = o.commitInterval
	cfg.ClaimTimeout = o.claimTimeout
	if o.tombstoneTTL != 0 {
		cfg.TombstoneTTL = o.tombstoneTTL
	}
	cfg.SessionTimeout = o.sessionTimeout
	cfg.SweepInterval = o.sweepInterval
	cfg.RedisAddr = o.redis
	cfg.OTLPEndpoint = o.otlp
	cfg.HTTPAddr = o.http
	cfg.Version = o.version
	cfg.Instance = o.instance
	if cfg.Instance == "" {
		host, _ := os.Hostname()
		cfg.Instance = host + "-" + strconv.Itoa(os.Getpid())
	}
	return cfg, nil
}

// NewRedisClient builds the client of TRIBUTARY_REDIS_ADDR, in the forms
// go-redis users know (docs/configuration.md):
//
//	host:port                          one Redis server
//	host1:port1,host2:port2,...        a Redis Cluster, seeded from the listed nodes
//	redis://[user:pass@]host:port[/db] one Redis server (redis.ParseURL)
//	redis://host1:port1?addr=host2:port2&addr=...
//	                                   a Redis Cluster (redis.ParseClusterURL)
//
// It does not dial: the client connects on first use. The result is safe
// for concurrent use. A cluster client reloads the slot map at least every
// ClusterStateReload.
func NewRedisClient(addr string) (redis.UniversalClient, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil, errors.New("empty Redis address")
	}
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if ue, ok := err.(*url.Error); ok {
			// Its text holds the whole URL, password included.
			return nil, fmt.Errorf("redis URL: %w", ue.Err)
		}
		if u.Query().Has("addr") {
			o, err := redis.ParseClusterURL(addr)
			if err != nil {
				return nil, fmt.Errorf("redis cluster URL: %w", err)
			}
			o.ClusterStateReloadInterval = ClusterStateReload
			return redis.NewClusterClient(o), nil
		}
		o, err := redis.ParseURL(addr)
		if err != nil {
			return nil, fmt.Errorf("redis URL: %w", err)
		}
		return redis.NewClient(o), nil
	}
	var addrs []string
	for a := range strings.SplitSeq(addr, ",") {
		a = strings.TrimSpace(a)
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("redis address %q: %w", a, err)
		}
		addrs = append(addrs, a)
	}
	// Two or more addresses make a ClusterClient, as redis.NewUniversalClient
	// would, which cannot set ClusterStateReloadInterval.
	if len(addrs) == 1 {
		return redis.NewClient(&redis.Options{Addr: addrs[0]}), nil
	}
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ClusterStateReloadInterval: ClusterStateReload}), nil
}

// ClusterStateReload bounds how long a cluster client routes to a master
// that died: go-redis reloads its slot map on MOVED and ASK, but a dial
// refused by a dead master triggers nothing, so until the next periodic
// reload (60 s by default) every command for its slots fails, although a
// replica took them over seconds after. The cluster fault tests measured
// that as a 56 s output stall. A reload is one CLUSTER SLOTS, made at most
// this often and only while commands flow.
const ClusterStateReload = 2 * time.Second

func newLogger(format string, out io.Writer) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(out, nil))
	}
	return slog.New(slog.NewJSONHandler(out, nil))
}

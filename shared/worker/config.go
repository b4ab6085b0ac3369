package worker

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Config is one worker's configuration: the row of consumer_configs named by
// ConsumerName, then the runtime's own settings. Read it with Load or build
// it by hand, then call Validate (Run does).
type Config struct {
	ConsumerName  string          // consumer_name: the Kafka consumer group and Redis key stem
	TopicsInput   []string        // 1..n input topics
	TopicsOutput  []string        // 0..n output topics
	Brokers       []string        // kafka_bootstrap_server, split on commas
	Metadata      json.RawMessage // metadatas: free JSON handed to the function; null when absent
	Timeout       time.Duration   // how long an incomplete join may wait (default 240s)
	JoinKey       string          // the field that joins fragments (default "id")
	ExpiryTopic   string          // where expired aggregates go; "" drops them (they are still counted)
	DeadLetter    string          // dead-letter topic (default "<consumer_name>.dlq")
	ConfigVersion int             // the config's version, reported in heartbeats

	// Runtime settings.
	RedisAddr       string        // Redis for join state and heartbeats
	OTLPEndpoint    string        // OTLP/HTTP endpoint; "" turns tracing off
	HTTPAddr        string        // /metrics and /healthz
	Instance        string        // this instance's id (Nomad alloc id, else host-pid)
	Version         string        // the function's version
	BatchSize       int           // most messages handled per batch (default 500)
	BatchLinger     time.Duration // how long a batch waits to fill beyond what is buffered (default 0: not at all)
	MaxInFlight     int           // batches between Redis and their last acknowledgement (default 8)
	FetchWait       time.Duration // how long the broker may hold a fetch that has no data (default 250ms)
	ProduceLinger   time.Duration // how long the writer waits to fill a produce request (default 1ms)
	CommitInterval  time.Duration // least time between two offset commits (default 100ms)
	MaxMessageBytes int           // larger messages are dead-lettered (default 1 MiB)
	ProcessRetries  int           // retries of a failing process call (default 3)
	RetryBackoff    time.Duration // first retry delay, doubled each time (default 100ms)
	ProcessTimeout  time.Duration // one process call's deadline (default 30s)
	ClaimTimeout    time.Duration // a completed join not confirmed by then is emitted again (default 60s)
	TombstoneTTL    time.Duration // how long a completed id suppresses redeliveries (default 1h)
	SweepInterval   time.Duration // how often expired and unconfirmed joins are swept (default 1s)
	ShutdownTimeout time.Duration // bound on the graceful stop (default 20s)
	SessionTimeout  time.Duration // consumer-group session timeout (default 10s)
	HeartbeatPeriod time.Duration // Redis heartbeat refresh (default 5s)
}

// Defaults of the fields Load and Validate fill when they are zero.
const (
	DefaultTimeout = 240 * time.Second
	// The deadline of one process call's context.
	DefaultProcessTimeout = 30 * time.Second
	DefaultJoinKey        = "id"
	DefaultBatchSize      = 500
	// Batches overlap: while one is in Redis, earlier ones are being
	// processed and written, and later ones fetched.
	DefaultMaxInFlight = 8
	// The broker answers a fetch as soon as data arrives, so the wait only
	// bounds an idle fetch (and how long closing the reader takes). kafka-go
	// asks the broker for 3/4 of it and drops the connection at all of it:
	// a short one turns a loaded broker's late reply into a reconnect and a
	// 100 ms backoff.
	DefaultFetchWait = 500 * time.Millisecond
	// Produce requests wait this long to fill: the latency one stage adds to
	// a lightly loaded pipeline, and what lets a loaded one send large
	// requests.
	DefaultProduceLinger = time.Millisecond
	// Commits coalesce: at most one request to the group coordinator per
	// interval. After a crash, at most about this much is read again (and
	// suppressed as duplicates by the join state).
	DefaultCommitInterval = 100 * time.Millisecond
)

// ErrNotFound means no consumer_configs row has the worker's name.
var ErrNotFound = errors.New("worker config not found")

// Schema creates the consumer_configs table the workers read, for tests
// and local runs. The API server's migrations own the table and never run
// this: their first one is the table as first created, frozen, and later
// ones add each column since (apiserver/mysql's tests check the two agree).
const Schema = `CREATE TABLE IF NOT EXISTS consumer_configs (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  consumer_name VARCHAR(200) NOT NULL UNIQUE,
  topics_input JSON NOT NULL,
  topics_output JSON NOT NULL,
  kafka_bootstrap_server VARCHAR(1024) NOT NULL,
  metadatas JSON NULL,
  timeout_seconds INT NOT NULL DEFAULT 240,
  join_key VARCHAR(255) NOT NULL DEFAULT 'id',
  expiry_topic VARCHAR(249) NULL,
  dead_letter_topic VARCHAR(249) NULL,
  tombstone_ttl_seconds INT NULL,
  config_version INT NOT NULL DEFAULT 1
)`

// Load reads the consumer_configs row named name.
func Load(ctx context.Context, db *sql.DB, name string) (Config, error) {
	var (
		cfg                Config
		in, out, brokers   string
		meta               sql.NullString
		timeoutSec         int
		expiry, deadLetter sql.NullString
		tombstoneSec       sql.NullInt64
	)
	err := db.QueryRowContext(ctx, `SELECT consumer_name, topics_input, topics_output, kafka_bootstrap_server,
	  metadatas, timeout_seconds, join_key, expiry_topic, dead_letter_topic, tombstone_ttl_seconds, config_version
	  FROM consumer_configs WHERE consumer_name = ?`, name).
		Scan(&cfg.ConsumerName, &in, &out, &brokers, &meta, &timeoutSec, &cfg.JoinKey, &expiry, &deadLetter, &tombstoneSec, &cfg.ConfigVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return cfg, fmt.Errorf("consumer_name %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return cfg, fmt.Errorf("read config of %q: %w", name, err)
	}
	if err := json.Unmarshal([]byte(in), &cfg.TopicsInput); err != nil {
		return cfg, fmt.Errorf("topics_input of %q: %w", name, err)
	}
	if err := json.Unmarshal([]byte(out), &cfg.TopicsOutput); err != nil {
		return cfg, fmt.Errorf("topics_output of %q: %w", name, err)
	}
	cfg.Brokers = SplitList(brokers)
	if meta.Valid {
		cfg.Metadata = json.RawMessage(meta.String)
	}
	cfg.Timeout = time.Duration(timeoutSec) * time.Second
	cfg.ExpiryTopic = expiry.String
	cfg.DeadLetter = deadLetter.String
	cfg.TombstoneTTL = time.Duration(tombstoneSec.Int64) * time.Second // 0 (NULL): the default
	return cfg, nil
}

// SplitList splits a comma-separated list, trimming blanks and dropping
// empty items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// FieldError names the field of a Config that is wrong and why.
type FieldError struct {
	Field, Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// topicName is Kafka's rule for topic names.
var topicName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// ValidTopic reports why name is not a valid Kafka topic name, or "".
func ValidTopic(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case name == "." || name == "..":
		return "must not be '.' or '..'"
	case !topicName.MatchString(name):
		return "may hold only letters, digits, '.', '_' and '-', at most 249 of them"
	}
	return ""
}

// Validate fills defaults and returns a *FieldError for the first field that
// is wrong.
func (c *Config) Validate() error {
	if c.ConsumerName == "" {
		return &FieldError{"consumer_name", "must not be empty"}
	}
	if !topicName.MatchString(c.ConsumerName) || len(c.ConsumerName) > 200 {
		return &FieldError{"consumer_name", "may hold only letters, digits, '.', '_' and '-', at most 200 of them"}
	}
	if len(c.TopicsInput) == 0 {
		return &FieldError{"topics_input", "needs at least one topic"}
	}
	seen := map[string]bool{}
	for _, t := range c.TopicsInput {
		if r := ValidTopic(t); r != "" {
			return &FieldError{"topics_input", fmt.Sprintf("topic %q %s", t, r)}
		}
		if seen[t] {
			return &FieldError{"topics_input", fmt.Sprintf("topic %q is listed twice", t)}
		}
		seen[t] = true
	}
	for _, t := range c.TopicsOutput {
		if r := ValidTopic(t); r != "" {
			return &FieldError{"topics_output", fmt.Sprintf("topic %q %s", t, r)}
		}
		if seen[t] {
			return &FieldError{"topics_output", fmt.Sprintf("topic %q is also an input: the worker would consume its own output", t)}
		}
	}
	if len(c.Brokers) == 0 {
		return &FieldError{"kafka_bootstrap_server", "needs at least one host:port"}
	}
	if len(c.Metadata) > 0 && !json.Valid(c.Metadata) {
		return &FieldError{"metadatas", "is not valid JSON"}
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Timeout < time.Second || c.Timeout > 7*24*time.Hour {
		return &FieldError{"timeout", "must be between 1 second and 7 days"}
	}
	if c.JoinKey == "" {
		c.JoinKey = DefaultJoinKey
	}
	if c.DeadLetter == "" {
		c.DeadLetter = c.ConsumerName + ".dlq"
	}
	if r := ValidTopic(c.DeadLetter); r != "" {
		return &FieldError{"dead_letter_topic", r}
	}
	if c.ExpiryTopic != "" {
		if r := ValidTopic(c.ExpiryTopic); r != "" {
			return &FieldError{"expiry_topic", r}
		}
	}
	if len(c.TopicsInput) > 1 && c.RedisAddr == "" {
		return &FieldError{"redis", "a worker with several input topics needs Redis for its join state"}
	}
	setDefault(&c.BatchSize, DefaultBatchSize)
	setDefault(&c.MaxInFlight, DefaultMaxInFlight)
	setDefault(&c.FetchWait, DefaultFetchWait)
	setDefault(&c.ProduceLinger, DefaultProduceLinger)
	setDefault(&c.CommitInterval, DefaultCommitInterval)
	setDefault(&c.MaxMessageBytes, 1<<20)
	setDefault(&c.ProcessRetries, 3)
	setDefault(&c.RetryBackoff, 100*time.Millisecond)
	setDefault(&c.ProcessTimeout, DefaultProcessTimeout)
	setDefault(&c.ClaimTimeout, 60*time.Second)
	setDefault(&c.TombstoneTTL, time.Hour)
	setDefault(&c.SweepInterval, time.Second)
	setDefault(&c.ShutdownTimeout, 20*time.Second)
	setDefault(&c.SessionTimeout, 10*time.Second)
	setDefault(&c.HeartbeatPeriod, 5*time.Second)
	if c.BatchSize < 1 || c.BatchSize > 10000 {
		return &FieldError{"batch_size", "must be between 1 and 10000"}
	}
	if c.MaxInFlight < 1 || c.MaxInFlight > 64 {
		return &FieldError{"max_in_flight", "must be between 1 and 64"}
	}
	if c.BatchLinger < 0 || c.BatchLinger > time.Second {
		return &FieldError{"batch_linger", "must be between 0 and 1s"}
	}
	if c.FetchWait < time.Millisecond || c.FetchWait > 30*time.Second {
		return &FieldError{"fetch_wait", "must be between 1ms and 30s"}
	}
	if c.CommitInterval < 0 || c.CommitInterval > time.Minute {
		return &FieldError{"commit_interval", "must be between 0 and 1m"}
	}
	if c.ProduceLinger < 0 || c.ProduceLinger > time.Second {
		return &FieldError{"produce_linger", "must be between 0 and 1s"}
	}
	if c.TombstoneTTL < c.ClaimTimeout {
		return &FieldError{"tombstone_ttl", fmt.Sprintf("must be at least the claim timeout (%s), the longest a redelivery after a crash can trail its join", c.ClaimTimeout)}
	}
	if c.ProcessRetries < 0 {
		return &FieldError{"process_retries", "must not be negative"}
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Package stacktest connects tests to the services of the local stack
// (infra/stack.sh) and starts private in-process Kafka clusters.
//
// Addresses come from the environment that `infra/stack.sh env` prints, with
// the stack's defaults. A test that needs a service calls the matching helper
// first: when the service does not answer, the test is skipped, or fails when
// CI=true, so a CI run can never pass by skipping.
package stacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Defaults of the local stack; the environment overrides each.
const (
	DefaultMySQLDSN       = "tributary:tributary@tcp(127.0.0.1:3306)/tributary?parseTime=true&multiStatements=true"
	DefaultRedisAddr      = "127.0.0.1:6379"
	DefaultKafkaBrokers   = "127.0.0.1:9092"
	DefaultNomadAddr      = "http://127.0.0.1:4646"
	DefaultJaegerQueryURL = "http://127.0.0.1:16686"
	DefaultOTLPEndpoint   = "http://127.0.0.1:4318"
	DefaultPrometheusURL  = "http://127.0.0.1:9090"
	DefaultAlertmanager   = "http://127.0.0.1:9093"
)

// InCI reports whether the tests run under CI=true, where a missing service
// fails a test instead of skipping it.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t, or fails it under CI=true, because service cannot be
// reached. It never returns.
func Unavailable(t testing.TB, service string, err error) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is not available: %v (CI=true: a missing service fails the test; start the stack with `make up`)", service, err)
	}
	t.Skipf("%s is not available: %v (start the stack with `make up`)", service, err)
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// MySQLDSN is the DSN of the stack's database (TRIBUTARY_MYSQL_DSN).
func MySQLDSN() string { return env("TRIBUTARY_MYSQL_DSN", DefaultMySQLDSN) }

// RedisAddr is host:port of the stack's Redis (TRIBUTARY_REDIS_ADDR).
func RedisAddr() string { return env("TRIBUTARY_REDIS_ADDR", DefaultRedisAddr) }

// KafkaBrokers lists the stack's brokers (TRIBUTARY_KAFKA_BROKERS, comma-separated).
func KafkaBrokers() []string {
	return strings.Split(env("TRIBUTARY_KAFKA_BROKERS", DefaultKafkaBrokers), ",")
}

// NomadAddr is the Nomad HTTP API address (NOMAD_ADDR).
func NomadAddr() string { return env("NOMAD_ADDR", DefaultNomadAddr) }

// JaegerQueryURL is the base URL of Jaeger's query API (TRIBUTARY_JAEGER_QUERY_URL).
func JaegerQueryURL() string { return env("TRIBUTARY_JAEGER_QUERY_URL", DefaultJaegerQueryURL) }

// OTLPEndpoint is the OTLP/HTTP endpoint traces are sent to (OTEL_EXPORTER_OTLP_ENDPOINT).
func OTLPEndpoint() string { return env("OTEL_EXPORTER_OTLP_ENDPOINT", DefaultOTLPEndpoint) }

// PrometheusURL is the base URL of the stack's Prometheus (TRIBUTARY_PROMETHEUS_URL).
func PrometheusURL() string { return env("TRIBUTARY_PROMETHEUS_URL", DefaultPrometheusURL) }

// AlertmanagerURL is the base URL of the stack's Alertmanager (TRIBUTARY_ALERTMANAGER_URL).
func AlertmanagerURL() string { return env("TRIBUTARY_ALERTMANAGER_URL", DefaultAlertmanager) }

// Prometheus returns the Prometheus URL after checking that it is ready.
func Prometheus(t testing.TB) string {
	t.Helper()
	u := PrometheusURL()
	if err := httpOK(u + "/-/ready"); err != nil {
		Unavailable(t, "Prometheus at "+u, err)
	}
	return u
}

// Binary returns the path in the environment variable key (one the stack
// exports, such as TRIBUTARY_PROMETHEUS_BIN) after checking it can be run.
func Binary(t testing.TB, key string) string {
	t.Helper()
	p := os.Getenv(key)
	if p == "" {
		Unavailable(t, key, errors.New("not set (eval \"$(infra/stack.sh env)\")"))
	}
	if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
		Unavailable(t, key+"="+p, fmt.Errorf("not an executable: %v", err))
	}
	return p
}

// Kafka returns the stack's brokers after checking that the first answers.
func Kafka(t testing.TB) []string {
	t.Helper()
	brokers := KafkaBrokers()
	if err := dialTCP(brokers[0]); err != nil {
		Unavailable(t, "Kafka broker "+brokers[0], err)
	}
	return brokers
}

// Nomad returns the Nomad address after checking the agent reports healthy.
func Nomad(t testing.TB) string {
	t.Helper()
	addr := NomadAddr()
	if err := httpOK(addr + "/v1/agent/health"); err != nil {
		Unavailable(t, "Nomad at "+addr, err)
	}
	return addr
}

// Jaeger returns the query URL after checking that Jaeger's query API answers.
func Jaeger(t testing.TB) string {
	t.Helper()
	u := JaegerQueryURL()
	if err := httpOK(u + "/api/services"); err != nil {
		Unavailable(t, "Jaeger at "+u, err)
	}
	return u
}

func dialTCP(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

func httpOK(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// Name returns a name unique to this test run, usable as a Kafka topic,
// consumer group, Redis key prefix, Nomad job or database suffix:
// prefix, the test's name, and random hex, joined by '_'.
func Name(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	test := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(test) > 30 {
		test = test[:30]
	}
	return prefix + "_" + test + "_" + hex.EncodeToString(b)
}

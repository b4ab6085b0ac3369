// Package config reads the API server's typed configuration from the
// environment and validates it. It does no I/O beyond reading variables.
package config

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/tributary-etl/tributary/apiserver/alerting"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/shared/worker"
)

// MinSecretBytes is the shortest JWT secret accepted outside dev mode:
// HS256 wants at least as many bytes of key as the hash has.
const MinSecretBytes = 32

// MinAlertmanagerTokenBytes is the shortest TRIBUTARY_ALERTMANAGER_TOKEN
// accepted: the token is all that stands between the webhook and anyone
// who can reach the server.
const MinAlertmanagerTokenBytes = 16

// DefaultLeaseTTL is the control plane's lease lifetime unless
// TRIBUTARY_LEASE_TTL says otherwise. The control plane's defaults live
// here, not in controlplane, because controlplane reads this package.
const DefaultLeaseTTL = 15 * time.Second

// DefaultAutoscaleEvery is the autoscaler's period unless
// TRIBUTARY_AUTOSCALE_INTERVAL says otherwise (KEDA's pollingInterval is
// 30 s; lag moves faster here).
const DefaultAutoscaleEvery = 15 * time.Second

// Config is the API server's configuration. Build it with FromEnv.
type Config struct {
	Dev             bool          // TRIBUTARY_DEV: allows a missing JWT secret (an ephemeral one is generated)
	HTTPAddr        string        // TRIBUTARY_HTTP_ADDR
	MySQLDSN        string        // TRIBUTARY_MYSQL_DSN; contains a password: log Redacted() only
	JWTSecret       []byte        // TRIBUTARY_JWT_SECRET; never logged
	JWTIssuer       string        // TRIBUTARY_JWT_ISSUER
	JWTTTL          time.Duration // TRIBUTARY_JWT_TTL
	LegacyAnonymous bool          // TRIBUTARY_LEGACY_ANONYMOUS: /api/consumer_configs without a token
	MaxBodyBytes    int64         // TRIBUTARY_MAX_BODY_BYTES
	ShutdownTimeout time.Duration // TRIBUTARY_SHUTDOWN_TIMEOUT
	LogLevel        slog.Level    // TRIBUTARY_LOG_LEVEL: debug, info, warn, error
	CORSOrigins     []string      // TRIBUTARY_CORS_ORIGINS: browser origins allowed cross-origin; empty = none
	// TrustedProxies is TRIBUTARY_TRUSTED_PROXIES: the addresses (IPs or
	// CIDRs) of reverse proxies whose X-Forwarded-For and X-Real-IP name
	// the client. Empty: none, and the client is the TCP peer, so a
	// forged header cannot dodge the per-address login throttle.
	TrustedProxies  []string
	KafkaTimeout    time.Duration // TRIBUTARY_KAFKA_TIMEOUT: bound on each call to a Kafka cluster
	MaxUploadBytes  int64         // TRIBUTARY_MAX_UPLOAD_BYTES: largest function binary accepted (413 above)
	DataDir         string        // TRIBUTARY_DATA_DIR: binaries in DataDir/artifacts are imported into the database
	LogDir          string        // TRIBUTARY_LOG_DIR: apiserver.log is written there; empty: console only
	UIDir           string        // TRIBUTARY_UI_DIR: the built UI served at /; empty or missing: no UI
	PublicURL       string        // TRIBUTARY_PUBLIC_URL: base URL of this server; the installation's artifact URL until one is recorded
	ArtifactURL     string        // TRIBUTARY_ARTIFACT_URL: when set, recorded as the installation's artifact base URL
	RedisAddr       string        // TRIBUTARY_REDIS_ADDR: the workers' Redis (heartbeats, pending joins); a list is a Redis Cluster
	NomadAddr       string        // NOMAD_ADDR: the Nomad HTTP API
	JobTemplate     string        // TRIBUTARY_JOB_TEMPLATE: the worker job's HCL file
	JaegerQueryURL  string        // TRIBUTARY_JAEGER_QUERY_URL: Jaeger's query API (traces)
	JaegerUIURL     string        // TRIBUTARY_JAEGER_UI_URL: an external Jaeger UI for links; empty: no links
	WorkerMySQLDSN  string        // TRIBUTARY_WORKER_MYSQL_DSN: the DSN workers read their config with; empty: MySQLDSN
	WorkerOTLP      string        // OTEL_EXPORTER_OTLP_ENDPOINT: handed to workers; empty: tracing off
	ReconcileEvery  time.Duration // TRIBUTARY_RECONCILE_INTERVAL: 0 turns the reconciler off
	EventsRetention time.Duration // TRIBUTARY_EVENTS_RETENTION: events older than this are pruned
	LeaseTTL        time.Duration // TRIBUTARY_LEASE_TTL: the control plane's lease lifetime
	AutoscaleEvery  time.Duration // TRIBUTARY_AUTOSCALE_INTERVAL: 0 turns the autoscaler off
	PrometheusURL   string        // TRIBUTARY_PROMETHEUS_URL: Prometheus' HTTP API; empty: no series, throughput sampled from Kafka
	// AlertmanagerToken is TRIBUTARY_ALERTMANAGER_TOKEN, the bearer token
	// Alertmanager sends to the webhook; empty: the webhook answers 503.
	// Never logged.
	AlertmanagerToken string
	// AlertWebhookURL is TRIBUTARY_ALERT_WEBHOOK_URL, the chat webhook
	// alert changes are forwarded to; empty: none. It carries a
	// credential: never logged.
	AlertWebhookURL string
	AlertsRetention time.Duration // TRIBUTARY_ALERTS_RETENTION: resolved alerts older than this are pruned
	// EphemeralSecret is true when dev mode generated JWTSecret: tokens die
	// with the process.
	EphemeralSecret bool
}

// weakSecrets are defaults seen in examples; refused even in dev mode.
var weakSecrets = []string{"secret", "changeme", "change-me", "tributary", "jwt-secret", "your-secret"}

// FromEnv reads and validates the configuration; getenv is os.Getenv in
// main and a map in tests. The error joins every problem found.
func FromEnv(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		Dev:             r.bool("TRIBUTARY_DEV", false),
		HTTPAddr:        r.str("TRIBUTARY_HTTP_ADDR", "127.0.0.1:8080"),
		MySQLDSN:        r.str("TRIBUTARY_MYSQL_DSN", "tributary:tributary@tcp(127.0.0.1:3306)/tributary"),
		JWTSecret:       []byte(getenv("TRIBUTARY_JWT_SECRET")),
		JWTIssuer:       r.str("TRIBUTARY_JWT_ISSUER", "tributary"),
		JWTTTL:          r.duration("TRIBUTARY_JWT_TTL", time.Hour),
		LegacyAnonymous: r.bool("TRIBUTARY_LEGACY_ANONYMOUS", false),
		MaxBodyBytes:    r.int64("TRIBUTARY_MAX_BODY_BYTES", 1<<20),
		ShutdownTimeout: r.duration("TRIBUTARY_SHUTDOWN_TIMEOUT", 15*time.Second),
		KafkaTimeout:    r.duration("TRIBUTARY_KAFKA_TIMEOUT", 5*time.Second),
		MaxUploadBytes:  r.int64("TRIBUTARY_MAX_UPLOAD_BYTES", 512<<20),
		DataDir:         r.str("TRIBUTARY_DATA_DIR", "./data"),
		LogDir:          r.str("TRIBUTARY_LOG_DIR", ""),
		UIDir:           r.str("TRIBUTARY_UI_DIR", ""),
		RedisAddr:       r.str("TRIBUTARY_REDIS_ADDR", "127.0.0.1:6379"),
		NomadAddr:       r.str("NOMAD_ADDR", "http://127.0.0.1:4646"),
		JobTemplate:     r.str("TRIBUTARY_JOB_TEMPLATE", "jobs/worker.nomad.hcl"),
		JaegerQueryURL:  strings.TrimRight(r.str("TRIBUTARY_JAEGER_QUERY_URL", "http://127.0.0.1:16686"), "/"),
		WorkerOTLP:      r.str("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
		ReconcileEvery:  r.duration("TRIBUTARY_RECONCILE_INTERVAL", 30*time.Second),
		EventsRetention: r.duration("TRIBUTARY_EVENTS_RETENTION", events.DefaultRetention),
		LeaseTTL:        r.duration("TRIBUTARY_LEASE_TTL", DefaultLeaseTTL),
		AutoscaleEvery:  r.duration("TRIBUTARY_AUTOSCALE_INTERVAL", DefaultAutoscaleEvery),
		PrometheusURL:   strings.TrimRight(r.str("TRIBUTARY_PROMETHEUS_URL", ""), "/"),
		AlertWebhookURL: r.str("TRIBUTARY_ALERT_WEBHOOK_URL", ""),
		AlertsRetention: r.duration("TRIBUTARY_ALERTS_RETENTION", alerting.DefaultRetention),
		// Not trimmed: a token is compared byte for byte with what
		// Alertmanager sends.
		AlertmanagerToken: getenv("TRIBUTARY_ALERTMANAGER_TOKEN"),
	}
	c.PublicURL = strings.TrimRight(r.str("TRIBUTARY_PUBLIC_URL", "http://"+c.HTTPAddr), "/")
	c.JaegerUIURL = strings.TrimRight(r.str("TRIBUTARY_JAEGER_UI_URL", ""), "/")
	c.ArtifactURL = strings.TrimRight(r.str("TRIBUTARY_ARTIFACT_URL", ""), "/")
	c.WorkerMySQLDSN = r.str("TRIBUTARY_WORKER_MYSQL_DSN", c.MySQLDSN)
	for name, u := range map[string]string{"TRIBUTARY_PUBLIC_URL": c.PublicURL, "NOMAD_ADDR": c.NomadAddr,
		"TRIBUTARY_JAEGER_QUERY_URL": c.JaegerQueryURL} {
		if !httpURL(u) {
			r.fail(name, fmt.Sprintf("%q is not an http(s) URL", u))
		}
	}
	if c.ArtifactURL != "" && !httpURL(c.ArtifactURL) {
		r.fail("TRIBUTARY_ARTIFACT_URL", fmt.Sprintf("%q is not an http(s) URL", c.ArtifactURL))
	}
	if c.JaegerUIURL != "" && !httpURL(c.JaegerUIURL) {
		r.fail("TRIBUTARY_JAEGER_UI_URL", fmt.Sprintf("%q is not an http(s) URL", c.JaegerUIURL))
	}
	if c.PrometheusURL != "" && !httpURL(c.PrometheusURL) {
		r.fail("TRIBUTARY_PROMETHEUS_URL", fmt.Sprintf("%q is not an http(s) URL", c.PrometheusURL))
	}
	if c.AlertWebhookURL != "" && !httpURL(c.AlertWebhookURL) {
		r.fail("TRIBUTARY_ALERT_WEBHOOK_URL", "is not an http(s) URL") // not quoted: it carries a credential
	}
	if t := c.AlertmanagerToken; t != "" && (len(t) < MinAlertmanagerTokenBytes || isWeak(t) || strings.TrimSpace(t) != t) {
		r.fail("TRIBUTARY_ALERTMANAGER_TOKEN", fmt.Sprintf("must be at least %d bytes, not a well-known default, without surrounding spaces; generate one, e.g. `openssl rand -hex 24`", MinAlertmanagerTokenBytes))
	}
	if c.AlertsRetention < time.Hour {
		r.fail("TRIBUTARY_ALERTS_RETENTION", "must be at least 1h")
	}
	if c.MaxUploadBytes < 1024 || c.MaxUploadBytes > 4<<30 {
		r.fail("TRIBUTARY_MAX_UPLOAD_BYTES", "must be between 1024 and 4294967296")
	}
	if c.ReconcileEvery < 0 || (c.ReconcileEvery > 0 && c.ReconcileEvery < time.Second) {
		r.fail("TRIBUTARY_RECONCILE_INTERVAL", "must be 0 (off) or at least 1s")
	}
	if c.AutoscaleEvery < 0 || (c.AutoscaleEvery > 0 && c.AutoscaleEvery < time.Second) {
		r.fail("TRIBUTARY_AUTOSCALE_INTERVAL", "must be 0 (off) or at least 1s")
	}
	if c.LeaseTTL < time.Second || c.LeaseTTL > 5*time.Minute {
		r.fail("TRIBUTARY_LEASE_TTL", "must be between 1s and 5m")
	}
	if c.EventsRetention < time.Hour {
		r.fail("TRIBUTARY_EVENTS_RETENTION", "must be at least 1h")
	}
	for o := range strings.SplitSeq(getenv("TRIBUTARY_CORS_ORIGINS"), ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if !validOrigin(o) {
			r.fail("TRIBUTARY_CORS_ORIGINS", fmt.Sprintf("%q is not an origin such as https://ui.example.com", o))
			continue
		}
		c.CORSOrigins = append(c.CORSOrigins, o)
	}
	for p := range strings.SplitSeq(getenv("TRIBUTARY_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !validProxy(p) {
			r.fail("TRIBUTARY_TRUSTED_PROXIES", fmt.Sprintf("%q is not an IP address or a CIDR such as 10.0.0.0/8", p))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if c.KafkaTimeout < 100*time.Millisecond || c.KafkaTimeout > 5*time.Minute {
		r.fail("TRIBUTARY_KAFKA_TIMEOUT", "must be between 100ms and 5m")
	}
	if err := c.LogLevel.UnmarshalText([]byte(r.str("TRIBUTARY_LOG_LEVEL", "info"))); err != nil {
		r.fail("TRIBUTARY_LOG_LEVEL", err.Error())
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		r.fail("TRIBUTARY_HTTP_ADDR", err.Error())
	}
	if rdb, err := worker.NewRedisClient(c.RedisAddr); err != nil {
		r.fail("TRIBUTARY_REDIS_ADDR", err.Error())
	} else {
		rdb.Close() // it never dialled: this only checks the address
	}
	if _, err := mysql.ParseDSN(c.MySQLDSN); err != nil {
		r.fail("TRIBUTARY_MYSQL_DSN", "not a valid DSN") // the error could echo the password
	}
	switch secret := string(c.JWTSecret); {
	case secret == "" && c.Dev:
		c.JWTSecret = []byte(rand.Text() + rand.Text())
		c.EphemeralSecret = true
	case secret == "":
		r.fail("TRIBUTARY_JWT_SECRET", "is required outside dev mode (TRIBUTARY_DEV=true)")
	case isWeak(secret):
		r.fail("TRIBUTARY_JWT_SECRET", "is a well-known default; generate one, e.g. `openssl rand -base64 48`")
	case len(secret) < MinSecretBytes && !c.Dev:
		r.fail("TRIBUTARY_JWT_SECRET", fmt.Sprintf("must be at least %d bytes, got %d", MinSecretBytes, len(secret)))
	}
	if c.JWTIssuer == "" {
		r.fail("TRIBUTARY_JWT_ISSUER", "must not be empty")
	}
	if c.JWTTTL < time.Minute || c.JWTTTL > 24*time.Hour {
		r.fail("TRIBUTARY_JWT_TTL", "must be between 1m and 24h")
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		r.fail("TRIBUTARY_MAX_BODY_BYTES", "must be between 1024 and 67108864")
	}
	if c.ShutdownTimeout <= 0 {
		r.fail("TRIBUTARY_SHUTDOWN_TIMEOUT", "must be positive")
	}
	return c, errors.Join(r.errs...)
}

// httpURL reports whether u is an absolute http or https URL with a host.
func httpURL(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && (pu.Scheme == "http" || pu.Scheme == "https") && pu.Host != ""
}

// validOrigin reports whether o is scheme://host[:port] and nothing more,
// the only form a browser sends in Origin.
func validOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil && u.Scheme+"://"+u.Host == o
}

// validProxy reports whether p is an IP address or a CIDR prefix, as
// gin's SetTrustedProxies parses them (no IPv6 zone).
func validProxy(p string) bool {
	if strings.Contains(p, "/") {
		_, err := netip.ParsePrefix(p)
		return err == nil
	}
	a, err := netip.ParseAddr(p)
	return err == nil && a.Zone() == ""
}

func isWeak(s string) bool {
	for _, w := range weakSecrets {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

// RedactedDSN is the DSN with its password replaced, safe to log.
func (c Config) RedactedDSN() string {
	d, err := mysql.ParseDSN(c.MySQLDSN)
	if err != nil {
		return "(invalid)"
	}
	if d.Passwd != "" {
		d.Passwd = "xxx"
	}
	return d.FormatDSN()
}

type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, reason string) {
	r.errs = append(r.errs, fmt.Errorf("%s %s", name, reason))
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) bool(name string, def bool) bool {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "must be true or false")
	}
	return b
}

func (r *reader) int64(name string, def int64) int64 {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		r.fail(name, "must be an integer")
	}
	return n
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, "must be a duration such as 30s or 1h")
	}
	return d
}

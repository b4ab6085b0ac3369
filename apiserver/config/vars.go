package config

import (
	"fmt"

	"github.com/tributary-etl/tributary/apiserver/alerting"
	"github.com/tributary-etl/tributary/apiserver/events"
)

// Var documents one environment variable for -h.
type Var struct{ Name, Default, Help string }

// Vars lists every variable FromEnv reads, for the usage text.
var Vars = []Var{
	{"TRIBUTARY_DEV", "false", "dev mode: a missing JWT secret is replaced by a random one per process"},
	{"TRIBUTARY_HTTP_ADDR", "127.0.0.1:8080", "host:port to listen on"},
	{"TRIBUTARY_MYSQL_DSN", "tributary:tributary@tcp(127.0.0.1:3306)/tributary", "go-sql-driver/mysql DSN"},
	{"TRIBUTARY_JWT_SECRET", "(required unless dev)", fmt.Sprintf("HS256 signing secret, at least %d bytes", MinSecretBytes)},
	{"TRIBUTARY_JWT_ISSUER", "tributary", "iss claim of issued tokens, required on verified ones"},
	{"TRIBUTARY_JWT_TTL", "1h", "lifetime of access tokens (1m..24h)"},
	{"TRIBUTARY_LEGACY_ANONYMOUS", "false", "open /api/consumer_configs to requests without a token"},
	{"TRIBUTARY_MAX_BODY_BYTES", "1048576", "largest accepted request body (413 above)"},
	{"TRIBUTARY_SHUTDOWN_TIMEOUT", "15s", "bound on the graceful stop"},
	{"TRIBUTARY_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"TRIBUTARY_CORS_ORIGINS", "(none)", "comma-separated origins (scheme://host[:port]) allowed cross-origin requests"},
	{"TRIBUTARY_TRUSTED_PROXIES", "(none)", "comma-separated IPs or CIDRs of reverse proxies trusted to name the client in X-Forwarded-For; none: the client is the connection's peer"},
	{"TRIBUTARY_KAFKA_TIMEOUT", "5s", "bound on each call to a Kafka cluster (check, topics, create)"},
	{"TRIBUTARY_MAX_UPLOAD_BYTES", "536870912", "largest function binary accepted (413 above)"},
	{"TRIBUTARY_DATA_DIR", "./data", "binaries found in <dir>/artifacts (where servers before migration 11 kept them) are imported into the database at start"},
	{"TRIBUTARY_LOG_DIR", "(none)", "also write JSON logs to <dir>/apiserver.log"},
	{"TRIBUTARY_UI_DIR", "(none)", "directory of the built UI (frontend/dist) served at /"},
	{"TRIBUTARY_PUBLIC_URL", "http://<TRIBUTARY_HTTP_ADDR>", "base URL this server is reached at; recorded as the installation's artifact URL if none is yet"},
	{"TRIBUTARY_ARTIFACT_URL", "(the recorded one)", "base URL every job downloads its function binary from, whichever API server renders it; when set, recorded in the database at start (set it alike on every server, or on none)"},
	{"TRIBUTARY_REDIS_ADDR", "127.0.0.1:6379", "the workers' Redis: heartbeats and pending joins; host:port, a comma-separated list of Redis Cluster nodes, or a redis:// URL (docs/configuration.md)"},
	{"NOMAD_ADDR", "http://127.0.0.1:4646", "the Nomad HTTP API workers are deployed through"},
	{"TRIBUTARY_JOB_TEMPLATE", "jobs/worker.nomad.hcl", "the worker job template"},
	{"TRIBUTARY_JAEGER_QUERY_URL", "http://127.0.0.1:16686", "Jaeger's query API, read for traces"},
	{"TRIBUTARY_JAEGER_UI_URL", "(none)", "an external Jaeger UI; when set, the UI links each trace to <url>/trace/<trace id>, otherwise it shows no Jaeger link (the local stack's Jaeger has no UI)"},
	{"TRIBUTARY_WORKER_MYSQL_DSN", "(TRIBUTARY_MYSQL_DSN)", "DSN handed to workers to read their config, through the Nomad Variable nomad/jobs/<job>, never the job spec"},
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "(none)", "OTLP/HTTP endpoint handed to workers for traces"},
	{"TRIBUTARY_RECONCILE_INTERVAL", "30s", "how often running workers are checked against Nomad; 0 turns it off"},
	{"TRIBUTARY_LEASE_TTL", "15s", "how long the reconciler's and autoscaler's lease lasts unrenewed: the longest a dead holder's work waits for another API server (1s..5m)"},
	{"TRIBUTARY_AUTOSCALE_INTERVAL", "15s", "how often autoscaled workers' lag is read and a decision taken; 0 turns the autoscaler off"},
	{"TRIBUTARY_EVENTS_RETENTION", events.DefaultRetention.String(), "how long the event log keeps an event (at least 1h)"},
	{"TRIBUTARY_PROMETHEUS_URL", "(none)", "Prometheus' HTTP API, read for workers' series and throughput; none: no series, throughput sampled from Kafka"},
	{"TRIBUTARY_ALERTMANAGER_TOKEN", "(none)", fmt.Sprintf("bearer token Alertmanager sends to POST /api/v1/alerts/webhook, at least %d bytes; none: the webhook answers 503", MinAlertmanagerTokenBytes)},
	{"TRIBUTARY_ALERT_WEBHOOK_URL", "(none)", "Slack-compatible incoming webhook alert changes are forwarded to (a secret: never logged)"},
	{"TRIBUTARY_ALERTS_RETENTION", alerting.DefaultRetention.String(), "how long a resolved alert is kept (at least 1h)"},
}

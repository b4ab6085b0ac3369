package httpapi

import (
	"github.com/tributary-etl/tributary/apiserver/alerting"
	"github.com/tributary-etl/tributary/apiserver/deadletter"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/apiserver/replay"
	"github.com/tributary-etl/tributary/apiserver/series"
)

// routeDocs lists every route the server answers, with its access level
// and the types of its bodies. Add a route here when you add it to the
// router: TestOpenAPIMatchesRoutes fails otherwise.
var routeDocs = []routeDoc{
	{Method: "GET", Path: "/healthz", Access: accessPublic, Tag: "operations", Summary: "Liveness: the process answers", Status: 200},
	{Method: "GET", Path: "/readyz", Access: accessPublic, Tag: "operations", Summary: "Readiness: MySQL, Redis and Nomad answer (503 naming those that do not)", Status: 200},
	{Method: "GET", Path: "/metrics", Access: accessPublic, Tag: "operations", Summary: "Prometheus metrics of the API server: requests, tributary_worker_desired_instances and tributary_worker_healthy_instances per running worker, tributary_nomad_up, tributary_alerts_firing per alertname", Status: 200},
	{Method: "GET", Path: "/openapi.json", Access: accessPublic, Tag: "operations", Summary: "This document", Status: 200},
	{Method: "GET", Path: "/docs", Access: accessPublic, Tag: "operations", Summary: "Interactive API documentation", Status: 200},

	{Method: "GET", Path: "/api/consumer_configs", Access: accessLegacyR, Tag: "legacy", Summary: "List configs in the original service's format (topics comma-separated)", Response: []legacyConfig{}, Status: 200},
	{Method: "POST", Path: "/api/consumer_configs", Access: accessLegacyW, Tag: "legacy", Summary: "Create or update configs by consumer_name", Request: []legacyInput{}, Response: []legacyConfig{}, Status: 200},
	{Method: "GET", Path: "/api/consumer_configs/:id", Access: accessLegacyR, Tag: "legacy", Summary: "One config", Response: legacyConfig{}, Status: 200},
	{Method: "PUT", Path: "/api/consumer_configs/:id", Access: accessLegacyW, Tag: "legacy", Summary: "Replace a config", Request: legacyInput{}, Response: legacyConfig{}, Status: 200},
	{Method: "DELETE", Path: "/api/consumer_configs/:id", Access: accessLegacyW, Tag: "legacy", Summary: "Delete a config", Status: 204},

	{Method: "POST", Path: "/api/v1/auth/register", Access: accessRegister, Tag: "auth", Summary: "Create a user; the first user of an empty installation becomes admin without a token, later ones need an admin", Request: credentials{}, Response: userJSON{}, Status: 201},
	{Method: "POST", Path: "/api/v1/auth/login", Access: accessPublic, Tag: "auth", Summary: "Exchange email and password for a JWT access token", Request: credentials{}, Response: loginResponse{}, Status: 200},
	{Method: "GET", Path: "/api/v1/auth/me", Access: accessViewer, Tag: "auth", Summary: "The user the token belongs to", Response: userJSON{}, Status: 200},
	{Method: "GET", Path: "/api/v1/users", Access: accessAdmin, Tag: "users", Summary: "Every user, oldest first, with role and disabled_at (null while enabled)", Response: []userJSON{}, Status: 200},
	{Method: "PATCH", Path: "/api/v1/users/:id", Access: accessAdmin, Tag: "users", Summary: "Change a user's role and/or disable (true) or enable (false) it; a disabled user cannot log in and its tokens are refused; 409 when no enabled admin would be left; an admin cannot disable itself", Request: userPatch{}, Response: userJSON{}, Status: 200},
	{Method: "PUT", Path: "/api/v1/users/:id/password", Access: accessAdmin, Tag: "users", Summary: "Set a user's password (8 to 72 bytes)", Request: passwordInput{}, Status: 204},
	{Method: "DELETE", Path: "/api/v1/users/:id", Access: accessAdmin, Tag: "users", Summary: "Delete a user (409 for the last enabled admin; not oneself); the event log keeps its email", Status: 204},

	{Method: "GET", Path: "/api/v1/clusters", Access: accessViewer, Tag: "clusters", Summary: "List Kafka clusters", Response: []clusterJSON{}, Status: 200},
	{Method: "POST", Path: "/api/v1/clusters", Access: accessEditor, Tag: "clusters", Summary: "Register a Kafka cluster", Request: clusterInput{}, Response: clusterJSON{}, Status: 201},
	{Method: "GET", Path: "/api/v1/clusters/:id", Access: accessViewer, Tag: "clusters", Summary: "One cluster", Response: clusterJSON{}, Status: 200},
	{Method: "PUT", Path: "/api/v1/clusters/:id", Access: accessEditor, Tag: "clusters", Summary: "Replace a cluster's definition", Request: clusterInput{}, Response: clusterJSON{}, Status: 200},
	{Method: "DELETE", Path: "/api/v1/clusters/:id", Access: accessEditor, Tag: "clusters", Summary: "Forget a cluster", Status: 204},
	{Method: "POST", Path: "/api/v1/clusters/:id/check", Access: accessViewer, Tag: "clusters", Summary: "Connectivity check of every bootstrap server, with a timeout", Response: kafkaadmin.Check{}, Status: 200},
	{Method: "GET", Path: "/api/v1/clusters/:id/topics", Access: accessViewer, Tag: "clusters", Summary: "Topics with partitions and high watermarks", Response: []kafkaadmin.Topic{}, Status: 200},
	{Method: "POST", Path: "/api/v1/clusters/:id/topics", Access: accessEditor, Tag: "clusters", Summary: "Create a topic", Request: topicInput{}, Response: topicInput{}, Status: 201},
	{Method: "GET", Path: "/api/v1/clusters/:id/topics/:topic/messages", Access: accessViewer, Tag: "clusters", Summary: "Read one partition of a topic, never waiting for records not yet written: key, value, timestamp and headers of each record, as UTF-8 text or base64 (encoding says which), each cut at 64 KiB (truncated says so); next is where the following page begins; 404 for a topic the cluster does not have",
		Query: []queryParam{{"partition", "integer", "the partition (default 0)"},
			{"offset", "integer", "read from this offset (clamped to the partition's range)"},
			{"timestamp", "string", "read from the first record at or after this time: RFC 3339 or milliseconds since 1970"},
			{"from", "string", "latest (the default: the last limit records) or earliest; offset, timestamp and from are exclusive"},
			{"limit", "integer", "1 to 500 (default 50)"}},
		Response: kafkaadmin.MessagePage{}, Status: 200},

	{Method: "GET", Path: "/api/v1/functions", Access: accessViewer, Tag: "functions", Summary: "Every uploaded function version, with who uploaded it and the workers whose settings name it", Response: []functionJSON{}, Status: 200},
	{Method: "POST", Path: "/api/v1/functions", Access: accessEditor, Tag: "functions", Summary: "Upload a function binary (Linux ELF) as name + version; stored with its sha256", Request: functionUpload{}, RequestType: "multipart/form-data", Response: functionJSON{}, Status: 201},
	{Method: "GET", Path: "/api/v1/functions/:name", Access: accessViewer, Tag: "functions", Summary: "The versions of one function", Response: []functionJSON{}, Status: 200},
	{Method: "DELETE", Path: "/api/v1/functions/:name/:version", Access: accessEditor, Tag: "functions", Summary: "Delete a version no worker uses (409 naming the workers otherwise)", Status: 204},
	{Method: "GET", Path: "/artifacts/:name/:version", Access: accessPublic, Tag: "functions", Summary: "Download a version's binary (for Nomad's artifact block; no token)", Status: 200},
	{Method: "HEAD", Path: "/artifacts/:name/:version", Access: accessPublic, Tag: "functions", Summary: "Size and ETag (sha256) of a version's binary", Status: 200},

	{Method: "GET", Path: "/api/v1/workers", Access: accessViewer, Tag: "workers", Summary: "List workers", Query: []queryParam{{"pipeline_id", "integer", "only this pipeline's workers"}}, Response: []workerJSON{}, Status: 200},
	{Method: "GET", Path: "/api/v1/workers/overview", Access: accessViewer, Tag: "workers", Summary: "Every worker with its Nomad job, running, healthy and desired instances, total lag and rates in and out; each source is read once for all workers (Nomad's job and allocation lists, each cluster's offsets, one Prometheus query), and a field is null when its source is not configured or did not answer (warnings say which)", Response: overviewJSON{}, Status: 200},
	{Method: "POST", Path: "/api/v1/workers", Access: accessEditor, Tag: "workers", Summary: "Create a worker (config version 1)", Request: workerInput{}, Response: workerJSON{}, Status: 201},
	{Method: "GET", Path: "/api/v1/workers/:id", Access: accessViewer, Tag: "workers", Summary: "One worker", Response: workerJSON{}, Status: 200},
	{Method: "PUT", Path: "/api/v1/workers/:id", Access: accessEditor, Tag: "workers", Summary: "Replace a worker's settings; a change makes a new config version", Request: workerInput{}, Response: workerJSON{}, Status: 200},
	{Method: "DELETE", Path: "/api/v1/workers/:id", Access: accessEditor, Tag: "workers", Summary: "Delete a worker; its job is stopped", Status: 204},
	{Method: "GET", Path: "/api/v1/workers/:id/versions", Access: accessViewer, Tag: "workers", Summary: "The worker's config versions, oldest first", Response: []versionJSON{}, Status: 200},
	{Method: "POST", Path: "/api/v1/workers/:id/rollback", Access: accessEditor, Tag: "workers", Summary: "Write an earlier version's settings as a new version", Request: rollbackInput{}, Response: workerJSON{}, Status: 200},

	{Method: "GET", Path: "/api/v1/pipelines", Access: accessViewer, Tag: "pipelines", Summary: "List pipelines, each with how many of its workers are deployed and healthy (one MySQL query and one Nomad list for all of them)", Response: []pipelineSummary{}, Status: 200},
	{Method: "POST", Path: "/api/v1/pipelines", Access: accessEditor, Tag: "pipelines", Summary: "Save a new pipeline graph; its workers are created in the same transaction", Request: pipelineInput{}, Response: pipelineJSON{}, Status: 201},
	{Method: "GET", Path: "/api/v1/pipelines/:id", Access: accessViewer, Tag: "pipelines", Summary: "Load a pipeline: its graph (with positions and layout) and its workers' ids", Response: pipelineJSON{}, Status: 200},
	{Method: "PUT", Path: "/api/v1/pipelines/:id", Access: accessEditor, Tag: "pipelines", Summary: "Save a pipeline: creates, updates and deletes its workers in one transaction; a stale version is 409", Request: pipelineInput{}, Response: pipelineJSON{}, Status: 200},
	{Method: "DELETE", Path: "/api/v1/pipelines/:id", Access: accessEditor, Tag: "pipelines", Summary: "Delete a pipeline and its workers (their jobs are stopped)", Status: 204},

	{Method: "POST", Path: "/api/v1/workers/:id/deploy", Access: accessEditor, Tag: "deploy", Summary: "Mark the worker running and register its Nomad job (202; poll status for the rollout)", Response: deployJSON{}, Status: 202},
	{Method: "POST", Path: "/api/v1/workers/:id/scale", Access: accessEditor, Tag: "deploy", Summary: "Set the instance count (the job's task group count)", Request: scaleInput{}, Response: workerJSON{}, Status: 200},
	{Method: "POST", Path: "/api/v1/workers/:id/stop", Access: accessEditor, Tag: "deploy", Summary: "Mark the worker stopped and stop its job", Response: workerJSON{}, Status: 200},
	{Method: "GET", Path: "/api/v1/workers/:id/status", Access: accessViewer, Tag: "deploy", Summary: "The worker's job, deployment and allocations in Nomad, with Nomad's reasons for failures", Response: statusJSON{}, Status: 200},
	{Method: "GET", Path: "/api/v1/workers/:id/allocations/:alloc/logs", Access: accessViewer, Tag: "deploy", Summary: "The end of one of the worker's allocations' stdout or stderr, as its Nomad client has it now (no following)",
		Query:    []queryParam{{"stream", "string", "stderr (default) or stdout"}, {"tail", "integer", "bytes from the end, 1 to 1048576 (default 16384)"}, {"task", "string", "the task, when the allocation has several"}},
		Response: logsJSON{}, Status: 200},
	{Method: "POST", Path: "/api/v1/pipelines/:id/deploy", Access: accessEditor, Tag: "deploy", Summary: "Deploy every worker of the pipeline (207 when some failed, each entry says why)", Response: []deployJSON{}, Status: 202},
	{Method: "POST", Path: "/api/v1/pipelines/:id/stop", Access: accessEditor, Tag: "deploy", Summary: "Stop every worker of the pipeline", Response: []deployJSON{}, Status: 200},
	{Method: "GET", Path: "/api/v1/pipelines/:id/status", Access: accessViewer, Tag: "deploy", Summary: "Status of every worker of the pipeline, read concurrently; with metrics=true also each deployed worker's metrics, so one request refreshes a whole pipeline",
		Query: []queryParam{{"metrics", "boolean", "also each worker's GET /workers/{id}/metrics (default false)"}}, Response: []pipelineWorkerStatusJSON{}, Status: 200},

	{Method: "GET", Path: "/api/v1/workers/:id/metrics", Access: accessViewer, Tag: "monitoring", Summary: "Consumer lag per partition and total, throughput (from Prometheus' rate() over 1m, or the server's sampler of Kafka offsets over the last minute; source says which), live instances (heartbeats) against Nomad allocations, pending aggregates, expired and dead-lettered counts, last errors", Response: metricsJSON{}, Status: 200},
	{Method: "GET", Path: "/api/v1/workers/:id/series", Access: accessViewer, Tag: "monitoring", Summary: "One of the worker's series over a range ending now, from Prometheus (503 naming TRIBUTARY_PROMETHEUS_URL when it is not configured): lag (records), rate (records/s in and out), dead_letters and expired (records/s), latency_p99 (seconds); points are [unix seconds, value]",
		Query: []queryParam{{"metric", "string", "lag, rate, dead_letters, expired or latency_p99 (required)"},
			{"range", "string", "a duration from 1m to 7d, such as 15m, 6h or 2d (default 1h)"},
			{"step", "string", "whole seconds, at least 5s and at most 11000 points over the range (default range/120)"}},
		Response: series.Result{}, Status: 200},
	{Method: "GET", Path: "/api/v1/clusters/:id/groups", Access: accessViewer, Tag: "monitoring", Summary: "The cluster's consumer groups with their state, members (client id, host, assigned partitions) and lag per topic and per partition", Response: []kafkaadmin.Group{}, Status: 200},
	{Method: "GET", Path: "/api/v1/workers/:id/dead-letters", Access: accessViewer, Tag: "dead letters", Summary: "A page of the worker's dead-letter topic from a (partition, offset) cursor: value, key, timestamp, the decoded tributary.* headers and any redrive of each record; next is the following page's cursor", Query: []queryParam{{"partition", "integer", "partition to start at (default 0); the page continues into later partitions"}, {"offset", "integer", "offset to start at in that partition (default: its oldest record)"}, {"limit", "integer", "1 to 500 (default 50)"}}, Response: deadletter.Page{}, Status: 200},
	{Method: "POST", Path: "/api/v1/workers/:id/dead-letters/redrive", Access: accessEditor, Tag: "dead letters", Summary: "Send selected dead letters (offsets, up_to per partition, a class) back to their source topic and partition or to to_topic, with tributary.redrive.count incremented; refused past 3 redrives; a record already redriven is not sent again", Request: redriveInput{}, Response: deadletter.RedriveResult{}, Status: 200},
	{Method: "POST", Path: "/api/v1/workers/:id/offsets", Access: accessEditor, Tag: "replay", Summary: "Reset the worker's consumer group to \"earliest\", \"latest\", {\"timestamp\": RFC 3339} or {\"offsets\": [{topic, partition, offset}]}; 409 while its members are active unless stop is true, which stops the job, waits for the group to empty, commits and deploys it again; clear_tombstones lets completed join ids be emitted again; dry_run only answers the committed offsets (from) and where the reset would move them now (to)", Request: offsetsInput{}, Response: replay.ResetResult{}, Status: 200},
	{Method: "GET", Path: "/api/v1/workers/:id/traces", Access: accessViewer, Tag: "traces", Summary: "Recent traces with spans of the worker, from Jaeger", Query: []queryParam{{"limit", "integer", "1 to 100 (default 20)"}, {"lookback", "string", "a duration from 1m to 7d, such as 15m, 2h or 3d (default 1h)"}}, Response: []traceSummaryJSON{}, Status: 200},
	{Method: "GET", Path: "/api/v1/events", Access: accessViewer, Tag: "events", Summary: "The event log, newest first: who deployed, scaled, stopped, rolled back, autoscaled or repaired which worker, when, from what to what and why",
		Query: []queryParam{{"worker_id", "integer", "only this worker's events"}, {"pipeline_id", "integer", "only this pipeline's events"},
			{"limit", "integer", "1 to 1000 (default 100)"}, {"before", "integer", "only events with a smaller id: the next page after the last id seen"}},
		Response: []events.Event{}, Status: 200},
	{Method: "POST", Path: "/api/v1/alerts/webhook", Access: accessAlertmanager, Tag: "alerts", Summary: "Alertmanager's webhook receiver (payload version 4; unknown fields ignored), with the bearer token TRIBUTARY_ALERTMANAGER_TOKEN (503 when unset): each alert is upserted by fingerprint and startsAt; one that fires or resolves is an event of its worker and is forwarded to TRIBUTARY_ALERT_WEBHOOK_URL", Request: alerting.Payload{}, Response: alerting.Receipt{}, Status: 200},
	{Method: "GET", Path: "/api/v1/alerts", Access: accessViewer, Tag: "alerts", Summary: "Alerts Alertmanager sent, newest first; resolved ones are kept for TRIBUTARY_ALERTS_RETENTION",
		Query: []queryParam{{"state", "string", "firing, resolved or all (default all)"}, {"worker", "string", "only alerts whose worker label is this worker's name"},
			{"limit", "integer", "1 to 1000 (default 100)"}},
		Response: alertsJSON{}, Status: 200},
	{Method: "GET", Path: "/api/v1/traces/:trace_id", Access: accessViewer, Tag: "traces", Summary: "One trace's spans: service, operation, parent, links, start, duration, attributes", Response: traceJSON{}, Status: 200},
}

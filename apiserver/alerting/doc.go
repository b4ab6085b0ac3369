// Package alerting keeps the alerts Alertmanager sends to the API server,
// tells the event log and an optional chat webhook when one changes, and
// exports how many fire.
//
// # Receiving
//
// Alertmanager posts its webhook payload (version 4) to
// POST /api/v1/alerts/webhook with the bearer token of
// TRIBUTARY_ALERTMANAGER_TOKEN. Parse turns the payload into Alerts and
// refuses a malformed one with an apiserver.Error naming the field
// ("alerts[2].startsAt"): Alertmanager logs the answer and does not retry
// a 4xx. Unknown fields are ignored, so a newer Alertmanager still gets in.
//
// # Storing
//
// An alert occurrence is identified by Alertmanager's fingerprint (a hash
// of its labels) and the time it started firing: the same alert firing
// again after it resolved is a new occurrence, a new row. Store.Upsert
// writes each with the status, the alertname, severity and worker labels
// (each may be empty but alertname), the summary and description
// annotations, every label and annotation as JSON, and starts_at, ends_at
// and updated_at; the last delivery wins. An upsert reports whether the
// status changed (a new occurrence counts as changed), decided by the
// conditional statements themselves, so two Alertmanagers of an HA pair
// delivering the same notification at once make one change, not two.
// Redelivering a payload changes nothing: Alertmanager may retry after a
// timeout without doubling events or notifications.
//
// # Changes
//
// For every alert whose status changed, Receiver
//   - records an alert_firing or alert_resolved event (package events) for
//     the worker its worker label names, when that is a known worker;
//   - hands the alert to the Forwarder, when TRIBUTARY_ALERT_WEBHOOK_URL is
//     set, without waiting for it.
//
// The Forwarder posts Slack's incoming-webhook message shape ({text,
// attachments:[{color, title, text, fields}]}), which Slack, Mattermost
// and Rocket.Chat accept. It works from a bounded queue (QueueSize) on its
// own goroutine, bounds each attempt by SendTimeout and tries Attempts
// times with a doubling backoff. A notification that cannot be queued or
// sent is a log line with the cause and an alert_forward_failed event;
// it never fails the webhook Alertmanager called. The URL is a secret
// (Slack's carries the credential): it is never logged, and errors that
// would quote it are stripped of it.
//
// # Reading and retention
//
// Store.List answers GET /api/v1/alerts newest first (by starts_at).
// Store.Prune deletes resolved alerts that ended more than the retention
// ago (TRIBUTARY_ALERTS_RETENTION, DefaultRetention) and firing alerts
// Alertmanager has not sent again for as long, which it would have done
// every repeat_interval had they still fired. Every API server prunes;
// a prune is idempotent.
//
// # Metrics
//
// FiringCollector exports tributary_alerts_firing{alertname}, counted in
// MySQL at scrape time, so that every API server reports the same number.
package alerting

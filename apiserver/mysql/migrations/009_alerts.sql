-- Alerts Alertmanager sent to the webhook (POST /api/v1/alerts/webhook),
-- one row per alert occurrence: Alertmanager's fingerprint (a hash of the
-- labels) and the time the alert started firing identify it, so an alert
-- that resolves and fires again later is a second row. status is the last
-- state Alertmanager reported. worker is the alert's worker label ('' when
-- none), a name rather than an id: an alert may name a worker this server
-- does not know, and it outlives a deleted one. Written and pruned by
-- package alerting.
CREATE TABLE IF NOT EXISTS alerts (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  fingerprint VARCHAR(64) NOT NULL,
  starts_at DATETIME(6) NOT NULL,
  ends_at DATETIME(6) NULL,
  status ENUM('firing', 'resolved') NOT NULL,
  name VARCHAR(255) NOT NULL,
  severity VARCHAR(64) NOT NULL,
  worker VARCHAR(255) NOT NULL,
  summary TEXT NOT NULL,
  description TEXT NOT NULL,
  labels JSON NOT NULL,
  annotations JSON NOT NULL,
  generator_url TEXT NOT NULL,
  received_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  UNIQUE KEY alerts_occurrence (fingerprint, starts_at),
  KEY alerts_status (status, starts_at),
  KEY alerts_worker (worker, starts_at),
  KEY alerts_updated (updated_at)
);

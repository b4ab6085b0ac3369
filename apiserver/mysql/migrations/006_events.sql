-- The event log: who deployed, scaled, stopped, rolled back, repaired or
-- autoscaled which worker, when, from what to what and why. Written by the
-- control plane and the HTTP routes through package events; pruned by age.
-- worker_id and pipeline_id are plain ids, not foreign keys: an event
-- outlives the worker it is about.
CREATE TABLE IF NOT EXISTS events (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  actor VARCHAR(255) NOT NULL,
  action VARCHAR(32) NOT NULL,
  worker_id BIGINT NULL,
  pipeline_id BIGINT NULL,
  from_state JSON NULL,
  to_state JSON NULL,
  reason TEXT NOT NULL,
  KEY events_worker (worker_id, id),
  KEY events_pipeline (pipeline_id, id),
  KEY events_at (at)
);

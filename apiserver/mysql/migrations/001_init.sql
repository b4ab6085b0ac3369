-- consumer_configs as it was first created (commit ca26536). Frozen: later
-- columns come from later migrations (003, 005, 007, 012). Before it was
-- frozen, this migration ran worker.Schema, whose meaning grew with every column;
-- 012 brings databases made that way to the same schema as this file's.
CREATE TABLE IF NOT EXISTS consumer_configs (
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
  config_version INT NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS users (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(254) NOT NULL,
  password_hash VARCHAR(100) NOT NULL,
  role ENUM('viewer','editor','admin') NOT NULL DEFAULT 'viewer',
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  UNIQUE KEY users_email (email)
);

-- One row per change of a worker's config, for history and rollback. No
-- foreign key: the history of a deleted worker is kept.
CREATE TABLE IF NOT EXISTS config_versions (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  worker_id BIGINT NOT NULL,
  version INT NOT NULL,
  snapshot JSON NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  created_by BIGINT NULL,
  UNIQUE KEY config_versions_worker_version (worker_id, version)
);

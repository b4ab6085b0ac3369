-- consumer_configs itself is created by worker.Schema, run by migrate.go
-- before this file, so the table the workers read has exactly one definition.

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

-- Function binaries uploaded for workers. The file itself lives in the
-- artifact directory under its sha256; this row names it.
CREATE TABLE IF NOT EXISTS functions (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  version VARCHAR(64) NOT NULL,
  sha256 CHAR(64) NOT NULL,
  size_bytes BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  created_by BIGINT NULL,
  UNIQUE KEY functions_name_version (name, version)
);

-- Pipelines: the editor's graph. Their workers are rows of consumer_configs
-- with pipeline_id set; graph keeps positions and layout. version counts
-- saves, for conflict detection between concurrent editors.
CREATE TABLE IF NOT EXISTS pipelines (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  graph JSON NOT NULL,
  version INT NOT NULL DEFAULT 1,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  UNIQUE KEY pipelines_name (name)
);

-- What the API server adds to a worker beyond what the runtime reads: the
-- function it runs, how many instances, which cluster and pipeline it
-- belongs to, and whether it should be running (the reconciler's input).
ALTER TABLE consumer_configs
  ADD COLUMN IF NOT EXISTS function_name VARCHAR(64) NULL,
  ADD COLUMN IF NOT EXISTS function_version VARCHAR(64) NULL,
  ADD COLUMN IF NOT EXISTS instances INT NOT NULL DEFAULT 1,
  ADD COLUMN IF NOT EXISTS cluster_id BIGINT NULL,
  ADD COLUMN IF NOT EXISTS pipeline_id BIGINT NULL,
  ADD COLUMN IF NOT EXISTS desired_state ENUM('stopped','running') NOT NULL DEFAULT 'stopped',
  ADD COLUMN IF NOT EXISTS updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6);

-- Function binaries move from the disk of the API server that received
-- them into the database, so that every API server of an installation can
-- serve every artifact to Nomad. A binary is stored once per content
-- (sha256), in chunks of at most 1 MiB: one chunk is one row, far below
-- max_allowed_packet (16 MiB by default). sha256 is NULL while an upload
-- streams in, since its chunks are written before its hash is known.
CREATE TABLE IF NOT EXISTS artifacts (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  sha256 CHAR(64) NULL,
  size_bytes BIGINT NOT NULL DEFAULT 0,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  UNIQUE KEY artifacts_sha256 (sha256)
);

CREATE TABLE IF NOT EXISTS artifact_chunks (
  artifact_id BIGINT NOT NULL,
  seq INT NOT NULL,
  data MEDIUMBLOB NOT NULL,
  PRIMARY KEY (artifact_id, seq),
  CONSTRAINT artifact_chunks_artifact FOREIGN KEY (artifact_id) REFERENCES artifacts (id) ON DELETE CASCADE
);

-- The base URL Nomad clients download artifacts from, one for the whole
-- installation: a job spec rendered by any API server is then the same.
ALTER TABLE installation ADD COLUMN IF NOT EXISTS artifact_base_url VARCHAR(2048) NULL;

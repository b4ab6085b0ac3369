-- One row naming this installation. Its jobs in Nomad carry the id in their
-- meta, so that the reconciler of one installation never removes the jobs
-- of another sharing the same Nomad cluster.
CREATE TABLE IF NOT EXISTS installation (
  id TINYINT PRIMARY KEY,
  owner_id CHAR(32) NOT NULL
);

INSERT IGNORE INTO installation (id, owner_id) VALUES (1, REPLACE(UUID(), '-', ''));

-- How long a worker's completed ids keep their tombstones in Redis, in
-- seconds; NULL: the runtime's default (1 h). See docs/guarantees.md.
ALTER TABLE consumer_configs ADD COLUMN IF NOT EXISTS tombstone_ttl_seconds INT NULL;

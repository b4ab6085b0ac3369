-- The columns worker.Schema gained after migration 001 first created
-- consumer_configs, moved to where worker.Schema puts them. Databases whose
-- migration 1 ran worker.Schema (before 001 was frozen) got them there at once;
-- databases made from the frozen 001 got each at the end, from the
-- migration that added it. After this one, both have one schema.
-- tombstone_ttl_seconds is the only such column (worker.Schema since
-- 532555d); migration 005 adds it with ADD COLUMN IF NOT EXISTS, and this
-- one only moves it (on a table of a few rows).
ALTER TABLE consumer_configs MODIFY COLUMN tombstone_ttl_seconds INT NULL AFTER dead_letter_topic;

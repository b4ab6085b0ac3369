-- The JSON Schema a function version declares for its workers' metadata:
-- the metadata_schema of the -describe output its upload carried. NULL: it
-- declared none, and any JSON object is accepted at save.
ALTER TABLE functions ADD COLUMN IF NOT EXISTS metadata_schema JSON NULL;

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
  tombstone_ttl_seconds INT NULL,
  config_version INT NOT NULL DEFAULT 1
)

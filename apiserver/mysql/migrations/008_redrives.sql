-- Dead letters sent back to an input (redrive), one row per dead-letter
-- record on one Kafka cluster: the key is what makes a second redrive of
-- the same record send nothing. state is 'claimed' while a request sends
-- it (claim_token names the request) and 'sent' once Kafka acknowledged
-- it. No foreign key to the worker: the ledger outlives a deleted worker,
-- whose dead-letter topic may still be read.
CREATE TABLE IF NOT EXISTS redrives (
  kafka_cluster VARCHAR(191) NOT NULL,
  dlq_topic VARCHAR(249) NOT NULL,
  dlq_partition INT NOT NULL,
  dlq_offset BIGINT NOT NULL,
  worker_id BIGINT NOT NULL,
  state ENUM('claimed', 'sent') NOT NULL,
  claim_token CHAR(32) NOT NULL,
  claimed_at DATETIME(6) NOT NULL,
  target_topic VARCHAR(249) NOT NULL,
  target_partition INT NOT NULL,
  target_offset BIGINT NOT NULL,
  redrive_count INT NOT NULL,
  actor VARCHAR(255) NOT NULL,
  sent_at DATETIME(6) NULL,
  PRIMARY KEY (kafka_cluster, dlq_topic, dlq_partition, dlq_offset)
);

-- The control plane's leases: work that must happen once per installation
-- (reconcile passes, autoscaling decisions) is done by the API server
-- whose holder id is in the row while expires_at (the database's clock) is
-- in the future. The holder renews it with a conditional UPDATE; another
-- server takes it over once it has expired.
CREATE TABLE IF NOT EXISTS control_leases (
  name VARCHAR(64) PRIMARY KEY,
  holder VARCHAR(255) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  acquired_at DATETIME(6) NOT NULL
);

-- A worker's lag autoscaling policy, as the API validated it
-- ({enabled, min, max, lag_per_instance, activation_lag, cooldown_seconds});
-- NULL: none. The runtime ignores it.
ALTER TABLE consumer_configs ADD COLUMN IF NOT EXISTS autoscale JSON NULL;

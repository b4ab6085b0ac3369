package controlplane

import (
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/mysql"
)

// ConfigFrom is the control plane's part of the server's configuration.
func ConfigFrom(c config.Config) Config {
	return Config{
		Jobs: mysql.JobSettings{PublicURL: c.PublicURL, WorkerMySQLDSN: c.WorkerMySQLDSN,
			RedisAddr: c.RedisAddr, WorkerOTLP: c.WorkerOTLP},
		ReconcileEvery: c.ReconcileEvery,
		LeaseTTL:       c.LeaseTTL,
		AutoscaleEvery: c.AutoscaleEvery,
	}
}

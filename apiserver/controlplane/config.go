package controlplane

import (
	"os"

	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/mysql"
)

// ConfigFrom is the control plane's part of the server's configuration.
// The lease holder id is this machine's name and the listen address: one
// process at a time can listen there, and a server restarted in place
// takes its own lease back at once instead of waiting out the TTL.
func ConfigFrom(c config.Config) Config {
	host, _ := os.Hostname()
	return Config{
		Holder: host + "/" + c.HTTPAddr,
		Jobs: mysql.JobSettings{PublicURL: c.PublicURL, WorkerMySQLDSN: c.WorkerMySQLDSN,
			RedisAddr: c.RedisAddr, WorkerOTLP: c.WorkerOTLP},
		ReconcileEvery: c.ReconcileEvery,
		LeaseTTL:       c.LeaseTTL,
		AutoscaleEvery: c.AutoscaleEvery,
	}
}

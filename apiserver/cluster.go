package apiserver

import "time"

// Cluster is a Kafka cluster the server knows by name (the original
// monitoring service's "Kafka manager"). BootstrapServers holds host:port
// entries; the server dials them, never the cluster's own advertised list,
// when it first connects.
type Cluster struct {
	ID               int64
	Name             string
	BootstrapServers []string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

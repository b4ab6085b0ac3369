# Single-node Nomad agent (server and client in one process) for the local
# Tributary stack. The stack passes -data-dir; everything binds 127.0.0.1.
name                 = "tributary-local"
region               = "global"
datacenter           = "dc1"
bind_addr            = "127.0.0.1"
disable_update_check = true
log_level            = "INFO"

advertise {
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}

ports {
  http = 4646
  rpc  = 4647
  serf = 4648
}

server {
  enabled          = true
  bootstrap_expect = 1
  # Finished allocations and dead jobs are collected quickly so that a
  # development machine does not pile them up.
  job_gc_threshold  = "10m"
  eval_gc_threshold = "10m"
}

client {
  enabled           = true
  network_interface = "lo"
  # No Docker engine on a development machine: skip the driver instead of
  # logging its connection errors. Real clusters select docker per worker.
  options = {
    "driver.denylist" = "docker"
  }
  # The artifact getter may fetch from the local API server.
  artifact {
    disable_filesystem_isolation = true
  }
}

plugin "raw_exec" {
  config {
    enabled = true
  }
}

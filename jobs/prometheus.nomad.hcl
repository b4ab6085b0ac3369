# Prometheus and Alertmanager for Tributary on an existing Nomad cluster
# (docs/operating.md). Prometheus scrapes every worker allocation and API
# server through Nomad's service discovery, evaluates the repository's alert
# rules, and sends alerts to Alertmanager, which routes them to the API
# servers' webhook. Run it from the repository root: the rules are read from
# infra/prometheus/rules with file().
#
#   nomad job run jobs/prometheus.nomad.hcl
#
# Alertmanager's bearer token is the API server's: it reads the same key
# from the Nomad Variable nomad/jobs/tributary-prometheus, so put it there
# too (nomad var put nomad/jobs/tributary-prometheus alertmanager_token=...).

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

variable "prometheus_image" {
  type    = string
  default = "prom/prometheus:v3.16.0" # the release the native stack builds
}

variable "alertmanager_image" {
  type    = string
  default = "prom/alertmanager:v0.35.0"
}

variable "nomad_addr" {
  type        = string
  default     = ""
  description = "The Nomad HTTP API Prometheus discovers targets through; empty: the agent on the allocation's own client."
}

variable "retention" {
  type    = string
  default = "15d"
}

job "tributary-prometheus" {
  datacenters = var.datacenters
  type        = "service"

  group "prometheus" {
    network {
      port "http" {
        to = 9090
      }
    }

    # The TSDB survives a restart of the task, not a move to another client;
    # give the group a host volume or CSI volume for that.
    ephemeral_disk {
      sticky  = true
      migrate = true
      size    = 2048
    }

    service {
      name     = "tributary-prometheus"
      provider = "nomad"
      port     = "http"

      check {
        type     = "http"
        path     = "/-/ready"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "prometheus" {
      driver = "docker"

      config {
        image = var.prometheus_image
        ports = ["http"]
        args = [
          "--config.file=/local/prometheus.yml",
          "--storage.tsdb.path=/alloc/data/tsdb",
          "--storage.tsdb.retention.time=${var.retention}",
          "--web.listen-address=:9090",
          "--web.enable-lifecycle",
        ]
      }

      template {
        destination = "local/rules/tributary.yml"
        data        = file("infra/prometheus/rules/tributary.yml")
        # Rules are Prometheus templates too; keep consul-template off them.
        left_delimiter  = "[[["
        right_delimiter = "]]]"
        change_mode     = "signal"
        change_signal   = "SIGHUP"
      }

      # infra/prometheus/prometheus.yml, with Nomad's service discovery in
      # place of the native stack's fixed addresses.
      template {
        destination   = "local/prometheus.yml"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        data          = <<-EOT
          global:
            scrape_interval: 15s
            evaluation_interval: 15s
          rule_files:
            - /local/rules/*.yml
          alerting:
            alertmanagers:
              - nomad_sd_configs:
                  - server: ${var.nomad_addr != "" ? var.nomad_addr : "http://{{ env \"attr.unique.network.ip-address\" }}:4646"}
                relabel_configs:
                  - source_labels: [__meta_nomad_service]
                    regex: tributary-alertmanager
                    action: keep
          scrape_configs:
            - job_name: prometheus
              static_configs:
                - targets: ["127.0.0.1:9090"]
            - job_name: tributary-api
              nomad_sd_configs:
                - server: ${var.nomad_addr != "" ? var.nomad_addr : "http://{{ env \"attr.unique.network.ip-address\" }}:4646"}
              relabel_configs:
                - source_labels: [__meta_nomad_service]
                  regex: tributary-api
                  action: keep
            # Every allocation of every worker, labelled from the key=value
            # tags jobs/worker.nomad.hcl gives its service.
            - job_name: tributary-workers
              honor_labels: true
              nomad_sd_configs:
                - server: ${var.nomad_addr != "" ? var.nomad_addr : "http://{{ env \"attr.unique.network.ip-address\" }}:4646"}
              relabel_configs:
                - source_labels: [__meta_nomad_tags]
                  regex: ".*,tributary,.*"
                  action: keep
                - source_labels: [__meta_nomad_service]
                  regex: tributary-api
                  action: drop
                - source_labels: [__meta_nomad_tags]
                  regex: ".*,worker=([^,]+),.*"
                  target_label: worker
                - source_labels: [__meta_nomad_tags]
                  regex: ".*,function=([^,]+),.*"
                  target_label: function
                - source_labels: [__meta_nomad_tags]
                  regex: ".*,version=([^,]+),.*"
                  target_label: version
                - source_labels: [__meta_nomad_tags]
                  regex: ".*,alloc=([^,]+),.*"
                  target_label: alloc
                - source_labels: [__meta_nomad_node_id]
                  target_label: node
        EOT
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }

  group "alertmanager" {
    network {
      port "http" {
        to = 9093
      }
    }

    service {
      name     = "tributary-alertmanager"
      provider = "nomad"
      port     = "http"

      check {
        type     = "http"
        path     = "/-/ready"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "alertmanager" {
      driver = "docker"

      config {
        image = var.alertmanager_image
        ports = ["http"]
        args = [
          "--config.file=/local/alertmanager.yml",
          "--storage.path=/alloc/data",
          "--web.listen-address=:9093",
          "--cluster.listen-address=", # one instance: no gossip
        ]
      }

      template {
        destination = "secrets/alertmanager-token"
        perms       = "0400"
        data        = <<-EOT
          {{- with nomadVar "nomad/jobs/tributary-prometheus" }}{{ .alertmanager_token }}{{ end -}}
        EOT
      }

      # infra/alertmanager/alertmanager.yml, sending to one API server (they
      # share the alerts' table); Nomad re-renders it when that one goes.
      template {
        destination   = "local/alertmanager.yml"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        data          = <<-EOT
          route:
            receiver: tributary-api
            group_by: [alertname, worker]
            group_wait: 10s
            group_interval: 1m
            repeat_interval: 4h
          receivers:
            - name: tributary-api
              webhook_configs:
              {{- range nomadService "tributary-api" }}
                - url: http://{{ .Address }}:{{ .Port }}/api/v1/alerts/webhook
                  send_resolved: true
                  max_alerts: 1000
                  http_config:
                    authorization:
                      type: Bearer
                      credentials_file: /secrets/alertmanager-token
              {{- break }}{{ end }}
        EOT
      }

      resources {
        cpu    = 200
        memory = 128
      }
    }
  }
}

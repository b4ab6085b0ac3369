# Tributary's API server and UI on an existing Nomad cluster (docs/operating.md
# walks through it). Several instances share one MariaDB; work that must
# happen once (reconcile, autoscale) runs under a lease one of them holds.
#
# Its secrets come from the Nomad Variable nomad/jobs/tributary-apiserver,
# which only this job can read; nothing secret is in this file or the job:
#
#   nomad var put nomad/jobs/tributary-apiserver \
#     jwt_secret="$(openssl rand -hex 32)" \
#     alertmanager_token="$(openssl rand -hex 24)" \
#     mysql_dsn='tributary:PASSWORD@tcp(mariadb.internal:3306)/tributary?parseTime=true&multiStatements=true' \
#     nomad_token=''   # an ACL token that may submit jobs, when ACLs are on
#   nomad job run -var image=registry.example.com/tributary-apiserver:1.0 \
#     -var redis_addr=redis.internal:6379 jobs/apiserver.nomad.hcl
#
# The image is apiserver/Dockerfile's. Prometheus and Jaeger are found
# through Nomad's service discovery (jobs/prometheus.nomad.hcl,
# jobs/jaeger.nomad.hcl); run them first, or the server starts without
# series and traces until the next restart of its allocation.

variable "image" {
  type        = string
  description = "The API server image, built from apiserver/Dockerfile and pushed where the clients can pull it."
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

variable "count" {
  type        = number
  default     = 2
  description = "How many API servers; they share the database and elect a lease holder."
}

variable "redis_addr" {
  type        = string
  description = "The workers' Redis (host:port): heartbeats and pending joins."
}

variable "nomad_addr" {
  type        = string
  default     = ""
  description = "The Nomad HTTP API the server deploys workers through; empty: the agent on the allocation's own client."
}

variable "trusted_proxies" {
  type        = string
  default     = ""
  description = "TRIBUTARY_TRUSTED_PROXIES: the load balancer's addresses (IPs or CIDRs), so the login throttle sees clients, not the balancer."
}

job "tributary-apiserver" {
  datacenters = var.datacenters
  type        = "service"

  update {
    max_parallel     = 1
    min_healthy_time = "10s"
    healthy_deadline = "3m"
    auto_revert      = true
  }

  group "api" {
    count = var.count

    network {
      port "http" {
        to = 8080
      }
    }

    service {
      name     = "tributary-api"
      provider = "nomad"
      port     = "http"
      # Prometheus (jobs/prometheus.nomad.hcl) scrapes every service with
      # this tag.
      tags = ["tributary", "tributary-api"]

      check {
        type     = "http"
        path     = "/readyz"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "apiserver" {
      driver = "docker"

      config {
        image = var.image
        ports = ["http"]
      }

      env {
        TRIBUTARY_HTTP_ADDR       = "0.0.0.0:8080"
        TRIBUTARY_REDIS_ADDR      = var.redis_addr
        NOMAD_ADDR                = var.nomad_addr != "" ? var.nomad_addr : "http://${attr.unique.network.ip-address}:4646"
        TRIBUTARY_TRUSTED_PROXIES = var.trusted_proxies
        # Workers on any client download function binaries from here.
        TRIBUTARY_PUBLIC_URL = "http://${NOMAD_ADDR_http}"
      }

      # The secrets, from the job's Nomad Variable; rendered into the
      # secrets directory, which only this task sees.
      template {
        destination = "${NOMAD_SECRETS_DIR}/tributary.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/tributary-apiserver" -}}
          TRIBUTARY_JWT_SECRET={{ .jwt_secret }}
          TRIBUTARY_MYSQL_DSN={{ .mysql_dsn }}
          TRIBUTARY_ALERTMANAGER_TOKEN={{ .alertmanager_token }}
          {{ with .nomad_token }}NOMAD_TOKEN={{ . }}{{ end }}
          {{- end }}
        EOT
      }

      # Prometheus, Jaeger's OTLP and query endpoints, by Nomad service.
      template {
        destination = "local/services.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{ range nomadService "tributary-prometheus" }}TRIBUTARY_PROMETHEUS_URL=http://{{ .Address }}:{{ .Port }}
          {{ break }}{{ end }}
          {{- range nomadService "tributary-jaeger-query" }}TRIBUTARY_JAEGER_QUERY_URL=http://{{ .Address }}:{{ .Port }}
          {{ break }}{{ end }}
          {{- range nomadService "tributary-jaeger-otlp" }}OTEL_EXPORTER_OTLP_ENDPOINT=http://{{ .Address }}:{{ .Port }}
          {{ break }}{{ end }}
        EOT
      }

      resources {
        cpu    = 500
        memory = 256
      }
    }
  }
}

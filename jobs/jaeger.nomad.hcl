# Jaeger v2 for Tributary on an existing Nomad cluster (docs/operating.md):
# OTLP from the API servers and workers, the query API the API server reads
# traces from, and Jaeger's own UI. In-memory storage, as in the local
# stack: traces are lost when the allocation moves. For more, point Jaeger
# at a storage backend in its configuration.
#
#   nomad job run jobs/jaeger.nomad.hcl

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

variable "image" {
  type    = string
  default = "jaegertracing/jaeger:2.13.0" # the release the native stack builds
}

job "tributary-jaeger" {
  datacenters = var.datacenters
  type        = "service"

  group "jaeger" {
    network {
      port "otlp_http" {
        to = 4318
      }
      port "otlp_grpc" {
        to = 4317
      }
      port "query" {
        to = 16686
      }
      port "health" {
        to = 13133
      }
    }

    # The API server finds these by name (jobs/apiserver.nomad.hcl); the
    # workers get the OTLP address from the API server.
    service {
      name     = "tributary-jaeger-otlp"
      provider = "nomad"
      port     = "otlp_http"

      check {
        type     = "http"
        port     = "health"
        path     = "/status"
        interval = "10s"
        timeout  = "3s"
      }
    }

    service {
      name     = "tributary-jaeger-query"
      provider = "nomad"
      port     = "query"
    }

    task "jaeger" {
      driver = "docker"

      config {
        # The image's default configuration: all-in-one, in-memory
        # storage, every port on every interface of its container.
        image = var.image
        ports = ["otlp_http", "otlp_grpc", "query", "health"]
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}

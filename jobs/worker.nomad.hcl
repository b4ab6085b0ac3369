# A Tributary worker: one function binary consuming its input topics, run as a
# Nomad service job with one task group whose count is the instance count.
#
# The scheduler (package scheduler) renders this file through Nomad's own
# parser (PUT /v1/jobs/parse with variables); a person can run it by hand:
#
#   nomad job run \
#     -var worker=orders \
#     -var artifact_url=http://127.0.0.1:8080/artifacts/template/1.0.0 \
#     -var artifact_sha256=<hex sha256 of the binary> \
#     -var 'env={TRIBUTARY_TOPICS_INPUT="orders.raw",TRIBUTARY_KAFKA_BROKERS="127.0.0.1:9092",TRIBUTARY_REDIS_ADDR="127.0.0.1:6379"}' \
#     jobs/worker.nomad.hcl
#
# Secrets (the worker's MySQL DSN) never go in -var: they would be stored
# with the job. Put them in the job's variable and pass -var secrets=true:
#
#   nomad var put nomad/jobs/tributary-orders TRIBUTARY_MYSQL_DSN='user:pass@tcp(...)/tributary'

variable "worker" {
  type        = string
  description = "The worker's consumer_name: its Kafka consumer group and TRIBUTARY_WORKER."
}

variable "job_id" {
  type        = string
  default     = ""
  description = "The Nomad job id; empty means tributary-<worker>."
}

variable "service_name" {
  type        = string
  default     = ""
  description = "The Nomad service of the worker's health check; empty means the job id. Must be RFC 1123: letters, digits and dashes, at most 63."
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

variable "instances" {
  type        = number
  default     = 1
  description = "How many allocations run the worker (the task group count)."
}

variable "artifact_url" {
  type        = string
  description = "Where Nomad's artifact getter downloads the function binary from."
}

variable "artifact_sha256" {
  type        = string
  description = "Hex sha256 of the function binary; a mismatch fails the download."
}

variable "code_url" {
  type        = string
  default     = ""
  description = "A Python function's code, run by the python runtime that artifact_url downloads; empty for a Go function."
}

variable "code_sha256" {
  type    = string
  default = ""
}

variable "code_archive" {
  type        = bool
  default     = false
  description = "Whether the code is a .tar.gz with main.py (else one .py module)."
}

variable "driver" {
  type        = string
  default     = "raw_exec"
  description = "raw_exec for the local stack; exec on real Linux clients."
}

variable "cpu" {
  type        = number
  default     = 100
  description = "CPU in MHz."
}

variable "memory" {
  type        = number
  default     = 128
  description = "Memory in MB."
}

variable "env" {
  type        = map(string)
  default     = {}
  description = "Runtime environment (topics, brokers, Redis, MySQL DSN, OTLP endpoint); overrides the defaults below."
}

variable "secrets" {
  type        = bool
  default     = false
  description = "Whether the task reads secret environment (the MySQL DSN) from the Nomad Variable nomad/jobs/<job id>; the scheduler writes it before it registers the job."
}

variable "function_name" {
  type    = string
  default = ""
}

variable "function_version" {
  type    = string
  default = ""
}

variable "worker_id" {
  type        = string
  default     = ""
  description = "The worker's id in the config store."
}

variable "config_version" {
  type        = string
  default     = ""
  description = "Version of the worker's configuration; a change rolls the allocations."
}

variable "min_healthy_time" {
  type        = string
  default     = "5s"
  description = "How long an allocation must stay healthy before the rollout continues."
}

variable "healthy_deadline" {
  type    = string
  default = "2m"
}

variable "progress_deadline" {
  type    = string
  default = "3m"
}

locals {
  python      = var.code_url != ""
  python_code = var.code_archive ? "$${NOMAD_TASK_DIR}/code" : "$${NOMAD_TASK_DIR}/code/main.py"
  job_id       = var.job_id != "" ? var.job_id : "tributary-${var.worker}"
  service_name = var.service_name != "" ? var.service_name : local.job_id
}

job "worker" {
  id          = local.job_id
  name        = local.job_id
  type        = "service"
  datacenters = var.datacenters

  meta {
    tributary_worker           = var.worker
    tributary_worker_id        = var.worker_id
    tributary_function         = var.function_name
    tributary_function_version = var.function_version
    tributary_config_version   = var.config_version
  }

  update {
    max_parallel      = 1
    health_check      = "checks"
    min_healthy_time  = var.min_healthy_time
    healthy_deadline  = var.healthy_deadline
    progress_deadline = var.progress_deadline
    auto_revert       = true
  }

  group "worker" {
    count = var.instances

    network {
      port "http" {}
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "5s"
      mode     = "fail"
    }

    reschedule {
      delay          = "10s"
      delay_function = "exponential"
      max_delay      = "5m"
      unlimited      = true
    }

    service {
      name     = local.service_name
      provider = "nomad"
      port     = "http"
      # Prometheus finds every allocation through nomad_sd_configs and turns
      # these tags into the labels worker, function, version and alloc
      # (infra/prometheus/prometheus.yml).
      tags = [
        "tributary",
        "worker=${var.worker}",
        "function=${var.function_name}",
        "version=${var.function_version}",
        "alloc=${NOMAD_ALLOC_ID}",
      ]

      check {
        name     = "healthz"
        type     = "http"
        path     = "/healthz"
        interval = "5s"
        timeout  = "2s"
      }
    }

    task "function" {
      driver = var.driver

      # The python runtime starts python3; clients that have it say so in
      # their meta (infra/stack.sh sets it on the local one).
      dynamic "constraint" {
        for_each = local.python ? ["python3"] : []
        content {
          attribute = "$${meta.python3}"
          operator  = "is_set"
        }
      }

      artifact {
        source      = var.artifact_url
        destination = "local/function"
        mode        = "file"

        options {
          checksum = "sha256:${var.artifact_sha256}"
        }
      }

      dynamic "artifact" {
        for_each = local.python ? ["code"] : []
        content {
          source      = var.code_url
          destination = var.code_archive ? "local/code" : "local/code/main.py"
          mode        = var.code_archive ? "dir" : "file"
          options {
            checksum = "sha256:${var.code_sha256}"
            archive  = var.code_archive ? "tar.gz" : "false"
          }
        }
      }

      config {
        command = "local/function"
      }

      # NOMAD_* references are left for Nomad to fill in at runtime.
      env = merge({
        TRIBUTARY_WORKER           = var.worker
        TRIBUTARY_FUNCTION_VERSION = var.function_version
        TRIBUTARY_HTTP_ADDR        = "127.0.0.1:${NOMAD_PORT_http}"
      }, local.python ? { TRIBUTARY_PYTHON_MODULE = local.python_code } : {}, var.env)

      # Secrets stay out of the job spec and its submission: the task reads
      # them from its job's Nomad Variable, which its workload identity may
      # read without an ACL policy. toJSON quotes each value as the env
      # file parser expects; a changed value restarts the task with it.
      dynamic "template" {
        for_each = var.secrets ? ["secrets"] : []
        content {
          data        = <<-EOT
          {{ with nomadVar "nomad/jobs/${local.job_id}" }}{{ range .Tuples }}{{ .K }}={{ .V | toJSON }}
          {{ end }}{{ end }}
          EOT
          destination = "secrets/worker.env"
          env         = true
          change_mode = "restart"
        }
      }

      # The runtime commits in-flight work on SIGTERM and exits within 20s.
      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      resources {
        cpu    = var.cpu
        memory = var.memory
      }
    }
  }
}

# Tally on Nomad: the staging service.
#
#   nomad var put nomad/jobs/tally-staging/tally/migrate database_url='postgres://tally_owner:…@db.staging:5432/tally'
#   nomad var put nomad/jobs/tally-staging/tally/tally   database_url='postgres://tally_server:…@db.staging:5432/tally'
#   nomad job run -var image=registry.example.com/tally:1.2.3 nomad/tally.nomad.hcl
#
# Several replicas share one Postgres and keep no state in memory that another replica needs
# (sessions and idempotency keys live in Postgres), so any replica serves any call. Migrations run
# once per allocation as a prestart task, as the schema's owner; sqlx takes an advisory lock, so
# replicas starting together apply them once. The server then logs in as tally_server, a role that
# owns nothing and acts through tally_app, so row-level security binds it. Each task reads only
# its own Variable (Nomad lets a task read nomad/jobs/<job>/<group>/<task>): the server never sees
# the owner's password. See nomad/README.md for deploying, secrets and rolling back.

variable "image" {
  type        = string
  description = "The Tally image to run, e.g. registry.example.com/tally:1.2.3"
}

variable "replicas" {
  type    = number
  default = 2
}

locals {
  # DATABASE_URL from each task's own Nomad Variable, rendered into the task's secrets dir,
  # never into the job file or the image.
  owner_database_env = <<-EOT
    {{ with nomadVar "nomad/jobs/tally-staging/tally/migrate" }}DATABASE_URL={{ .database_url }}{{ end }}
  EOT
  server_database_env = <<-EOT
    {{ with nomadVar "nomad/jobs/tally-staging/tally/tally" }}DATABASE_URL={{ .database_url }}{{ end }}
  EOT
}

job "tally-staging" {
  type        = "service"
  datacenters = ["dc1"]

  group "tally" {
    count = var.replicas

    network {
      port "http" {
        to = 8080
      }
    }

    # Roll one allocation at a time, behind a canary; go back by itself if the new one fails.
    update {
      max_parallel      = 1
      canary            = 1
      health_check      = "checks"
      min_healthy_time  = "10s"
      healthy_deadline  = "2m"
      progress_deadline = "5m"
      auto_revert       = true
      auto_promote      = false
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "15s"
      mode     = "delay"
    }

    # Agents reach Tally through the load balancer, which routes by this service's health.
    service {
      name     = "tally"
      port     = "http"
      provider = "nomad"
      tags     = ["mcp", "metrics"]

      meta {
        metrics_path = "/metrics"
      }

      check {
        name     = "ready"
        type     = "http"
        path     = "/readyz"
        interval = "5s"
        timeout  = "2s"
      }
    }

    # Scale on calls waiting in Tally's bounded queue (and on calls in flight), from Prometheus.
    scaling {
      enabled = true
      min     = 2
      max     = 10

      policy {
        evaluation_interval = "30s"
        cooldown            = "2m"

        check "queue_depth" {
          source = "prometheus"
          query  = "sum(tally_queue_depth{job=\"tally-staging\"})"

          strategy "target-value" {
            target = 8
          }
        }

        check "in_flight" {
          source = "prometheus"
          query  = "avg(tally_requests_in_flight{job=\"tally-staging\"})"

          strategy "target-value" {
            target = 48
          }
        }
      }
    }

    task "migrate" {
      driver = "docker"

      lifecycle {
        hook    = "prestart"
        sidecar = false
      }

      config {
        image = var.image
        args  = ["migrate"]
      }

      template {
        data        = local.owner_database_env
        destination = "secrets/db.env"
        env         = true
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }

    task "tally" {
      driver = "docker"

      config {
        image = var.image
        args  = ["serve"]
        ports = ["http"]
      }

      template {
        data        = local.server_database_env
        destination = "secrets/db.env"
        env         = true
      }

      env {
        TALLY_BIND              = "0.0.0.0:8080"
        TALLY_LOG_FORMAT        = "json"
        TALLY_LOG               = "info"
        TALLY_CONCURRENCY_LIMIT = "64"
        TALLY_QUEUE_LIMIT       = "512"
        # Calls per second for the whole job, however many replicas the autoscaler runs: the
        # replicas split it between them through Postgres (README, "Rates across replicas").
        TALLY_RATE_LIMIT        = "1000"
        TALLY_TIMEOUT           = "30s"
        TALLY_DB_POOL_SIZE      = "16"
        TALLY_SHUTDOWN_GRACE    = "20s"
        # The prestart task migrated as the owner; this login may not, and need not.
        TALLY_SKIP_MIGRATIONS   = "true"
      }

      # On a stop, Nomad deregisters the service, waits shutdown_delay so the load balancer
      # stops routing here, then sends SIGTERM. Tally turns unready, stops accepting and lets
      # calls in flight finish within TALLY_SHUTDOWN_GRACE (20s), below kill_timeout.
      shutdown_delay = "5s"
      kill_signal    = "SIGTERM"
      kill_timeout   = "30s"

      resources {
        cpu    = 500
        memory = 256
      }
    }
  }
}

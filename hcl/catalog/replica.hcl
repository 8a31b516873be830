# Role "replica": event streaming and the other HA services, needed with the
# Active Replica feature. Source: "Role: Event streaming and other HA
# services" in the Carbonio monitoring document.

role "replica" {
  description = "Event streaming and HA: Kafka, Zookeeper, Patroni (Active Replica)"

  service "kafka" {
    description = "Kafka (exporter port 9308)"
    port        = 9308
    tags        = ["kafka"]
    feature     = "active-replica"
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "kafka-7072" {
    description = "Kafka (port 7072)"
    port        = 7072
    tags        = ["kafka"]
    feature     = "active-replica"
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "zookeeper" {
    description = "Zookeeper"
    port        = 2181
    tags        = ["zookeeper"]
    feature     = "active-replica"
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  # Patroni's REST API answers 200 on /health while PostgreSQL runs.
  service "patroni" {
    description = "Patroni (PostgreSQL HA)"
    port        = 8008
    tags        = ["patroni", "http"]
    feature     = "active-replica"
    check "http" {
      http     = "/health"
      interval = "10s"
      timeout  = "5s"
    }
  }

  # Units outside any role target: Kafka (KRaft) and Patroni.
  service "units" {
    description = "systemd units of event streaming and HA"
    tags        = ["systemd"]
    feature     = "active-replica"
    check "carbonio-kafka" {
      type  = "script"
      probe = "systemd"
      args  = { u = "carbonio-kafka.service" }
    }
    check "patroni" {
      type  = "script"
      probe = "systemd"
      args  = { u = "patroni.service" }
    }
  }
}

# Role "replica": event streaming and the other HA services, needed with the
# Active Replica feature. Source: "Role: Event streaming and other HA
# services" in the Carbonio monitoring document.

role "replica" {
  description = "Event streaming and HA: Kafka, Zookeeper (Active Replica); Patroni is role all's, required here"

  service "kafka" {
    description = "Kafka (exporter port 9308)"
    port        = 9308
    tags        = ["kafka"]
    feature     = "active-replica"
    check "tcp" {
      notes    = "Connects to port 9308, listed by the document for the Kafka cluster (the usual port of kafka_exporter). A failure means Kafka's state cannot be monitored (Active Replica)."
      interval = "10s"
      timeout  = "5s"
    }
  }

  # The document lists 7072 under Kafka, so it stays in this role; what
  # listens there on a Carbonio node is the mailbox's nginx lookup endpoint
  # (Carbonio registers it as carbonio-mailbox-nslookup), checked as Carbonio
  # checks it.
  service "nginx-lookup" {
    description = "Port 7072, listed under Kafka by the monitoring document: the mailbox's nginx lookup endpoint listens there"
    port        = 7072
    tags        = ["nginx-lookup", "https"]
    feature     = "active-replica"
    check "http" {
      protocol        = "https"
      http            = "/service/extension/nginx-lookup"
      tls_skip_verify = true
      interval        = "10s"
      timeout         = "5s"
      notes           = "Port 7072 is the mailbox's nginx lookup (the proxy asks it where each mailbox lives), not Kafka; a failure means the proxies cannot route logins."
    }
  }

  service "zookeeper" {
    description = "Zookeeper"
    port        = 2181
    tags        = ["zookeeper"]
    feature     = "active-replica"
    check "tcp" {
      notes    = "Connects to Zookeeper on port 2181 (Active Replica). A failure means Kafka's coordination is down; recent Carbonio releases run Kafka without Zookeeper (KRaft)."
      interval = "10s"
      timeout  = "5s"
    }
  }

  # Kafka (KRaft) runs outside any role target. Patroni is checked wherever
  # it runs (role "all", service "patroni"), required on this role.
  service "units" {
    description = "systemd unit of event streaming (Kafka)"
    tags        = ["systemd"]
    feature     = "active-replica"
    check "carbonio-kafka" {
      notes = "The systemd unit of Kafka (carbonio-kafka.service, KRaft), outside any role target. If it is not active, event streaming for Active Replica stops on this node."
      type  = "script"
      probe = "systemd"
      args  = { u = "carbonio-kafka.service" }
    }
  }
}

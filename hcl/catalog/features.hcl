# Optional features a node declares in its node block (features = [...]).
# Services that depend on one say so with feature = "<name>"; `plan` shows
# the ones left out and why.

feature "antivirus" {
  description = "ClamAV antivirus on the MTA (clamd socket and port 3310)"
}

feature "dkim" {
  description = "DKIM signing with OpenDKIM on the MTA (port 8465)"
}

feature "active-replica" {
  description = "Active Replica: Kafka, Zookeeper and Patroni on the event streaming / HA nodes"
}

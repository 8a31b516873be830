# Optional features a node declares in its node block (features = [...]).
# Services that depend on one say so with feature = "<name>"; `plan` shows
# the ones left out and why.

# A feature's units are left out of the role targets' systemd checks on a
# node without the feature (carbonio-mta.target wants them all), and `plan`
# names them. carbonio-mailthreat (Amavisd) is not the antivirus's: it filters
# spam too and listens on 10024 on every MTA, so it is always checked.

feature "antivirus" {
  description = "ClamAV antivirus on the MTA (clamd socket and port 3310)"
  units       = ["carbonio-antivirus.service", "carbonio-freshclam.service"]
}

feature "dkim" {
  description = "DKIM signing with OpenDKIM on the MTA (port 8465)"
  units       = ["carbonio-opendkim.service"]
}

feature "active-replica" {
  description = "Active Replica: Kafka, Zookeeper and Patroni on the event streaming / HA nodes"
}

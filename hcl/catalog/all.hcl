# Role "all": what every Carbonio node is checked for, whatever its roles.
# Source: "All Nodes" in the Carbonio monitoring document.
#
# Thresholds follow the monitoring plugins (-w/-c ranges); override any of
# them from the node's files, e.g.
#
#   override "all" "load" {
#     check "load" { args = { w = "3,2.5,2" } }
#   }

role "all" {
  description = "Checks every node needs: logged-in users, load, disk, reachability, DNS"

  # Several people on the node over SSH at once may edit the same files:
  # warn from two logged-in users on, critical from five (check_users).
  service "users" {
    description = "Logged-in users (SSH)"
    tags        = ["system", "ssh"]
    check "users" {
      notes    = "Users logged in to the node (SSH). The document asks to watch them because several people working on the same files at once can create issues: WARNING from 2, CRITICAL from 5."
      type     = "script"
      probe    = "users"
      args     = { w = "1", c = "4" }
      interval = "60s"
    }
  }

  # Load average per CPU (check_load -r).
  service "load" {
    description = "CPU load average"
    tags        = ["system", "load"]
    check "load" {
      notes    = "CPU load average per CPU over 1, 5 and 15 minutes, the health of the VM running the services. A high value means the node is overloaded and its services slow down."
      type     = "script"
      probe    = "load"
      args     = { r = true, w = "1.5,1.25,1", c = "3,2.5,2" }
      interval = "30s"
    }
  }

  # Used space of the folders the document lists, evaluated in-process by
  # the daemon (TTL). Thresholds speak of USED percent, as the document does;
  # the disk probe translates them to check_disk's free-space thresholds.
  #
  # Each folder also gets a "size" check: the bytes its own tree uses (the
  # dirsize probe, du -sxB1's figure), so /opt, /var/lib and /var/log on one
  # filesystem no longer report the same number. The daemon keeps one tree
  # per filesystem for the declared folders on it, updated by inotify, so a
  # re-measure reads only what changed; the first walk after a start is
  # throttled (--rate, 50,000 entries/s), and the folder is UNKNOWN ("not
  # measured yet") until it ends.
  # Sizes have thresholds only where a size is wrong whatever the node:
  # /var/log (10 GiB / 20 GiB). Elsewhere the value is perfdata for trends;
  # add thresholds per node, e.g.
  #
  #   override "all" "disk-store" {
  #     check "size" { args = { w = "800G", c = "950G" } }
  #   }
  #
  # /opt holds the Carbonio folders below it: on one filesystem they share
  # /opt's tree, walked and held once (about 8 bytes of memory per file;
  # see checkscript/README.md). A folder that is the root of its own ext4
  # filesystem (the store, often) is counted by the filesystem in O(1).
  service "disk-opt" {
    description = "Disk space used by /opt"
    tags        = ["disk"]
    meta        = { path = "/opt" }
    check "disk" {
      notes    = "Space used on the filesystem holding /opt, in percent: one of the folders the document asks to watch. At 90% used the services writing there are about to fail."
      type     = "ttl"
      probe    = "disk"
      args     = { p = "/opt", used-warning = "80%", used-critical = "90%" }
      interval = "30s"
    }
    check "size" {
      type     = "ttl"
      probe    = "dirsize"
      args     = { p = "/opt" }
      interval = "60s"
      notes    = "Bytes the /opt tree uses, as du -sxB1 counts them (perfdata); no threshold: its normal size depends on the installation (the filesystem's used % is the disk check's)."
    }
  }

  service "disk-var-lib" {
    description = "Disk space used by /var/lib"
    tags        = ["disk"]
    meta        = { path = "/var/lib" }
    check "disk" {
      notes    = "Space used on the filesystem holding /var/lib, in percent: one of the folders the document asks to watch. At 90% used the services writing there are about to fail."
      type     = "ttl"
      probe    = "disk"
      args     = { p = "/var/lib", used-warning = "80%", used-critical = "90%" }
      interval = "30s"
    }
    check "size" {
      type     = "ttl"
      probe    = "dirsize"
      args     = { p = "/var/lib" }
      interval = "60s"
      notes    = "Bytes the /var/lib tree uses, as du -sxB1 counts them (perfdata); no threshold: its normal size depends on the installation (the filesystem's used % is the disk check's)."
    }
  }

  service "disk-var-log" {
    description = "Disk space used by /var/log"
    tags        = ["disk"]
    meta        = { path = "/var/log" }
    check "disk" {
      notes    = "Space used on the filesystem holding /var/log, in percent: one of the folders the document asks to watch. At 90% used the services writing there are about to fail."
      type     = "ttl"
      probe    = "disk"
      args     = { p = "/var/log", used-warning = "80%", used-critical = "90%" }
      interval = "30s"
    }
    check "size" {
      type     = "ttl"
      probe    = "dirsize"
      args     = { p = "/var/log", w = "10G", c = "20G" }
      interval = "60s"
      notes    = "Bytes the /var/log tree uses, as du -sxB1 counts them (perfdata); warning above 10 GiB, critical above 20 GiB: a log that grows like that is a runaway service."
    }
  }

  # The mail store: mandatory on a mailstore (a missing store is critical
  # there), checked on other roles only where it exists (an MTA never has
  # one). Presence is followed by the running daemon: a folder created later
  # gets its check within one interval, one removed loses it.
  service "disk-store" {
    description = "Disk space used by /opt/zextras/store"
    tags        = ["disk"]
    meta        = { path = "/opt/zextras/store" }
    if_present  = "/opt/zextras/store"
    required_by = ["mailstore"]
    check "disk" {
      notes    = "Space used on the filesystem holding /opt/zextras/store, in percent: one of the folders the document asks to watch. At 90% used the services writing there are about to fail."
      type     = "ttl"
      probe    = "disk"
      args     = { p = "/opt/zextras/store", used-warning = "80%", used-critical = "90%" }
      interval = "30s"
    }
    check "size" {
      type     = "ttl"
      probe    = "dirsize"
      args     = { p = "/opt/zextras/store" }
      interval = "60s"
      notes    = "Bytes the /opt/zextras/store tree uses, as du -sxB1 counts them (perfdata); no threshold: its normal size depends on the installation (the filesystem's used % is the disk check's)."
    }
  }

  # Backups: Carbonio Backup is optional and its path configurable, so the
  # folder is checked wherever it exists and nowhere required. A node that
  # must have it says so: override "all" "disk-backup" { required_by = ["mailstore"] }
  service "disk-backup" {
    description = "Disk space used by /opt/zextras/backup"
    tags        = ["disk"]
    meta        = { path = "/opt/zextras/backup" }
    if_present  = "/opt/zextras/backup"
    check "disk" {
      notes    = "Space used on the filesystem holding /opt/zextras/backup, in percent: one of the folders the document asks to watch. At 90% used the services writing there are about to fail."
      type     = "ttl"
      probe    = "disk"
      args     = { p = "/opt/zextras/backup", used-warning = "80%", used-critical = "90%" }
      interval = "30s"
    }
    check "size" {
      type     = "ttl"
      probe    = "dirsize"
      args     = { p = "/opt/zextras/backup" }
      interval = "60s"
      notes    = "Bytes the /opt/zextras/backup tree uses, as du -sxB1 counts them (perfdata); no threshold: its normal size depends on the installation (the filesystem's used % is the disk check's)."
    }
  }

  service "disk-incoming" {
    description = "Disk space used by /opt/zextras/incoming"
    tags        = ["disk"]
    meta        = { path = "/opt/zextras/incoming" }
    if_present  = "/opt/zextras/incoming"
    check "disk" {
      notes    = "Space used on the filesystem holding /opt/zextras/incoming, in percent: one of the folders the document asks to watch. At 90% used the services writing there are about to fail."
      type     = "ttl"
      probe    = "disk"
      args     = { p = "/opt/zextras/incoming", used-warning = "80%", used-critical = "90%" }
      interval = "30s"
    }
    check "size" {
      type     = "ttl"
      probe    = "dirsize"
      args     = { p = "/opt/zextras/incoming" }
      interval = "60s"
      notes    = "Bytes the /opt/zextras/incoming tree uses, as du -sxB1 counts them (perfdata); no threshold: its normal size depends on the installation (the filesystem's used % is the disk check's)."
    }
  }

  service "disk-cache" {
    description = "Disk space used by /opt/zextras/cache"
    tags        = ["disk"]
    meta        = { path = "/opt/zextras/cache" }
    if_present  = "/opt/zextras/cache"
    check "disk" {
      notes    = "Space used on the filesystem holding /opt/zextras/cache, in percent: one of the folders the document asks to watch. At 90% used the services writing there are about to fail."
      type     = "ttl"
      probe    = "disk"
      args     = { p = "/opt/zextras/cache", used-warning = "80%", used-critical = "90%" }
      interval = "30s"
    }
    check "size" {
      type     = "ttl"
      probe    = "dirsize"
      args     = { p = "/opt/zextras/cache" }
      interval = "60s"
      notes    = "Bytes the /opt/zextras/cache tree uses, as du -sxB1 counts them (perfdata); no threshold: its normal size depends on the installation (the filesystem's used % is the disk check's)."
    }
  }

  # Reachability and latency (check_ping) of what this node depends on: the
  # Consul servers its agent knows (/v1/status/peers, this node's own
  # addresses left out) and the default gateway, looked up each time the
  # check runs, so a server added to the cluster is pinged with no change
  # here. One check names every target with its loss and RTA; the worst
  # decides. Replace the targets from the node file (lists repeat -H):
  #
  #   override "all" "ping" {
  #     check "ping" { args = { peers = false, gateway = false, H = ["10.0.0.1", "10.0.0.2"] } }
  #   }
  service "ping" {
    description = "Reachability and round-trip time of the Consul servers and the default gateway"
    tags        = ["network", "icmp"]
    # Run by the daemon, whose unit gives it CAP_NET_RAW: a script check
    # runs as the agent's user, which may not open an ICMP socket where
    # net.ipv4.ping_group_range leaves it out (Debian's default, "1 0").
    check "ping" {
      type     = "ttl"
      probe    = "ping"
      args     = { peers = true, gateway = true, w = "100,20%", c = "500,60%", p = 5 }
      interval = "60s"
      timeout  = "15s"
      notes    = "ICMP echo to each Consul server and the default gateway, with loss and round-trip time per target; critical means this node cannot reach the cluster or its network."
    }
  }

  # Name resolution of external FQDNs (check_dns). Add one check per name.
  service "dns" {
    description = "Resolution of external names"
    tags        = ["network", "dns"]
    check "dns" {
      notes    = "Resolution of an external name with the node's resolver. A failure means the node cannot resolve external names: outgoing mail and updates fail."
      type     = "script"
      probe    = "dns"
      args     = { H = "www.zextras.com", w = "1", c = "5" }
      interval = "60s"
    }
  }

  # systemd units every node runs (the Consul agent: service-discover).
  # Patroni (PostgreSQL HA) wherever it runs: on the event streaming / HA
  # nodes (role replica, where it is required), and on any node that has
  # its configuration (Debian's patroni.service reads
  # /etc/patroni/config.yml), whatever roles it declares. Its REST API
  # answers 200 on /health while its PostgreSQL runs.
  service "patroni" {
    description = "Patroni (PostgreSQL HA)"
    port        = 8008
    tags        = ["patroni", "http"]
    if_present  = "/etc/patroni/config.yml"
    required_by = ["replica"]
    check "http" {
      http     = "/health"
      interval = "10s"
      timeout  = "5s"
      notes    = "Patroni's REST API answers /health with 200 while its PostgreSQL runs; a failure means this database node is down."
    }
    check "unit" {
      notes = "The systemd unit of Patroni, which runs PostgreSQL in HA. If it is not active, this node's database takes no part in the cluster."
      type  = "script"
      probe = "systemd"
      args  = { u = "patroni.service" }
    }
  }

  service "units" {
    description = "systemd units common to every node"
    tags        = ["systemd"]
    check "service-discover" {
      notes = "The systemd unit of the Consul agent (Carbonio Mesh), service-discover.service. If it is not active, this node's services drop out of the mesh and their checks stop updating."
      type  = "script"
      probe = "systemd"
      args  = { u = "service-discover.service" }
    }
  }
}

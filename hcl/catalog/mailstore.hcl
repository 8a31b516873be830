# Role "mailstore": the mailbox application server and its database.
# Source: "Role: Mailstore" in the Carbonio monitoring document. The
# document asks to connect to these ports locally, so they are checked on
# 127.0.0.1 whatever the node's address.

role "mailstore" {
  description = "Mailstore: LMTP, internal IMAP/POP3, admin, HTTP, MariaDB"

  # systemd: the role's target and every unit it wants or requires, read
  # from systemd at each run (service "units", check "target"). Units of
  # features this node does not have are left out (see features.hcl).
  target = "carbonio-appserver.target"

  service "lmtp" {
    description = "LMTP delivery"
    address     = "127.0.0.1"
    port        = 7025
    tags        = ["lmtp", "local"]
    check "tcp" {
      notes    = "Connects locally to LMTP on port 7025, where the MTAs deliver mail into the mailboxes. A failure means incoming mail queues on the MTAs."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "pop3" {
    description = "Mailstore POP3"
    address     = "127.0.0.1"
    port        = 7110
    tags        = ["pop3", "local"]
    check "tcp" {
      notes    = "Connects locally to the mailstore's POP3 on port 7110, behind the proxy. A failure means POP3 users of this mailstore cannot read their mail."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "imap" {
    description = "Mailstore IMAP"
    address     = "127.0.0.1"
    port        = 7143
    tags        = ["imap", "local"]
    check "tcp" {
      notes    = "Connects locally to the mailstore's IMAP on port 7143, behind the proxy. A failure means IMAP users of this mailstore cannot read their mail."
      interval = "10s"
      timeout  = "5s"
    }
  }

  # The check Carbonio's own carbonio-mailbox-admin service registers: the
  # admin port's readiness page over HTTPS (its certificate is not for
  # 127.0.0.1, hence tls_skip_verify).
  service "admin" {
    description = "Mailstore admin (SOAP/HTTPS)"
    address     = "127.0.0.1"
    port        = 7071
    tags        = ["https", "admin", "local"]
    check "http" {
      protocol        = "https"
      http            = "/service/health/ready"
      tls_skip_verify = true
      interval        = "10s"
      timeout         = "5s"
      notes           = "The mailbox admin service answers its readiness page; a failure means the admin console and SOAP admin API are down."
    }
  }

  service "port-8730" {
    description = "Mailstore service on port 8730"
    address     = "127.0.0.1"
    port        = 8730
    tags        = ["local"]
    check "tcp" {
      notes    = "Connects locally to port 8730, a mailstore service the monitoring document lists. A failure means that service of the mailstore is down."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "port-8736" {
    description = "Mailstore service on port 8736"
    address     = "127.0.0.1"
    port        = 8736
    tags        = ["local"]
    check "tcp" {
      notes    = "Connects locally to port 8736, a mailstore service the monitoring document lists. A failure means that service of the mailstore is down."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "pop3s" {
    description = "Mailstore POP3 over TLS"
    address     = "127.0.0.1"
    port        = 7995
    tags        = ["pop3s", "tls", "local"]
    check "tcp" {
      notes    = "Connects locally to the mailstore's POP3 over TLS on port 7995, behind the proxy. A failure means POP3S users of this mailstore cannot read their mail."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "imaps" {
    description = "Mailstore IMAP over TLS"
    address     = "127.0.0.1"
    port        = 7993
    tags        = ["imaps", "tls", "local"]
    check "tcp" {
      notes    = "Connects locally to the mailstore's IMAP over TLS on port 7993, behind the proxy. A failure means IMAPS users of this mailstore cannot read their mail."
      interval = "10s"
      timeout  = "5s"
    }
  }

  # The check Carbonio's own carbonio-mailbox service registers: 200 once
  # the mailbox is ready to serve, not merely listening.
  service "http" {
    description = "Mailstore HTTP"
    address     = "127.0.0.1"
    port        = 8080
    tags        = ["http", "local"]
    check "http" {
      http     = "/service/health/ready"
      interval = "10s"
      timeout  = "5s"
      notes    = "The mailbox answers its readiness page; a failure means it is down or still starting, and the proxies cannot serve its mailboxes."
    }
  }

  # The socket's presence means MariaDB is up.
  service "mariadb" {
    description = "MariaDB database"
    tags        = ["mariadb", "database"]
    meta        = { socket = "/run/carbonio/mysql.sock" }
    check "socket" {
      notes    = "The presence of MariaDB's socket /run/carbonio/mysql.sock means the database is up. A missing socket means the mailstore cannot read or store mail metadata."
      type     = "ttl"
      probe    = "socket"
      args     = { p = "/run/carbonio/mysql.sock" }
      interval = "10s"
    }
  }
}

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
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "admin" {
    description = "Mailstore admin (SOAP/HTTPS)"
    address     = "127.0.0.1"
    port        = 7071
    tags        = ["https", "admin", "local"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "port-8730" {
    description = "Mailstore service on port 8730"
    address     = "127.0.0.1"
    port        = 8730
    tags        = ["local"]
    check "tcp" {
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
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "http" {
    description = "Mailstore HTTP"
    address     = "127.0.0.1"
    port        = 8080
    tags        = ["http", "local"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  # The socket's presence means MariaDB is up.
  service "mariadb" {
    description = "MariaDB database"
    tags        = ["mariadb", "database"]
    meta        = { socket = "/run/carbonio/mysql.sock" }
    check "socket" {
      type     = "ttl"
      probe    = "socket"
      args     = { p = "/run/carbonio/mysql.sock" }
      interval = "10s"
    }
  }
}

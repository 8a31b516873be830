# Role "proxy": the nginx proxy in front of the mailstores.
# Source: "Role: Proxy" in the Carbonio monitoring document.

role "proxy" {
  description = "Proxy: IMAP(S), POP3(S), HTTP(S)"

  # systemd: the role's target and every unit it wants or requires, read
  # from systemd at each run (service "units", check "target"). Units of
  # features this node does not have are left out (see features.hcl).
  target = "carbonio-proxy.target"

  service "imap" {
    description = "IMAP"
    port        = 143
    tags        = ["imap"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "imaps" {
    description = "IMAP over TLS"
    port        = 993
    tags        = ["imaps", "tls"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "pop3" {
    description = "POP3"
    port        = 110
    tags        = ["pop3"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "pop3s" {
    description = "POP3 over TLS"
    port        = 995
    tags        = ["pop3s", "tls"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "http" {
    description = "HTTP"
    port        = 80
    tags        = ["http"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "https" {
    description = "HTTPS"
    port        = 443
    tags        = ["https", "tls"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }
}

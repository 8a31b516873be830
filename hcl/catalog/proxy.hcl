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
      notes    = "Connects to the proxy's IMAP port 143. A failure means mail clients cannot reach their mailboxes over IMAP."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "imaps" {
    description = "IMAP over TLS"
    port        = 993
    tags        = ["imaps", "tls"]
    check "tcp" {
      notes    = "Connects to the proxy's IMAPS port 993. A failure means mail clients cannot reach their mailboxes over IMAP with TLS."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "pop3" {
    description = "POP3"
    port        = 110
    tags        = ["pop3"]
    check "tcp" {
      notes    = "Connects to the proxy's POP3 port 110. A failure means mail clients cannot download mail over POP3."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "pop3s" {
    description = "POP3 over TLS"
    port        = 995
    tags        = ["pop3s", "tls"]
    check "tcp" {
      notes    = "Connects to the proxy's POP3S port 995. A failure means mail clients cannot download mail over POP3 with TLS."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "http" {
    description = "HTTP"
    port        = 80
    tags        = ["http"]
    check "tcp" {
      notes    = "Connects to the proxy's HTTP port 80. A failure means browsers cannot reach Carbonio over HTTP (nor be redirected to HTTPS)."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "https" {
    description = "HTTPS"
    port        = 443
    tags        = ["https", "tls"]
    check "tcp" {
      notes    = "Connects to the proxy's HTTPS port 443. A failure means users cannot reach the web client and the admin console."
      interval = "10s"
      timeout  = "5s"
    }
  }
}

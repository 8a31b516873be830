# Role "mta": Postfix, the milter, antivirus and DKIM.
# Source: "Role: MTA" in the Carbonio monitoring document.

role "mta" {
  description = "Mail transfer agent: SMTP, milter, Amavisd, ClamAV, OpenDKIM"

  # systemd: the role's target and every unit it wants or requires, read
  # from systemd at each run (service "units", check "target"). Units of
  # features this node does not have are left out (see features.hcl).
  target = "carbonio-mta.target"

  service "smtp" {
    description = "SMTP"
    port        = 25
    tags        = ["smtp"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "smtps" {
    description = "SMTP over implicit TLS (submissions)"
    port        = 465
    tags        = ["smtps", "tls"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "submission" {
    description = "SMTP submission"
    port        = 587
    tags        = ["submission", "smtp"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "milter" {
    description = "Carbonio milter"
    port        = 7026
    tags        = ["milter"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  # The socket's presence means clamd is up; the daemon checks it in-process.
  service "clamav" {
    description = "ClamAV antivirus (clamd)"
    port        = 3310
    tags        = ["clamav", "antivirus"]
    meta        = { socket = "/run/carbonio/clamd.socket" }
    feature     = "antivirus"
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
    check "socket" {
      type     = "ttl"
      probe    = "socket"
      args     = { p = "/run/carbonio/clamd.socket" }
      interval = "10s"
    }
  }

  service "amavis" {
    description = "Amavisd content filter"
    port        = 10024
    tags        = ["amavis", "smtp"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "opendkim" {
    description = "OpenDKIM signing"
    port        = 8465
    tags        = ["dkim", "milter"]
    feature     = "dkim"
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }
}

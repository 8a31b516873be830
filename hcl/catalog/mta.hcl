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
      notes    = "Connects to the SMTP port 25 (Postfix). A failure means this MTA accepts no mail from other servers."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "smtps" {
    description = "SMTP over implicit TLS (submissions)"
    port        = 465
    tags        = ["smtps", "tls"]
    check "tcp" {
      notes    = "Connects to port 465, SMTP over implicit TLS. A failure means mail clients cannot submit mail over SMTPS."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "submission" {
    description = "SMTP submission"
    port        = 587
    tags        = ["submission", "smtp"]
    check "tcp" {
      notes    = "Connects to the submission port 587. A failure means users' mail clients cannot send mail."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "milter" {
    description = "Carbonio milter"
    port        = 7026
    tags        = ["milter"]
    check "tcp" {
      notes    = "Connects to the Carbonio milter on port 7026. A failure means Postfix cannot pass mail through the milter and defers it."
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
      notes    = "Connects to ClamAV's clamd on port 3310 (antivirus enabled only). A failure means mail cannot be scanned for viruses."
      interval = "10s"
      timeout  = "5s"
    }
    check "socket" {
      notes    = "The presence of clamd's socket /run/carbonio/clamd.socket means the process is up and running correctly. A missing socket means ClamAV is down and mail is not scanned."
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
      notes    = "Connects to the Amavisd content filter (carbonio-mailthreat) on port 10024. A failure means mail is not filtered for spam and viruses, and Postfix defers it."
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
      notes    = "Connects to OpenDKIM on port 8465 (DKIM signing enabled only). A failure means outgoing mail is not DKIM-signed."
      interval = "10s"
      timeout  = "5s"
    }
  }
}

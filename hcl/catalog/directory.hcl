# Role "directory": the Mesh (Consul servers) and Directory (LDAP, PostgreSQL).
# Source: "Role: Mesh and Directory" in the Carbonio monitoring document.

role "directory" {
  description = "Mesh and Directory: PostgreSQL, LDAP, Consul servers"

  # systemd: the role's target and every unit it wants or requires, read
  # from systemd at each run (service "units", check "target"). Units of
  # features this node does not have are left out (see features.hcl).
  target = "carbonio-directory-server.target"

  service "postgresql" {
    description = "PostgreSQL (checked locally)"
    address     = "127.0.0.1"
    port        = 5432
    tags        = ["postgresql", "database", "local"]
    check "tcp" {
      notes    = "Connects locally to PostgreSQL on port 5432. A failure means the Carbonio services that keep their data there (Files, Docs, Chats, …) stop working."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "ldap" {
    description = "OpenLDAP"
    port        = 389
    tags        = ["ldap"]
    check "tcp" {
      notes    = "Connects to OpenLDAP on port 389, the directory of accounts and configuration. A failure means logins and mail routing fail across the infrastructure."
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "consul-server" {
    description = "Consul server RPC (service discover)"
    port        = 8300
    tags        = ["consul", "rpc"]
    check "tcp" {
      notes    = "Connects to the Consul server RPC port 8300 (service discover). A failure means agents cannot reach this server, and with too few servers the mesh loses its leader."
      interval = "10s"
      timeout  = "5s"
    }
  }

  # The HTTP API answers a leader only when the cluster has one.
  service "consul-http" {
    description = "Consul HTTP API (service discover)"
    port        = 8500
    tags        = ["consul", "http"]
    check "http" {
      notes    = "Asks Consul's HTTP API on port 8500 for the cluster leader; the document reads every service's health from Consul. A failure means the health of the services cannot be read."
      http     = "/v1/status/leader"
      interval = "10s"
      timeout  = "5s"
    }
  }
}

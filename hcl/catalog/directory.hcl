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

  # Consul's /v1/status/leader answers 200 with "" when the cluster has no
  # leader, so an http check on it would pass exactly when it should fail:
  # the leader probe reads the answer. The HTTP API listens on loopback only.
  service "consul-http" {
    description = "Consul HTTP API (service discover) and the cluster's leader"
    address     = "127.0.0.1"
    port        = 8500
    tags        = ["consul", "http"]
    check "leader" {
      type     = "script"
      probe    = "leader"
      args     = { H = "127.0.0.1:8500" }
      interval = "10s"
      timeout  = "5s"
      notes    = "The local Consul server answers and the cluster has a raft leader; critical means the mesh lost quorum and no registration or health change is accepted."
    }
  }
}

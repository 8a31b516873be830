# Role "directory": the Mesh (Consul servers) and Directory (LDAP, PostgreSQL).
# Source: "Role: Mesh and Directory" in the Carbonio monitoring document.

role "directory" {
  description = "Mesh and Directory: PostgreSQL, LDAP, Consul servers"

  service "postgresql" {
    description = "PostgreSQL (checked locally)"
    address     = "127.0.0.1"
    port        = 5432
    tags        = ["postgresql", "database", "local"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "ldap" {
    description = "OpenLDAP"
    port        = 389
    tags        = ["ldap"]
    check "tcp" {
      interval = "10s"
      timeout  = "5s"
    }
  }

  service "consul-server" {
    description = "Consul server RPC (service discover)"
    port        = 8300
    tags        = ["consul", "rpc"]
    check "tcp" {
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

  service "units" {
    description = "systemd units of the mesh and directory"
    tags        = ["systemd"]
    check "carbonio-openldap" {
      type  = "script"
      probe = "systemd"
      args  = { u = "carbonio-openldap.service" }
    }
    check "postgresql" {
      type  = "script"
      probe = "systemd"
      args  = { u = "postgresql.service" }
    }
  }
}

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

  # The HTTP API answers a leader only when the cluster has one.
  service "consul-http" {
    description = "Consul HTTP API (service discover)"
    port        = 8500
    tags        = ["consul", "http"]
    check "http" {
      http     = "/v1/status/leader"
      interval = "10s"
      timeout  = "5s"
    }
  }
}

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

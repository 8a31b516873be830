# Read-only ACL policy for readers of health: `carbonio-health status` run by
# Nagios or Zabbix, and `consul watch` handlers. It can read every node's and
# service's health and change nothing.
#
#   consul acl policy create -name carbonio-health-status -rules @acl-status-policy.hcl
node_prefix "" {
  policy = "read"
}

service_prefix "" {
  policy = "read"
}

# `status` without -node asks the agent for its own node name (/v1/agent/self).
agent_prefix "" {
  policy = "read"
}

# A hand-made ACL policy for the token of `carbonio-health run` and
# `carbonio-health deregister`, by prefix, the same for every node. Prefer
# `carbonio-health setup`: it creates a tighter policy per node (write on
# each declared service by exact name, read on its own node and agent) and
# the token file. This one also lets the token rewrite Carbonio's own
# services named carbonio-* (carbonio-mta, its sidecar proxy, …).
# Create it once per cluster:
#
#   consul acl policy create -name carbonio-health -rules @acl-policy.hcl
#   consul acl token create -description "carbonio-health on $(hostname)" \
#       -policy-name carbonio-health
#
# Tested against a real ACL-enabled agent (registrar/acl_test.go,
# deploy/deploy_test.go).

# Register, update and deregister the node's services and feed their TTL
# checks. Every service the tool declares is named carbonio-<role>-<key>;
# anything else is out of reach, so the token cannot touch foreign services.
service_prefix "carbonio-" {
  policy = "write"
}

# /v1/agent/self (which script checks the agent allows) is agent:read;
# /v1/agent/reload (after writing the script-check fragment into the agent's
# config dir) is agent:write. Scope it to the node's own name in production
# (agent "mail-1.example.com" { policy = "write" }) when tokens are per node.
agent_prefix "" {
  policy = "write"
}

# The daemon follows its own node in the catalog with blocking queries
# (/v1/catalog/node-services/<node>, /v1/health/node/<node>) instead of
# reading the agent every second; both need node:read. Without it the daemon
# still works, polling the agent every second. `carbonio-health setup`
# scopes this to the node's own name.
node_prefix "" {
  policy = "read"
}

# Nothing else: no node write, key/value or operator rights.

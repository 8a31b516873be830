# The ACL policy of the daemon's token (`carbonio-health run` and
# `carbonio-health deregister`) for the example node: what
# `carbonio-health setup` creates on a node named agent-mail-1-example-com
# that declares deploy/package/node.hcl.example (roles mta and proxy), rule
# for rule (make test keeps it so: TestShippedDaemonPolicy; the cluster tests
# run that node's daemon with this file as it is).
#
# On a node, let setup write it: it names your node and your declaration's
# services, and refuses to widen an existing policy unless told to:
#
#   service-discover bootstrap-token | carbonio-health setup -owner carbonio-health
#
# Nothing here is by prefix: Carbonio's own services are called carbonio-mta,
# carbonio-mta-sidecar-proxy, …, so no prefix of ours would leave them out.
#   agent "<node>" write   /v1/agent/self (which script checks the agent
#                          allows) and /v1/agent/reload after the daemon
#                          writes its config fragment; this agent only
#   node "<node>" read     the blocking watch of the node in the catalog
#   service "<name>" write each service the node's roles declare, registered
#                          now or once a feature or folder condition holds,
#                          its heartbeat (carbonio-health-daemon) and its
#                          metrics endpoint (carbonio-health)
agent "agent-mail-1-example-com" {
  policy = "write"
}
node "agent-mail-1-example-com" {
  policy = "read"
}
service "carbonio-all-disk-backup" {
  policy = "write"
}
service "carbonio-all-disk-cache" {
  policy = "write"
}
service "carbonio-all-disk-incoming" {
  policy = "write"
}
service "carbonio-all-disk-opt" {
  policy = "write"
}
service "carbonio-all-disk-store" {
  policy = "write"
}
service "carbonio-all-disk-var-lib" {
  policy = "write"
}
service "carbonio-all-disk-var-log" {
  policy = "write"
}
service "carbonio-all-dns" {
  policy = "write"
}
service "carbonio-all-load" {
  policy = "write"
}
service "carbonio-all-patroni" {
  policy = "write"
}
service "carbonio-all-ping" {
  policy = "write"
}
service "carbonio-all-units" {
  policy = "write"
}
service "carbonio-all-users" {
  policy = "write"
}
service "carbonio-health" {
  policy = "write"
}
service "carbonio-health-daemon" {
  policy = "write"
}
service "carbonio-mta-amavis" {
  policy = "write"
}
service "carbonio-mta-clamav" {
  policy = "write"
}
service "carbonio-mta-milter" {
  policy = "write"
}
service "carbonio-mta-opendkim" {
  policy = "write"
}
service "carbonio-mta-smtp" {
  policy = "write"
}
service "carbonio-mta-smtps" {
  policy = "write"
}
service "carbonio-mta-submission" {
  policy = "write"
}
service "carbonio-mta-units" {
  policy = "write"
}
service "carbonio-proxy-http" {
  policy = "write"
}
service "carbonio-proxy-https" {
  policy = "write"
}
service "carbonio-proxy-imap" {
  policy = "write"
}
service "carbonio-proxy-imaps" {
  policy = "write"
}
service "carbonio-proxy-pop3" {
  policy = "write"
}
service "carbonio-proxy-pop3s" {
  policy = "write"
}
service "carbonio-proxy-units" {
  policy = "write"
}

# A Consul agent watch (drop into the agent's config dir) that runs the alert
# handler whenever the set of critical checks changes. The handler keeps the
# checks carbonio-health owns and logs or forwards them.
#
# The same from a shell, for a try:
#   consul watch -type=checks -state=critical /usr/libexec/carbonio-health/alert-handler.sh
watches = [
  {
    type         = "checks"
    state        = "critical"
    handler_type = "script"
    args         = ["/usr/libexec/carbonio-health/alert-handler.sh"]
  }
]

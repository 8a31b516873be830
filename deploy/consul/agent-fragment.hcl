# Drop into the Consul agent's config dir (Carbonio:
# /etc/zextras/service-discover/) and restart the agent once.
#
# carbonio-health writes the services that carry script checks into
# carbonio-health.json next to this file and asks the agent to reload: that
# needs only enable_local_script_checks, which lets the agent run scripts
# defined in its own config files, never ones sent over the HTTP API.
enable_local_script_checks = true

# Never enable_script_checks = true without ACLs: it lets anyone who can reach
# the HTTP API run commands on the node.

# One plugin line plus perfdata fits easily; the agent's default is 4096.
check_output_max_size = 4096

# With ACLs, services read from config files are registered in the catalog
# with the agent's config_file_service_registration token (falling back to
# the agent's default token): it needs service:write on carbonio-* , e.g.
#   acl { tokens { config_file_service_registration = "<token>" } }

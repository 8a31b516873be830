#!/usr/bin/env bash
# make run: a development Consul agent on loopback (the pinned build in bin/)
# and carbonio-health registering the built-in catalog for every role and
# feature (deploy/dev/node.hcl) into it. Ctrl-C stops both; the agent runs in
# -dev mode, so nothing outlives it.
#
#   CONSUL_DEV_HTTP_PORT   the agent's HTTP/UI port (default 8500)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
bin="$repo/bin"
port=${CONSUL_DEV_HTTP_PORT:-8500}
state="$bin/dev"
confd="$state/consul.d"
mkdir -p "$confd"

# The agent's own settings, as Carbonio's service-discover would have them:
# scripts only from local config files (the daemon writes its fragment here).
cat >"$confd/agent.hcl" <<HCL
node_name                  = "carbonio-dev"
enable_local_script_checks = true
check_output_max_size      = 4096
ports {
  http = $port
  dns  = -1
}
HCL

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "make run: 127.0.0.1:$port is already taken (another Consul agent?); set CONSUL_DEV_HTTP_PORT" >&2
	exit 1
fi

"$bin/consul" agent -dev -bind 127.0.0.1 -client 127.0.0.1 -ui \
	-config-dir "$confd" -log-level warn >"$state/consul.log" 2>&1 &
agent=$!
trap 'kill "$daemon" 2>/dev/null; kill "$agent" 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
daemon=

for _ in $(seq 1 100); do
	if curl -fsS "http://127.0.0.1:$port/v1/status/leader" 2>/dev/null | grep -q ':'; then
		break
	fi
	sleep 0.2
done

cat <<MSG
Consul dev agent:  http://127.0.0.1:$port/ui   (log: $state/consul.log)
Health, raw:       curl -s http://127.0.0.1:$port/v1/health/state/any
Health, as Nagios: $bin/carbonio-health status -http-addr 127.0.0.1:$port
Metrics:           curl -s http://127.0.0.1:$port/v1/catalog/service/carbonio-health  (its address and port; then /metrics)
Reload the node:   kill -HUP \$(pgrep -f 'carbonio-health run')       Ctrl-C stops everything.
MSG

# -metrics-addr port 0: a free port, registered in Consul as carbonio-health.
"$bin/carbonio-health" run -http-addr "127.0.0.1:$port" \
	-config-dir "$repo/deploy/dev" -agent-config-dir "$confd" -metrics-addr 127.0.0.1:0 &
daemon=$!
wait "$daemon"

# shellcheck shell=bash
# What the bench scripts that run the daemon share (footprint.sh,
# dirsize.sh), sourced by them: the dev Consul agent they measure against,
# and waiting for an event. Needs $repo (the repository's root).
#
# start_dev_agent WORK: bin/consul agent -dev on free loopback ports, its
# configuration in WORK/consul.d/agent.hcl (the daemon's -agent-config-dir),
# its log in WORK/consul.log. Free ports for every listener: the catalog
# checks 127.0.0.1:8300 (the Consul server port), so a dev agent on its
# default ports would flip that check in any other agent measured at the same
# time. Sets agent (the pid), port (HTTP) and spare (one more free port, for
# the caller's own listener) and returns once the agent has a leader (30 s
# at the most).
start_dev_agent() {
	local work=$1 ports server serf
	ports=$(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])' 2>/dev/null || echo "18500 18300 18301 18302")
	read -r port server serf spare <<<"$ports"
	mkdir -p "$work/consul.d"
	cat >"$work/consul.d/agent.hcl" <<HCL
enable_local_script_checks = true
ports {
  http     = $port
  server   = $server
  serf_lan = $serf
  serf_wan = -1
  dns      = -1
  grpc     = -1
  grpc_tls = -1
}
HCL
	"$repo/bin/consul" agent -dev -bind 127.0.0.1 -client 127.0.0.1 -config-dir "$work/consul.d" \
		-log-level error >"$work/consul.log" 2>&1 &
	agent=$!
	for _ in $(seq 1 150); do
		curl -fsS "http://127.0.0.1:$port/v1/status/leader" 2>/dev/null | grep -q ':' && return 0
		sleep 0.2
	done
}

# wait_until CHECK REPORT [ARG…]: runs CHECK ARG… every second until it
# succeeds and prints how many seconds that took; after 600 s it prints
# REPORT ARG… to stderr and fails.
wait_until() {
	local check=$1 report=$2 t0=$SECONDS
	shift 2
	until "$check" "$@"; do
		if [ $((SECONDS - t0)) -gt 600 ]; then
			"$report" "$@" >&2
			return 1
		fi
		sleep 1
	done
	echo $((SECONDS - t0))
}

#!/usr/bin/env bash
# Daemon footprint (deploy/bench/README.md, item 2): carbonio-health run with the
# full built-in catalog (deploy/dev/node.hcl: every role and feature) against a
# real dev agent for $FOOTPRINT_SECONDS (default 60): peak RSS (VmHWM) and CPU
# seconds from /proc, next to the Consul agent's own in the same run. Then,
# same agent, $FOOTPRINT_SECONDS each: the daemon reading the agent every
# second (-resync 1s, the old way), and no daemon at all, for what the daemon
# costs the agent. Prints one markdown table row per process and phase.
# Each window starts once the daemon has settled (settled), never at a
# fixed time after its start: a start's first outputs are followed every
# second until they are in the catalog, and size checks walk their folders
# first; neither is the steady state measured. At each window's start the
# peak RSS of the daemon and the agent is reset (/proc/PID/clear_refs, 5),
# so the peak is the window's; the daemon's peak since its start goes to
# stderr.
#
# FOOTPRINT_METRICS=1 runs the daemon with -metrics-addr on a free port and
# scrapes its /metrics $FOOTPRINT_SCRAPES times (default 1000, with curl, as
# Prometheus asks: text format, gzip accepted) at the start of the window;
# run.sh runs it beside a run with FOOTPRINT_METRICS=0 (no metrics) to get
# what metrics add; with FOOTPRINT_METRICS set either way, only the first
# phase runs.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FOOTPRINT_SECONDS:-60}
work=$(mktemp -d)
daemon= agent=
trap 'kill $daemon $agent 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
# shellcheck source=deploy/bench/lib.sh
. "$repo/deploy/bench/lib.sh"
start_dev_agent "$work"
mport=$spare
metrics=() label="carbonio-health run"
scrapes=${FOOTPRINT_SCRAPES:-1000}
if [ "${FOOTPRINT_METRICS:-0}" = 1 ]; then
	metrics=(-metrics-addr "127.0.0.1:$mport")
	label="carbonio-health run -metrics-addr, $scrapes scrapes"
fi
# start_daemon [extra flags…]: the daemon on the full catalog, in the background
# (no metrics endpoint unless the flags ask for one: run's default is :9171).
start_daemon() {
	"$repo/bin/carbonio-health" run -http-addr "127.0.0.1:$port" -config-dir "$repo/deploy/dev" \
		-agent-config-dir "$work/consul.d" -log-level info -metrics-addr "" "$@" 2>"$work/daemon.log" &
	daemon=$!
}
# unsettled: what keeps the node from its steady state, one word a check
# (empty once settled): a check without an output yet, a non-passing check
# whose output the catalog does not show yet (what the daemon's first-output
# follow-up waits for; it stops at its next comparison, within 1 s, once
# none is left), or a size check still walking its folder ("not measured
# yet").
unsettled() {
	local node
	node=$(curl -fsS "http://127.0.0.1:$port/v1/agent/self" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Config"]["NodeName"])')
	python3 -c '
import json, sys
agent, catalog = json.load(open(sys.argv[1])), {c["CheckID"]: c for c in json.load(open(sys.argv[2]))}
for id, a in sorted(agent.items()):
    c = catalog.get(id)
    if a["Output"] == "":
        print(id + ":no-output")
    elif "not measured yet" in a["Output"]:
        print(id + ":not-measured-yet")
    elif a["Status"] != "passing" and (c is None or c["Status"] != a["Status"] or c["Output"] != a["Output"]):
        print(id + ":output-not-in-catalog")
' <(curl -fsS "http://127.0.0.1:$port/v1/agent/checks") <(curl -fsS "http://127.0.0.1:$port/v1/health/node/$node")
}
# settled: the daemon said it is in sync with the agent (every declared
# check registered) and nothing is unsettled.
settled() {
	local left
	grep -q 'in sync with the consul agent' "$work/daemon.log" && left=$(unsettled) && [ -z "$left" ]
}
not_settled() { echo "footprint: the daemon has not settled after 600 s: $(unsettled | paste -sd' ')"; }
stop_daemon() {
	kill "$daemon" 2>/dev/null || true
	wait "$daemon" 2>/dev/null || true
	daemon=
}

# CPU ticks (utime+stime) and the clock tick rate.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
hwm() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
# window_start PID…: the peak RSS of each process starts again from its RSS now.
window_start() {
	local p
	for p in "$@"; do
		echo 5 >"/proc/$p/clear_refs" 2>/dev/null || echo "footprint: cannot reset the peak RSS of $p: its figure is since its start" >&2
	done
}
row() { # name pid t0 t1
	local cpu pct
	cpu=$(awk -v a="$3" -v b="$4" -v hz="$hz" 'BEGIN {printf "%.2f", (b-a)/hz}')
	pct=$(awk -v c="$cpu" -v s="$secs" 'BEGIN {printf "%.3f", 100*c/s}')
	echo "| $1 | $(hwm "$2") | $cpu | $pct |"
}

# 1. The daemon as it runs by default (a blocking watch of its node), with
# -metrics-addr and scraped when FOOTPRINT_METRICS=1.
start_daemon "${metrics[@]}"
settled=$(wait_until settled not_settled)
echo "footprint: settled $settled s after the start, peak RSS $(hwm "$daemon") MiB until then" >&2
window_start "$daemon" "$agent"
d0=$(ticks "$daemon") a0=$(ticks "$agent")
start=$(date +%s)
if [ ${#metrics[@]} -gt 0 ]; then
	# One connection kept alive, as Prometheus keeps it.
	for _ in $(seq 1 "$scrapes"); do echo "url = \"http://127.0.0.1:$mport/metrics\""; done >"$work/scrapes.curl"
	curl -fsS -K "$work/scrapes.curl" -H 'Accept: text/plain;version=0.0.4' -H 'Accept-Encoding: gzip' >/dev/null
fi
rest=$((secs - ($(date +%s) - start)))
if [ "$rest" -gt 0 ]; then sleep "$rest"; fi
d1=$(ticks "$daemon") a1=$(ticks "$agent")
services=$(curl -fsS "http://127.0.0.1:$port/v1/agent/services" | grep -o '"carbonio-health:[^"]*":' | wc -l)
rows=("$(row "$label" "$daemon" "$d0" "$d1")" "$(row "consul agent (dev), same run" "$agent" "$a0" "$a1")")
stop_daemon

if [ -n "${FOOTPRINT_METRICS:-}" ]; then # the metrics runs measure phase 1 only
	echo "| process ($services services, ${secs} s) | peak RSS MiB | CPU s | % of one core |"
	echo "|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	exit 0
fi

# 2. The same daemon reading the agent every second, as before the watch.
start_daemon -resync 1s
settled=$(wait_until settled not_settled)
echo "footprint: -resync 1s settled $settled s after the start, peak RSS $(hwm "$daemon") MiB until then" >&2
window_start "$daemon" "$agent"
p0=$(ticks "$daemon") b0=$(ticks "$agent")
sleep "$secs"
p1=$(ticks "$daemon") b1=$(ticks "$agent")
rows+=("$(row "carbonio-health run -resync 1s (reads the agent every second, the old way)" "$daemon" "$p0" "$p1")"
	"$(row "consul agent, same run" "$agent" "$b0" "$b1")")
stop_daemon

# 3. The agent alone with the same registrations (its own checks still run).
sleep 2
window_start "$agent"
c0=$(ticks "$agent")
sleep "$secs"
c1=$(ticks "$agent")
rows+=("$(row "consul agent, no daemon" "$agent" "$c0" "$c1")")

echo "| process ($services services, ${secs} s each) | peak RSS MiB | CPU s | % of one core |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"

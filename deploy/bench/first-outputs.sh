#!/usr/bin/env bash
# First outputs of `make run`'s non-passing checks (deploy/bench/README.md):
# runs deploy/dev/run.sh of REPO (default this repository; its bin/ holds the
# daemon measured) on CONSUL_DEV_HTTP_PORT, and for WINDOW seconds (default
# 150) samples the agent's checks and the catalog's every 0.2 s. For every
# check that is not passing it prints when its first output appeared in the
# agent and when the catalog had that output, and sums up: how many checks
# had their first output in the catalog within one interval of their first
# run. Run it under the shared lock (make run takes the dev ports):
#
#   flock /tmp/heavy.lock deploy/bench/first-outputs.sh [REPO] > out.md
set -euo pipefail

repo=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
port=${CONSUL_DEV_HTTP_PORT:-8500}
window=${WINDOW:-150}
api="http://127.0.0.1:$port"
samples=$(mktemp -d)
trap 'kill "$run" 2>/dev/null; wait "$run" 2>/dev/null; rm -rf "$samples"' EXIT

CONSUL_DEV_HTTP_PORT=$port "$repo/deploy/dev/run.sh" >"$samples/run.log" 2>&1 &
run=$!
start=$(date +%s.%N)
for _ in $(seq 1 100); do
	curl -fsS "$api/v1/status/leader" 2>/dev/null | grep -q ':' && break
	sleep 0.2
done

# One line per sample and check: time since start, check ID, agent status,
# agent output's hash, catalog output's hash (outputs hashed: they hold
# newlines).
end=$(echo "$start + $window" | bc)
while [ "$(echo "$(date +%s.%N) < $end" | bc)" = 1 ]; do
	now=$(echo "$(date +%s.%N) - $start" | bc)
	agent=$(curl -fsS "$api/v1/agent/checks" 2>/dev/null || echo '{}')
	catalog=$(curl -fsS "$api/v1/health/node/carbonio-dev?stale" 2>/dev/null || echo '[]')
	jq -r --arg t "$now" --argjson cat "$catalog" '
		($cat | map({key: .CheckID, value: .Output}) | from_entries) as $c
		| to_entries[] | select(.key | startswith("carbonio-health:"))
		| [$t, .key, .value.Status, (.value.Output | @base64 | .[0:40]), (($c[.key] // "") | @base64 | .[0:40]), .value.Interval]
		| @tsv' <<<"$agent" >>"$samples/samples.tsv"
	sleep 0.2
done

# Per non-passing check: first time the agent had an output, first time the
# catalog had the agent's output, and its interval.
awk -F'\t' '
	function secs(s) { if (s ~ /m/) { split(s, p, "m"); return p[1] * 60 + secs(p[2]) } sub(/s$/, "", s); return s + 0 }
	{
		id = $2; t = $1 + 0
		if ($3 != "passing") failing[id] = 1
		if (!(id in agentAt) && $4 != "") agentAt[id] = t
		if ((id in agentAt) && !(id in catAt) && $4 != "" && $4 == $5) catAt[id] = t
		iv[id] = ($6 == "" ? 0 : secs($6))
	}
	END {
		for (id in failing) {
			n++
			if (!(id in agentAt)) { printf "| %s | %ss | none | — | — |\n", id, iv[id]; continue }
			if (!(id in catAt)) { printf "| %s | %ss | %.1f s | not within the window | > %.0f s |\n", id, iv[id], agentAt[id], '"$window"' - agentAt[id]; late++; continue }
			d = catAt[id] - agentAt[id]
			printf "| %s | %ss | %.1f s | %.1f s | %.1f s |\n", id, iv[id], agentAt[id], catAt[id], d
			if (iv[id] > 0 && d > iv[id]) late++
			if (d > worst) worst = d
		}
		printf "%d non-passing checks; %d with their first output in the catalog later than one interval after their first run (or not at all within %d s); the longest wait %.1f s.\n", n, late + 0, '"$window"', worst > "'"$samples/summary"'"
	}' "$samples/samples.tsv" | sort >"$samples/rows"
echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores: $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo "$repo")."
echo
cat "$samples/summary"
echo
echo "| check | interval | first output in the agent | in the catalog | after its first run |"
echo "|---|---|---|---|---|"
cat "$samples/rows"

#!/usr/bin/env bash
# make bench: the six measurements of the README's "Benchmarks" table, in one
# run on this machine, written to deploy/bench/results.md (raw go test output
# kept next to it under deploy/bench/raw/). About 7 minutes, plus 2–7 for
# dirsize (most of it writing its 500,000-file tree). Needs bin/consul,
# bin/carbonio-health and Debian's monitoring plugins (make bench builds and
# installs them first).
#
# The CPU-bound measurements (check cost, cold registration) run alone. The
# three that mostly wait (footprint and steady state: 60 s of a quiet node;
# detection: a 1 s check interval) run side by side, each against its own
# agent: together they use a few percent of one core, so none of them
# disturbs the others, and the run is 100 s shorter.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
out=deploy/bench/results.md
raw=deploy/bench/raw
mkdir -p "$raw"
export CARBONIO_HEALTH_BIN="$repo/bin/carbonio-health"

bench() { # name package pattern extra-args…
	local name=$1 pkg=$2 pattern=$3
	shift 3
	echo "== $name" >&2
	go test -run '^$' -bench "$pattern" "$@" "$pkg" | tee "$raw/$name.txt" >&2
}

bench check-cost ./checkscript BenchmarkCheck -benchtime 200x -count 5 -benchmem
bench registration ./registrar '^BenchmarkColdRegistration$' -benchtime 1x -timeout 30m
bench registration-config ./registrar '^BenchmarkColdRegistrationConfigFile$' -benchtime 1x -timeout 30m

echo "== dirsize" >&2
deploy/bench/dirsize.sh "$raw/dirsize.txt" >"$raw/dirsize.md"
cat "$raw/dirsize.md" >&2

echo "== footprint, steady-state, detection (side by side)" >&2
deploy/bench/footprint.sh >"$raw/footprint.md" &
footprint=$!
go test -run '^$' -bench BenchmarkSteadyState -benchtime 1x ./registrar >"$raw/steady-state.txt" &
steady=$!
go test -run '^$' -bench BenchmarkDetection -benchtime 1x ./registrar >"$raw/detection.txt" &
detection=$!
failed=0
for job in "$footprint:footprint.md" "$steady:steady-state.txt" "$detection:detection.txt"; do
	wait "${job%%:*}" || { echo "bench: ${job#*:} failed" >&2; failed=1; }
	cat "$raw/${job#*:}" >&2
done
[ "$failed" = 0 ]

# metric FILE NAME UNIT: the value printed before UNIT on the line of NAME.
metric() {
	awk -v n="$2" -v u="$3" '$1 ~ n { for (i = 2; i <= NF; i++) if ($i == u) print $(i-1) }' "$1" | head -1
}

# timing FILE N: the time and per-service cells of the registration row for
# N services ("> budget (k in the agent)" when the pass was cut).
timing() {
	local ms us done
	ms=$(metric "$1" "services=$2-" ms/registration)
	us=$(metric "$1" "services=$2-" µs/service)
	if awk -v f="$(metric "$1" "services=$2-" finished)" 'BEGIN { exit !(f == 1) }'; then
		echo "$ms ms | $us µs"
	else
		done=$(metric "$1" "services=$2-" registered)
		echo "> $ms ms (${done%.*} of $2 in the agent) | ≥ $us µs"
	fi
}

{
	echo "# Benchmark results"
	echo
	echo "Written by \`make bench\` (deploy/bench/run.sh) on $(date -u +%Y-%m-%d), $(nproc) cores, $(go version | cut -d' ' -f3)."
	echo "Every ratio compares figures of this same run. Raw output: deploy/bench/raw/."
	echo
	echo "## 1. One check evaluation (median of 5 runs × 200 evaluations)"
	echo
	echo "| probe | in-process | exec Debian plugin | exec carbonio-health check | plugin / in-process | our exec / in-process |"
	echo "|---|---|---|---|---|---|"
	awk '
		/^BenchmarkCheck\// {
			split($1, p, "/"); probe = p[2]; variant = p[3]; sub(/-[0-9]+$/, "", variant)
			for (i = 2; i <= NF; i++) if ($i == "ns/op") v[probe, variant, ++n[probe, variant]] = $(i-1)
			probes[probe] = 1
		}
		function median(probe, variant,   k, m, a, i, j, t) {
			m = n[probe, variant]; if (m == 0) return 0
			for (i = 1; i <= m; i++) a[i] = v[probe, variant, i] + 0
			for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return a[int((m + 1) / 2)]
		}
		function human(ns) { return ns >= 1e6 ? sprintf("%.2f ms", ns / 1e6) : sprintf("%.1f µs", ns / 1e3) }
		END {
			for (probe in probes) {
				ip = median(probe, "in-process"); pl = median(probe, "plugin"); cm = median(probe, "command")
				printf "| %s | %s | %s | %s | %.0f× | %.0f× |\n", probe, human(ip), human(pl), human(cm), pl / ip, cm / ip
			}
		}' "$raw/check-cost.txt" | sort
	echo
	echo "## 2. Daemon footprint, full catalog, 60 s"
	echo
	cat "$raw/footprint.md"
	echo
	echo "## 3. Cold registration (5 TTL checks per service)"
	echo
	echo "A pass is cut after \$BENCH_BUDGET (default 2 min): a cut row says how many services were in the agent by then."
	echo
	echo "| services | API: time | API: per service | API: agent calls per service | config fragment + 1 reload: time | per service | API / fragment |"
	echo "|---|---|---|---|---|---|---|"
	for n in 10 100 1000 5000; do
		f="$raw/registration.txt" g="$raw/registration-config.txt"
		[ -n "$(metric "$f" "services=$n-" ms/registration)" ] || continue
		calls=$(metric "$f" "services=$n-" calls/service)
		ratio=$(awk -v a="$(metric "$f" "services=$n-" ms/registration)" -v b="$(metric "$g" "services=$n-" ms/registration)" \
			-v fa="$(metric "$f" "services=$n-" finished)" -v fb="$(metric "$g" "services=$n-" finished)" \
			'BEGIN { if (b > 0 && fb == 1) printf "%s%.1f×", (fa == 1 ? "" : "> "), a / b; else print "—" }')
		echo "| $n | $(timing "$f" "$n") | $calls | $(timing "$g" "$n") | $ratio |"
	done
	echo
	echo "## 4. Steady state (nothing changing)"
	echo
	f="$raw/steady-state.txt"
	echo "| seconds | register/deregister/reload calls | TTL updates | reads | catalog services index moved by | catalog checks index moved by |"
	echo "|---|---|---|---|---|---|"
	echo "| $(metric "$f" BenchmarkSteadyState seconds) | $(metric "$f" BenchmarkSteadyState writes) | $(metric "$f" BenchmarkSteadyState ttl-updates) | $(metric "$f" BenchmarkSteadyState reads) | $(metric "$f" BenchmarkSteadyState services-index-delta) | $(metric "$f" BenchmarkSteadyState checks-index-delta) |"
	echo
	echo "## 5. Detection latency, 20 trials (to the health API reporting critical)"
	echo
	f="$raw/detection.txt"
	echo "| event | median | max |"
	echo "|---|---|---|"
	echo "| socket removed (TTL check, inotify) | $(metric "$f" BenchmarkDetection socket-removed-median-ms) ms | $(metric "$f" BenchmarkDetection socket-removed-max-ms) ms |"
	echo "| TCP listener closed (agent TCP check, 1 s interval) | $(metric "$f" BenchmarkDetection tcp-closed-median-ms) ms | $(metric "$f" BenchmarkDetection tcp-closed-max-ms) ms |"
	echo
	echo "## 6. dirsize: the index against du, same tree, same run"
	echo
	cat "$raw/dirsize.md"
} >"$out"
echo "wrote $out" >&2
cat "$out"

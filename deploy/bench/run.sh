#!/usr/bin/env bash
# make bench: the six measurements of the table of deploy/bench/README.md, in one
# run on this machine, written to deploy/bench/results.md (raw go test output
# kept next to it under deploy/bench/raw/). About 9 minutes, plus 2–7 for
# dirsize (most of it writing its 500,000-file tree). Needs bin/consul,
# bin/carbonio-health and Debian's monitoring plugins (make bench builds and
# installs them first), plus 5 for the flapping socket and the busy node.
# BENCH_ONLY="metrics …" runs only the named measurements (check-cost
# registration dirsize waiting metrics flapping busy) and writes results.md
# from the raw output of this run and of the last run of the others
# (BENCH_ONLY=none: no measurement, results.md rewritten from raw/).
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
export CARBONIO_HEALTH_CHECK_BIN="$repo/bin/carbonio-health-check"

bench() { # name package pattern extra-args…
	local name=$1 pkg=$2 pattern=$3
	shift 3
	echo "== $name" >&2
	go test -run '^$' -bench "$pattern" "$@" "$pkg" | tee "$raw/$name.txt" >&2
}

# want NAME: whether this run measures NAME.
want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }

if want check-cost; then
	bench check-cost ./checkscript BenchmarkCheck -benchtime 200x -count 5 -benchmem
fi
if want registration; then
	bench registration ./registrar '^BenchmarkColdRegistration$' -benchtime 1x -timeout 30m
	bench registration-config ./registrar '^BenchmarkColdRegistrationConfigFile$' -benchtime 1x -timeout 30m
fi

if want dirsize; then
	echo "== dirsize" >&2
	deploy/bench/dirsize.sh "$raw/dirsize.txt" >"$raw/dirsize.md"
	cat "$raw/dirsize.md" >&2
fi

if want waiting; then
	echo "== footprint, steady-state, detection, catalog writes (side by side)" >&2
	deploy/bench/footprint.sh >"$raw/footprint.md" &
	footprint=$!
	go test -run '^$' -bench BenchmarkSteadyState -benchtime 1x ./registrar >"$raw/steady-state.txt" &
	steady=$!
	go test -run '^$' -bench BenchmarkDetection -benchtime 1x ./registrar >"$raw/detection.txt" &
	detection=$!
	go test -run '^$' -bench BenchmarkCatalogWrites -benchtime 1x -timeout 30m ./registrar >"$raw/catalog-writes.txt" &
	catalog=$!
	failed=0
	for job in "$footprint:footprint.md" "$steady:steady-state.txt" "$detection:detection.txt" "$catalog:catalog-writes.txt"; do
		wait "${job%%:*}" || { echo "bench: ${job#*:} failed" >&2; failed=1; }
		cat "$raw/${job#*:}" >&2
	done
	[ "$failed" = 0 ]
fi

# Metrics: the cost of one scrape in-process (CPU-bound, alone), then the
# daemon with -metrics-addr scraped 1,000 times beside one without, each
# against its own agent, for 60 s.
if want metrics; then
	bench metrics-scrape ./registrar/metrics BenchmarkScrape -benchtime 2000x -count 5 -benchmem
	echo "== metrics on and off (side by side)" >&2
	FOOTPRINT_METRICS=1 FOOTPRINT_SCRAPES=1000 deploy/bench/footprint.sh >"$raw/footprint-metrics-on.md" &
	on=$!
	FOOTPRINT_METRICS=0 deploy/bench/footprint.sh >"$raw/footprint-metrics-off.md" &
	off=$!
	wait "$on" && wait "$off"
	cat "$raw/footprint-metrics-on.md" "$raw/footprint-metrics-off.md" >&2
fi

# Catalog writes of a socket flapping every second (damped and undamped side
# by side) and of a busy node (a log folder growing, the load moving): both
# mostly wait (2 and 4 min windows), so they run side by side.
if want flapping || want busy; then
	echo "== flapping socket, busy node (side by side)" >&2
	pids=()
	if want flapping; then
		go test -run '^$' -bench '^BenchmarkFlappingSocket$' -benchtime 1x -timeout 30m ./registrar >"$raw/flapping.txt" &
		pids+=("$!:flapping.txt")
	fi
	if want busy; then
		go test -run '^$' -bench '^BenchmarkBusyNode$' -benchtime 1x -timeout 30m ./registrar >"$raw/busy-node.txt" &
		pids+=("$!:busy-node.txt")
	fi
	failed=0
	for job in "${pids[@]}"; do
		wait "${job%%:*}" || { echo "bench: ${job#*:} failed" >&2; failed=1; }
		cat "$raw/${job#*:}" >&2
	done
	[ "$failed" = 0 ]
fi

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
	if [ -n "${BENCH_ONLY:-}" ]; then
		echo "Measured on this date: ${BENCH_ONLY} (BENCH_ONLY); the other sections are from the raw output of an earlier full run."
	fi
	echo
	echo "## 1. One check evaluation (median of 5 runs × 200 evaluations)"
	echo
	echo "Exec variants, run interleaved (one exec of each per round; each run reports the median exec): a minimal Go"
	echo "program that prints one line (built by the benchmark, static), Debian's plugin, \`carbonio-health-check check <probe>\`"
	echo "(what the agent execs for a light probe's script check) and \`carbonio-health check <probe>\` (the whole binary)."
	echo
	echo "| probe | in-process | exec minimal Go | exec Debian plugin | exec carbonio-health-check | exec carbonio-health check | ours / minimal Go | ours / plugin | full / minimal Go |"
	echo "|---|---|---|---|---|---|---|---|---|"
	awk '
		/^BenchmarkCheck\// {
			split($1, p, "/"); probe = p[2]; kind = p[3]; sub(/-[0-9]+$/, "", kind)
			probes[probe] = 1
			for (i = 2; i <= NF; i++) {
				if (kind == "in-process" && $i == "ns/op") v[probe, "in-process", ++n[probe, "in-process"]] = $(i-1)
				if (kind == "exec" && $i ~ /-ns$/) { variant = $i; sub(/-ns$/, "", variant); v[probe, variant, ++n[probe, variant]] = $(i-1) }
			}
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
				ip = median(probe, "in-process"); mg = median(probe, "minimal-go"); pl = median(probe, "plugin")
				cm = median(probe, "command"); fu = median(probe, "full")
				printf "| %s | %s | %s | %s | %s | %s | %.2f× | %.2f× | %.2f× |\n", probe, human(ip), human(mg), human(pl), human(cm), human(fu), cm / mg, cm / pl, fu / mg
			}
		}' "$raw/check-cost.txt" | sort
	echo
	echo "## 2. Daemon footprint, full catalog, 60 s per phase; what it costs the agent"
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
	echo "| seconds | register/deregister/reload calls | TTL updates | reads | blocking watch queries | leader asks | catalog services index moved by | catalog checks index moved by |"
	echo "|---|---|---|---|---|---|---|---|"
	echo "| $(metric "$f" BenchmarkSteadyState seconds) | $(metric "$f" BenchmarkSteadyState writes) | $(metric "$f" BenchmarkSteadyState ttl-updates) | $(metric "$f" BenchmarkSteadyState reads) | $(metric "$f" BenchmarkSteadyState watch-queries) | $(metric "$f" BenchmarkSteadyState leader-asks) | $(metric "$f" BenchmarkSteadyState services-index-delta) | $(metric "$f" BenchmarkSteadyState checks-index-delta) |"
	echo
	echo "## 5. Detection latency, 20 trials (to the health API reporting critical)"
	echo
	f="$raw/detection.txt"
	echo "| event | median | max |"
	echo "|---|---|---|"
	echo "| socket removed (TTL check, inotify) | $(metric "$f" BenchmarkDetection socket-removed-median-ms) ms | $(metric "$f" BenchmarkDetection socket-removed-max-ms) ms |"
	echo "| TCP listener closed (agent TCP check, 1 s interval) | $(metric "$f" BenchmarkDetection tcp-closed-median-ms) ms | $(metric "$f" BenchmarkDetection tcp-closed-max-ms) ms |"
	echo
	echo "## 6. Metrics (-metrics-addr), full catalog"
	echo
	echo "One scrape of the handler in-process (median of 5 runs × 2,000 scrapes; CPU = getrusage, garbage collection included):"
	echo
	echo "| variant | CPU per scrape | wall per scrape | series | bytes | allocations |"
	echo "|---|---|---|---|---|---|"
	awk '
		/^BenchmarkScrape\// {
			split($1, p, "/"); v = p[2]; sub(/-[0-9]+$/, "", v); k = ++n[v]; vs[v] = 1
			for (i = 2; i <= NF; i++) {
				if ($i == "cpu-µs/scrape") cpu[v, k] = $(i-1)
				if ($i == "ns/op") ns[v, k] = $(i-1)
				if ($i == "series") series[v] = $(i-1)
				if ($i == "bytes/scrape") bytes[v] = $(i-1)
				if ($i == "allocs/op") allocs[v] = $(i-1)
			}
		}
		function median(arr, v,   m, a, i, j, t) {
			m = n[v]; for (i = 1; i <= m; i++) a[i] = arr[v, i] + 0
			for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return a[int((m + 1) / 2)]
		}
		END { for (v in vs) printf "| %s | %.0f µs | %.0f µs | %d | %d | %d |\n", v, median(cpu, v), median(ns, v) / 1000, series[v], bytes[v], allocs[v] }
	' "$raw/metrics-scrape.txt" | sort
	echo
	echo "The daemon side by side, metrics on (scraped 1,000 times over one kept-alive connection, as Prometheus scrapes) and off, each against its own agent:"
	echo
	cat "$raw/footprint-metrics-on.md"
	grep '^| carbonio-health run |' "$raw/footprint-metrics-off.md" || true
	echo
	awk -F'|' '
		FNR == 1 { f++ }
		/carbonio-health run/ { rss[f] = $3 + 0; cpu[f] = $4 + 0; if (match($2, /[0-9]+ scrapes/)) scrapes = substr($2, RSTART, RLENGTH) + 0 }
		END { printf "Metrics add %.1f MiB peak RSS and %.2f ms of daemon CPU per scrape (CPU on − CPU off over the same 60 s, ÷ %d).\n", rss[1] - rss[2], (cpu[1] - cpu[2]) * 1000 / scrapes, scrapes }
	' "$raw/footprint-metrics-on.md" "$raw/footprint-metrics-off.md"
	echo
	echo "## 7. Catalog writes per node-hour, full catalog, steady state"
	echo
	f="$raw/catalog-writes.txt"
	iv=$(metric "$f" BenchmarkCatalogWrites check-update-interval-s)
	echo "Two agents side by side with check_update_interval = ${iv%.*} s, $(metric "$f" BenchmarkCatalogWrites seconds) s counted after every check's"
	echo "first output reached the catalog. Output-only writes scale back by 300 s / ${iv%.*} s to Consul's default interval;"
	echo "status changes do not. Which checks were written: deploy/bench/raw/catalog-writes.txt."
	echo
	echo "| check output stored in Consul | writes per node-hour at ${iv%.*} s | at the default 5 min | first outputs after registration (once) |"
	echo "|---|---|---|---|"
	echo "| full line (\`run -full-output\`, the old way) | $(metric "$f" BenchmarkCatalogWrites "full-writes/node-hour@${iv%.*}s") | $(metric "$f" BenchmarkCatalogWrites full-writes/node-hour@5m) | $(metric "$f" BenchmarkCatalogWrites full-transient-writes) |"
	echo "| steady form (default) | $(metric "$f" BenchmarkCatalogWrites "steady-writes/node-hour@${iv%.*}s") | $(metric "$f" BenchmarkCatalogWrites steady-writes/node-hour@5m) | $(metric "$f" BenchmarkCatalogWrites steady-transient-writes) |"
	echo
	echo "## 8. dirsize: the index against du, same tree, same run"
	echo
	cat "$raw/dirsize.md"
	runs=$(cd "$raw" && ls dirsize-run*.txt 2>/dev/null | tr '\n' ' ')
	if [ -n "$runs" ]; then
		echo
		echo "More runs of the same code that day (deploy/bench/README.md, \"What dirsize costs\"): deploy/bench/raw/ $runs"
	fi
	if [ -f "$raw/flapping.txt" ]; then
		f="$raw/flapping.txt"
		echo
		echo "## 9. Catalog writes of a socket flapping every second"
		echo
		echo "One socket TTL check (interval 10 s), its socket gone and back every second, $(metric "$f" BenchmarkFlappingSocket seconds) s,"
		echo "check_update_interval = $(metric "$f" BenchmarkFlappingSocket check-update-interval-s) s; two agents side by side."
		echo
		echo "| damping | catalog writes per node-hour |"
		echo "|---|---|"
		echo "| default (failures_before_critical 1, success_before_passing 2) | $(metric "$f" BenchmarkFlappingSocket damped-writes/node-hour) |"
		echo "| none (success_before_passing 1) | $(metric "$f" BenchmarkFlappingSocket undamped-writes/node-hour) |"
	fi
	if [ -f "$raw/busy-node.txt" ]; then
		f="$raw/busy-node.txt"
		iv=$(metric "$f" BenchmarkBusyNode check-update-interval-s)
		echo
		echo "## 10. Catalog writes of a busy node, full catalog"
		echo
		echo "The /var/log checks on a folder growing 8 KiB a second, the load moved (one core busy 10 s in 30),"
		echo "$(metric "$f" BenchmarkBusyNode seconds) s with check_update_interval = ${iv%.*} s. Which checks were written: deploy/bench/raw/busy-node.txt."
		echo
		echo "| status-change writes | output-only writes | writes per node-hour at ${iv%.*} s | at the default 5 min |"
		echo "|---|---|---|---|"
		echo "| $(metric "$f" BenchmarkBusyNode status-writes) | $(metric "$f" BenchmarkBusyNode output-writes) | $(metric "$f" BenchmarkBusyNode "writes/node-hour@${iv%.*}s") | $(metric "$f" BenchmarkBusyNode writes/node-hour@5m) |"
	fi
} >"$out"
echo "wrote $out" >&2
cat "$out"

#!/usr/bin/env bash
# dirsize (deploy/bench/README.md, "dirsize"): on a mailstore-shaped tree of
# $DIRSIZE_FILES files (5,000,000) made by mailstore-tree.sh under
# $DIRSIZE_TMP (default $TMPDIR or /tmp) and always removed at the end:
#
#  1. BenchmarkDirsize, in-process: the five declared folders (the /opt-like
#     folder and zextras/store, backup, incoming, cache) started as the
#     daemon starts them, their first walk, the tree's memory per file,
#     rounds of 1 % of the files changed, each re-measured and compared with
#     GNU du -sxB1 of each folder in the same round, and the CPU between runs.
#  2. The whole daemon: carbonio-health run (role mailstore, built-in
#     catalog) against a dev agent, the five folders' size checks pointed at
#     the tree (interval 15 s), until all five show du's figure; then 1 % of
#     the files changed and again until all five show du's new figure; its
#     peak RSS (VmHWM) and CPU from /proc. On a tree made again for it when
#     step 1 ran: step 1's four rounds leave 40,000 files and links more
#     (80 % more inodes with several links), not the tree the goal states.
#
#  3. BenchmarkDirsizeCounted: a folder that is the root of its filesystem
#     (a loop-mounted ext4, a tmpfs; 200,000 files each), counted in O(1) by
#     statfs, against du -sxB1 of it.
#
# Raw output to $1 (default deploy/bench/raw/dirsize.txt), $1's -daemon.txt,
# -daemon-memory.tsv (the daemon's memory every half second, from /proc),
# -daemon-gctrace.txt (its heap at each collection) and -counted.txt; prints the
# markdown of all three to stdout. Needs bin/consul and bin/carbonio-health
# (make bench builds them).
#
# DIRSIZE_TREE_DIR=DIR measures a tree made beforehand by
# `mailstore-tree.sh make DIR` and leaves it (for repeated runs while
# working on dirsize; remove it with `mailstore-tree.sh remove DIR`).
# DIRSIZE_STEPS (default "inprocess daemon counted") picks the steps.
# DIRSIZE_DAEMON=PATH runs that carbonio-health binary instead of
# bin/carbonio-health (a branch's build, beside the lead's bin).
# DIRSIZE_DAEMON_SEED (99) picks the daemon step's changes: on a tree made
# beforehand give each run a seed not used on it yet, or the burst is much
# smaller (the same changes again find most of their work done).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
raw=${1:-$repo/deploy/bench/raw/dirsize.txt}
raw_daemon=${raw%.txt}-daemon.txt
raw_counted=${raw%.txt}-counted.txt
raw_memory=${raw%.txt}-daemon-memory.tsv
raw_gctrace=${raw%.txt}-daemon-gctrace.txt
files=${DIRSIZE_FILES:-5000000}
cd "$repo"
# shellcheck source=deploy/bench/lib.sh
. deploy/bench/lib.sh

if [ "${DIRSIZE_REUSE:-}" != 1 ]; then # DIRSIZE_REUSE=1 only formats the raw files again
	steps=" ${DIRSIZE_STEPS:-inprocess daemon counted} "
	tree=${DIRSIZE_TREE_DIR:-}
	[ -n "$tree" ] || tree=$(mktemp -d "${DIRSIZE_TMP:-${TMPDIR:-/tmp}}/dirsize-bench.XXXXXX")
	work=$(mktemp -d)
	agent= daemon= sampler=
	cleanup() {
		for p in $sampler $daemon $agent; do kill "$p" 2>/dev/null || true; done
		wait 2>/dev/null || true
		if [ -z "${DIRSIZE_TREE_DIR:-}" ]; then
			echo "dirsize: removing the tree ($tree)" >&2
			deploy/bench/mailstore-tree.sh remove "$tree"
		fi
		rm -rf "$work"
	}
	trap cleanup EXIT
	# make_tree makes $files files under $tree (removed first by the caller).
	make_tree() {
		echo "dirsize: making $files files under $tree" >&2
		local start
		start=$(date +%s)
		deploy/bench/mailstore-tree.sh make "$tree" "$files" 2>&1 | tee -a "$work/make.txt" >&2
		echo "dirsize: tree made in $(($(date +%s) - start)) s" >&2
	}
	trap 'exit 130' INT TERM
	if [ -n "${DIRSIZE_TREE_DIR:-}" ]; then
		[ -d "$tree/opt" ] || { echo "dirsize: no tree in $tree (mailstore-tree.sh make $tree)" >&2; exit 1; }
		echo "dirsize: measuring the tree made beforehand in $tree" >&2
	else
		make_tree
	fi

	# 1. In-process.
	if [[ $steps == *" inprocess "* ]]; then
		DIRSIZE_TREE="$tree/opt" DIRSIZE_FILES="$files" go test -run '^$' -bench '^BenchmarkDirsize$' \
			-benchtime 1x -timeout 180m ./checkscript | tee "$raw" >&2
	fi

	# 2. The daemon.
	if [[ $steps == *" daemon "* ]]; then
		if [[ $steps == *" inprocess "* ]] && [ -z "${DIRSIZE_TREE_DIR:-}" ]; then
			echo "dirsize: making the tree again for the daemon" >&2
			deploy/bench/mailstore-tree.sh remove "$tree"
			make_tree
		fi
		opt="$tree/opt"
		folders=("$opt" "$opt/zextras/store" "$opt/zextras/backup" "$opt/zextras/incoming" "$opt/zextras/cache")
		mkdir -p "$work/node"
		{
			echo 'node { roles = ["mailstore"] }'
			for key in opt store backup incoming cache; do
				case $key in opt) p=$opt ;; *) p=$opt/zextras/$key ;; esac
				present=""
				[ "$key" = opt ] || present="if_present = \"$p\""
				printf 'override "all" "disk-%s" {\n  %s\n  check "size" {\n    args     = { p = "%s" }\n    interval = "15s"\n  }\n}\n' "$key" "$present" "$p"
			done
		} >"$work/node/node.hcl"
		start_dev_agent "$work"
		# du of each folder, now and after the changes.
		dus() { for f in "${folders[@]}"; do du -sxB1 "$f" | cut -f1; done | paste -sd' '; }
		# figures: each folder's figure in the agent ("-" while none), in order.
		figures() {
			curl -fsS "http://127.0.0.1:$port/v1/agent/checks" | python3 -c '
import json, sys, re
checks = json.load(sys.stdin)
out = {}
for c in checks.values():
    m = re.match(r"DIRSIZE \w+ - (\S+) (\d+) B used", c["Output"])
    if m: out[m.group(1)] = m.group(2)
print(" ".join(out.get(p, "-") for p in sys.argv[1:]))' "${folders[@]}"
		}
		ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
		hz=$(getconf CLK_TCK)
		# shows WANT: the agent shows WANT (figures).
		shows() { [ "$(figures)" = "$1" ]; }
		shows_not() { echo "dirsize: the daemon's figures $(figures), du $1"; }
		want=$(dus)
		# The Go runtime's heap at each collection (gctrace: no cost between
		# them) beside /proc's figures every half second, in the timeline.
		GODEBUG=gctrace=1 "${DIRSIZE_DAEMON:-bin/carbonio-health}" run -http-addr "127.0.0.1:$port" -config-dir "$work/node" \
			-agent-config-dir "$work/consul.d" -metrics-addr 127.0.0.1:0 -full-output -log-level warn 2>>"$work/daemon.log" &
		daemon=$!
		phase() { echo "$1" >"$work/phase"; }
		phase first-walk
		(
			t0=$(date +%s.%N)
			echo "# s phase VmHWM VmRSS RssAnon RssFile (kB, in /proc's order)"
			while [ -e "/proc/$daemon/status" ]; do
				printf '%s %s %s\n' "$(awk -v t0="$t0" -v t="$(date +%s.%N)" 'BEGIN {printf "%.1f", t-t0}')" "$(cat "$work/phase")" \
					"$(awk '/^(VmRSS|RssAnon|RssFile|VmHWM):/ {printf "%s ", $2}' "/proc/$daemon/status")"
				sleep 0.5
			done
		) >"$raw_memory" 2>/dev/null &
		sampler=$!
		first=$(wait_until shows shows_not "$want")
		c0=$(ticks "$daemon")
		phase changes
		DIRSIZE_CHANGE="$files:$((files / 100)):${DIRSIZE_DAEMON_SEED:-99}:$opt" go test -run '^$' -bench '^BenchmarkDirsizeChangeChild$' -benchtime 1x ./checkscript >/dev/null
		phase after-changes
		sync # written back now (the kernel would within 35 s): du walks a tree that stays put
		want2=$(dus)
		again=$(wait_until shows shows_not "$want2")
		c1=$(ticks "$daemon")
		phase settled
		sleep "${DIRSIZE_SETTLED:-20}" # the memory after the burst, for the timeline
		{
			echo "files $files"
			echo "du-first $want"
			echo "first-walk-s $first"
			echo "du-after $want2"
			echo "after-changes-s $again"
			echo "cpu-after-changes-s $(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {printf "%.2f", (b-a)/hz}')"
			awk '/VmHWM|VmRSS|RssAnon|RssFile/ {print $1, $2}' "/proc/$daemon/status"
		} | tee "$raw_daemon" >&2
		kill "$daemon" "$agent"
		wait "$daemon" "$agent" 2>/dev/null || true
		grep '^gc ' "$work/daemon.log" >"$raw_gctrace" || true
		daemon= agent= sampler=
	fi

	# 3. O(1) where the filesystem counts.
	if [[ $steps == *" counted "* ]]; then
		TMPDIR="$tree" go test -run '^$' -bench '^BenchmarkDirsizeCounted$' -benchtime 1x -timeout 30m ./checkscript | tee "$raw_counted" >&2
	fi
fi

# m NAME: the value printed before NAME on the benchmark line.
m() { awk -v u="$1" '/^BenchmarkDirsize-/ { for (i = 2; i <= NF; i++) if ($i == u) print $(i-1) }' "$raw"; }
# r NAME [DIGITS]: the metric rounded (to DIGITS decimals, 0 by default).
r() { awk -v v="$(m "$1")" -v d="${2:-0}" 'BEGIN { printf "%.*f", d, v }'; }
# each FORMAT NAME...: per round (r1, r2, ...), the metrics NAME-rN
# formatted, joined by " / ".
each() {
	local fmt=$1 out="" i
	shift
	for ((i = 1; i <= $(r rounds); i++)); do
		local args=()
		for n in "$@"; do args+=("$(m "$n-r$i")"); done
		# shellcheck disable=SC2059
		out+="${out:+ / }$(printf "$fmt" "${args[@]}")"
	done
	printf '%s' "$out"
}
# d NAME: a value of the daemon's raw file.
d() { awk -v n="$1" '$1 == n || $1 == n":" { $1 = ""; sub(/^ /, ""); print }' "$raw_daemon"; }

# Each table from its raw file, when the steps run wrote it (DIRSIZE_STEPS may
# pick some of them).
if [ -s "$raw" ]; then
	same=$(awk -v s="$(m same-bytes)" -v o="$(m same-bytes-at-once)" 'BEGIN { print (s == 1 ? "yes" : "no") (o == 1 ? ", at once" : ", once writeback was due (not at once)") }')
	echo "In-process (BenchmarkDirsize): the five folders as the daemon starts them, one tree."
	echo
	printf '| tree | first walk: unthrottled / default --rate | one-shot walk (outer folder) | re-measure of the five, 1 s after %s changes, each round: wall (CPU) | du -sxB1 of the five, each round: wall (CPU) | du / re-measure, lowest: wall (CPU) | events and lookups meanwhile, each round (CPU) | du / all CPU of the round (events, look-ups, re-measure, look-ups after writeback), each round | re-measure right after the changes: wall (CPU), du / it, du / all CPU of the round | same bytes as du, every folder, every round | tree heap per file / child peak RSS per file |\n' "$(r changed-files)"
	echo '|---|---|---|---|---|---|---|---|---|---|---|'
	printf '| %s files, %s folders | %s ms / %s ms | %s ms | %s | %s | %s× (%s×) | %s | %s | %s ms (%s ms), %s× (%s×), %s× | %s | %s B / %s B |\n' \
		"$(r files)" "$(r folders)" "$(r first-walk-ms)" "$(r first-walk-throttled-ms)" "$(r oneshot-walk-ms)" \
		"$(each '%.1f ms (%.1f ms)' remeasure-ms remeasure-cpu-ms)" "$(each '%.0f ms (%.0f ms)' du-ms du-cpu-ms)" \
		"$(r du-over-remeasure-min)" "$(r du-over-remeasure-cpu-min)" "$(each '%.0f ms' events-cpu-ms)" "$(each '%.0f×' du-over-all-cpu)" \
		"$(r remeasure-ms-rnow 1)" "$(r remeasure-cpu-ms-rnow 1)" "$(r du-over-remeasure-rnow)" "$(r du-over-remeasure-cpu-rnow)" "$(r du-over-all-cpu-rnow)" \
		"$same" "$(r heap-B/file 2)" "$(r peak-rss-B/file 2)"
	echo
fi
if [ -s "$raw_daemon" ]; then
	echo "The whole daemon (carbonio-health run, role mailstore, the five size checks on the tree at a 15 s interval, -full-output to read the figures):"
	echo
	echo '| files | first figures of the five = du after | all five = du again after 1 % changed | daemon CPU meanwhile | peak RSS (VmHWM) | of which the binary pages (RssFile) / memory (RssAnon), at the end |'
	echo '|---|---|---|---|---|---|'
	printf '| %s | %s s | %s s | %s s | %.1f MiB | %.1f / %.1f MiB |\n' "$(d files)" "$(d first-walk-s)" "$(d after-changes-s)" "$(d cpu-after-changes-s)" \
		"$(awk '{print $1/1024}' <<<"$(d VmHWM)")" "$(awk '{print $1/1024}' <<<"$(d RssFile)")" "$(awk '{print $1/1024}' <<<"$(d RssAnon)")"
	echo
fi
if [ -s "$raw_counted" ]; then
	echo "A folder that is the root of its filesystem, counted by it in O(1) (statfs, less the constant a walk found at the start):"
	echo
	echo '| filesystem | inodes in use | a run | du -sxB1 | du / a run | same bytes as du |'
	echo '|---|---|---|---|---|---|'
	awk '/^BenchmarkDirsizeCounted\// {
		split($1, p, "/"); kind = p[2]; sub(/-[0-9]+$/, "", kind)
		for (i = 2; i <= NF; i++) { v[$i] = $(i-1) }
		printf "| %s | %d | %.1f µs | %.0f ms | %.0f× | %s |\n", kind, v["inodes"], v["run-µs"], v["du-ms"], v["du-over-run"], (v["same-bytes"] == 1 ? "yes" : "no")
	}' "$raw_counted"
fi

#!/usr/bin/env bash
# dirsize (deploy/bench/README.md, item 6): BenchmarkDirsize on a generated tree of
# $DIRSIZE_FILES files (500,000) in $DIRSIZE_DIRS folders (5,000) under $TMPDIR
# (deleted at the end): the index's first walk, then $DIRSIZE_ROUNDS rounds (3)
# of 1% of the files changed, re-measured a second later, and GNU du -sB1 /
# -sxB1 on the same tree (du first in every other round), then one round
# re-measured right after the changes; plus the index's memory per entry.
# Raw output to $1 (default deploy/bench/raw/dirsize.txt); prints the markdown
# table.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
raw=${1:-$repo/deploy/bench/raw/dirsize.txt}
cd "$repo"
# DIRSIZE_REUSE=1 only formats an existing raw file again.
if [ "${DIRSIZE_REUSE:-}" != 1 ]; then
	go test -run '^$' -bench '^BenchmarkDirsize$' -benchtime 1x -timeout 60m ./checkscript >"$raw"
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

same=$(awk -v s="$(m same-bytes)" 'BEGIN { print (s == 1 ? "yes" : "no") }')
printf '| tree | first walk: unthrottled / default --rate | one-shot walk | re-measure 1 s after %s changes, each round: wall (CPU) | du -sxB1, each round: wall (CPU) | du -sxB1 / re-measure, lowest: wall (CPU) | events and lookups meanwhile, each round (CPU) | du -sxB1 / all the CPU, each round | re-measure right after the changes: wall (CPU), du / it, du / all the CPU | same bytes as du | index heap / peak RSS per entry |\n' "$(r changed-files)"
echo '|---|---|---|---|---|---|---|---|---|---|---|'
printf '| %s files, %s folders | %s ms / %s ms | %s ms | %s | %s | %s× (%s×) | %s | %s | %s ms (%s ms), %s× (%s×), %s× | %s (%s B) | %s B / %s B |\n' \
	"$(r files)" "$(r folders)" "$(r first-walk-ms)" "$(r first-walk-throttled-ms)" "$(r oneshot-walk-ms)" \
	"$(each '%.2f ms (%.2f ms)' remeasure-ms remeasure-cpu-ms)" "$(each '%.0f ms (%.0f ms)' du-sxB1-ms du-sxB1-cpu-ms)" \
	"$(r du-over-remeasure-min)" "$(r du-over-remeasure-cpu-min)" "$(each '%.0f ms' events-cpu-ms)" "$(each '%.0f×' du-over-all-cpu)" \
	"$(r remeasure-ms-rnow 1)" "$(r remeasure-cpu-ms-rnow 1)" "$(r du-over-remeasure-rnow)" "$(r du-over-remeasure-cpu-rnow)" "$(r du-over-all-cpu-rnow)" \
	"$same" "$(m bytes)" "$(r heap-B/entry)" "$(r peak-rss-B/entry)"

#!/usr/bin/env bash
# dirsize (README "Benchmarks", item 6): BenchmarkDirsize on a generated tree of
# $DIRSIZE_FILES files (500,000) in $DIRSIZE_DIRS folders (5,000) under $TMPDIR
# (deleted at the end): the index's first walk, a re-measure after 1% of the
# files changed, and GNU du -sB1 / -sxB1 on the same tree in the same run, plus
# the index's memory per entry. Raw output to $1 (default
# deploy/bench/raw/dirsize.txt); prints the markdown table.
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

same=$(awk -v s="$(m same-bytes)" 'BEGIN { print (s == 1 ? "yes" : "no") }')
# r NAME: the metric rounded to an integer.
r() { awk -v v="$(m "$1")" 'BEGIN { printf "%.0f", v }'; }

printf '| tree | first walk: unthrottled / default --rate | one-shot walk | re-measure after %s changes: wall (CPU) | du -sB1 | du -sxB1: wall (CPU) | du -sxB1 / re-measure: wall (CPU) | same bytes as du | reading the events meanwhile (CPU) | index heap / peak RSS per entry |\n' "$(r changed-files)"
echo '|---|---|---|---|---|---|---|---|---|---|'
printf '| %s files, %s folders | %s ms / %s ms | %s ms | %s ms (%s ms) | %s ms | %s ms (%s ms) | %s× (%s×) | %s (%s B) | %s ms | %s B / %s B |\n' \
	"$(r files)" "$(r folders)" "$(r first-walk-ms)" "$(r first-walk-throttled-ms)" "$(r oneshot-walk-ms)" \
	"$(m remeasure-ms)" "$(m remeasure-cpu-ms)" "$(r du-sB1-ms)" "$(r du-sxB1-ms)" "$(r du-sxB1-cpu-ms)" \
	"$(r du-over-remeasure)" "$(r du-over-remeasure-cpu)" "$same" "$(m bytes)" "$(r events-cpu-ms)" \
	"$(r heap-B/entry)" "$(r peak-rss-B/entry)"
